"""What notifications cost a push, and how fast the worker delivers webhooks, next to floors in the same run.

    .venv/bin/python -m bench.notify

For SQLite (a temporary file) and PostgreSQL (a throwaway database on 127.0.0.1:5432):

- push: 100-op batches (50 major nonconformities + 50 answers) through the push service
  in this process (`sync.apply_push`, one commit per batch), with a webhook subscribed
  to `finding.raised` and two supervisors of the site: each finding writes its outbox
  event inside the push's own transaction (the worker expands it into notifications and
  deliveries afterwards). The floor is the same batches with the hook switched off,
  alternated with it batch by batch so the machine's load moves both alike. Goal:
  within 10 %. Then the worker's expansion of those events is timed (notifications and
  deliveries written per second).
- webhooks: 10,000 deliveries queued, then `worker.deliver_webhooks` until none is due,
  to a receiver in another process (ThreadingHTTPServer, HTTP/1.1 keep-alive, 200).
  The floor: the same 10,000 signed bodies POSTed from this process over the same number
  of parallel kept-alive connections, with nothing read from or written to the
  database; a tenth of each in turn, ten times. Goal: at least 0.5 of the floor's rate.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.push import BATCH, Client, _app, postgres_database, prepare, sqlite_database
from server.extensions import db
from server.models import Area, Delivery, Notification, OutboxEvent, User, WebhookDelivery
from server.schemas.sync import PushRequestSchema
from server.services import accounts, notify, sync, webhooks, worker

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out" / "notify.json"
PUSH_BATCHES = int(os.environ.get("GEMBA_BENCH_NOTIFY_BATCHES", "20"))  # per side
DELIVERIES = int(os.environ.get("GEMBA_BENCH_WEBHOOKS", "10000"))
ROUNDS = 10
PUSH_GOAL = 0.90
WEBHOOK_GOAL = 0.5

RECEIVER = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


# ---------------------------------------------------------------- push with and without events

def measure_push(url: str, photo_dir: str) -> dict:
    seed = prepare(url, photo_dir, 2 * PUSH_BATCHES + 1)
    app = _app(url, photo_dir)
    with app.app_context():
        area = db.session.get(Area, uuid.UUID(seed["area_id"]))
        for n in range(2):
            supervisor = accounts.create_user(f"supervisor{n}@bench.example", "supervisor", "bench-password-123")
            supervisor.sites = [area.site]
        admin = accounts.create_user("admin@bench.example", "admin", "bench-password-123")
        webhooks.create_webhook(admin, "http://127.0.0.1:9/never-called", ["finding.raised"])
        db.session.commit()
        user = db.session.get(User, uuid.UUID(seed["clients"][0]["user_id"]))
        device = Client.__new__(Client)
        device.seq, device.device_id = 0, str(uuid.uuid4())
        batches = []
        for audit in seed["clients"][0]["audits"]:
            ops = device.batch(seed["area_id"], audit, seed["questions"])
            for op in ops:
                if op["entity"] == "finding":
                    op["fields"]["kind"] = "major_nc"
            batches.append(ops)
        real_hook = notify.finding_raised
        timings = {True: 0.0, False: 0.0}

        def push(ops, events: bool) -> None:
            notify.finding_raised = real_hook if events else (lambda *args, **kwargs: None)
            try:
                started = time.perf_counter()
                data = PushRequestSchema().load({"device_id": device.device_id, "ops": ops})
                result = sync.apply_push(user, data["device_id"], data["ops"])
                db.session.commit()
                timings[events] += time.perf_counter() - started
            finally:
                notify.finding_raised = real_hook
            if any(r["status"] != "applied" for r in result.results):
                raise RuntimeError("push not applied")

        push(batches[0], True)  # warm caches
        timings = {True: 0.0, False: 0.0}
        for n, ops in enumerate(batches[1:]):
            push(ops, n % 2 == 0)
        events = db.session.scalar(select(func.count()).select_from(OutboxEvent))
        started = time.perf_counter()
        while notify.expand():
            db.session.commit()
        db.session.commit()
        expand_seconds = time.perf_counter() - started
        deliveries = db.session.scalar(select(func.count()).select_from(WebhookDelivery))
        told = db.session.scalar(select(func.count()).select_from(Notification))
        db.engine.dispose()
    ops = PUSH_BATCHES * BATCH
    with_events, without = ops / timings[True], ops / timings[False]
    return {"ops_per_side": ops, "with_events_ops_per_s": round(with_events, 1),
            "without_events_ops_per_s": round(without, 1), "ratio": round(with_events / without, 3),
            "outbox_events": events, "expanded_into_notifications": told, "webhook_deliveries": deliveries,
            "expand_events_per_s": round(events / expand_seconds, 1), "goal": PUSH_GOAL,
            "met": with_events / without >= PUSH_GOAL}


# ---------------------------------------------------------------- webhook delivery rate

def _receiver():
    process = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}/hook"


def _queue(count: int, hook_id) -> None:
    now = datetime.now(UTC)
    for start in range(0, count, 1000):
        events, deliveries = [], []
        for n in range(start, min(count, start + 1000)):
            event_id = uuid.uuid4()
            events.append({"id": event_id, "kind": "finding.raised", "at": now, "entity": "finding",
                           "entity_id": str(uuid.uuid4()), "data": {"title": f"Bench finding {n}", "n": n},
                           "expanded": True})
            deliveries.append({"id": uuid.uuid4(), "webhook_id": hook_id, "event_id": event_id, "state": Delivery.PENDING,
                               "attempts": 0, "created_at": now, "next_at": now, "last_error": ""})
        db.session.execute(insert(OutboxEvent.__table__), events)
        db.session.execute(insert(WebhookDelivery.__table__), deliveries)
    db.session.commit()


def plain_posts(url: str, bodies: list[bytes], secret: str) -> float:
    """POST every body from this process over SENDERS kept-alive connections; seconds taken."""
    chunks = [bodies[i::worker.SENDERS] for i in range(worker.SENDERS)]
    errors = []

    def send(chunk):
        for body in chunk:
            timestamp = str(int(time.time()))
            headers = {"Content-Type": "application/json", "X-Gemba-Event": "finding.raised",
                       "X-Gemba-Delivery": str(uuid.uuid4()), "X-Gemba-Timestamp": timestamp,
                       "X-Gemba-Signature": worker.signature(secret, timestamp, body)}
            if worker._post(url, body, headers, 10) != 200:
                errors.append("not 200")

    threads = [threading.Thread(target=send, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(errors[0])
    return time.perf_counter() - started


def measure_webhooks(url: str, photo_dir: str) -> dict:
    receiver, hook_url = _receiver()
    try:
        app = _app(url, photo_dir)
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
            admin = accounts.create_user("admin@bench.example", "admin", "bench-password-123")
            hook = webhooks.create_webhook(admin, hook_url, ["finding.raised"])
            db.session.commit()
            _queue(DELIVERIES, hook.id)
            secret = hook.secret
            bodies = [worker.body_of(e) for e in db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))]
            db.session.commit()
            # Alternate: ROUNDS times, plain POSTs of a tenth of the bodies, then the worker
            # delivering a tenth of the queue, so the machine's load moves both alike.
            result = worker.Round()
            elapsed = floor = 0.0
            size = DELIVERIES // ROUNDS
            for n in range(ROUNDS):
                floor += plain_posts(hook_url, bodies[n * size:(n + 1) * size], secret)
                started = time.perf_counter()
                worker.deliver_webhooks(datetime.now(UTC), result, batch=size)
                elapsed += time.perf_counter() - started
            sent = db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                     .where(WebhookDelivery.state == Delivery.SENT))
            db.engine.dispose()
        if sent != DELIVERIES or result.webhooks != DELIVERIES:
            raise RuntimeError(f"delivered {sent} of {DELIVERIES}")
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    rate, floor_rate = DELIVERIES / elapsed, DELIVERIES / floor
    return {"deliveries": DELIVERIES, "seconds": round(elapsed, 2), "per_s": round(rate, 1),
            "plain_post_per_s": round(floor_rate, 1), "plain_post_seconds": round(floor, 2),
            "ratio": round(rate / floor_rate, 3),
            "goal": WEBHOOK_GOAL, "met": rate / floor_rate >= WEBHOOK_GOAL}


def run_backend(name: str, database) -> dict:
    with tempfile.TemporaryDirectory(prefix="gemba-bench-photos-") as photo_dir:
        with database() as url:
            push = measure_push(url, photo_dir)
        print(f"{name:10} push with events {push['with_events_ops_per_s']:>7.0f} ops/s, without "
              f"{push['without_events_ops_per_s']:>7.0f} ops/s: ratio {push['ratio']:.3f} (goal >= {PUSH_GOAL}); "
              f"{push['outbox_events']} events written in the pushes; the worker expanded them into "
              f"{push['expanded_into_notifications']} notifications and {push['webhook_deliveries']} deliveries at "
              f"{push['expand_events_per_s']:.0f} events/s | {load()}", flush=True)
        with database() as url:
            hooks = measure_webhooks(url, photo_dir)
        print(f"{name:10} worker {hooks['per_s']:>7.0f} webhooks/s ({hooks['deliveries']} in {hooks['seconds']} s), "
              f"plain POSTs {hooks['plain_post_per_s']:>7.0f}/s: ratio {hooks['ratio']:.3f} (goal >= {WEBHOOK_GOAL}) | {load()}", flush=True)
    return {"push": push, "webhooks": hooks}


def main() -> dict:
    print(f"Notifications: {PUSH_BATCHES} push batches of {BATCH} ops each way; {DELIVERIES} webhooks; {load()}",
          flush=True)
    results = {"sqlite": run_backend("sqlite", sqlite_database),
               "postgresql": run_backend("postgresql", postgres_database)}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {OUT.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    main()
