"""Push throughput through the real HTTP stack, next to a plain-insert floor in the same run.

    .venv/bin/python -m bench.push

For SQLite (a temporary file) and PostgreSQL (a throwaway database on 127.0.0.1:5432):

- push: gunicorn serves `server:create_app()` on loopback with 2 workers; two client
  threads, each signed in as an auditor with its own device, push batches of 100 ops
  (50 findings and the 50 answers of one audit) through `POST /api/sync/push` - CSRF,
  JSON, schema, permission and validation per op, the rows themselves, the sync-op
  record, the change feed and the hash-chained trail, one savepoint and one commit per
  batch (every op here is valid, so the op-by-op fallback is not taken).
- floor: the same finding and response rows inserted with SQLAlchemy Core, 100 rows per
  transaction, into a fresh database of the same kind with the same schema, measured
  before and after the push and averaged (the machine's load moves). A second,
  stricter floor also inserts the bookkeeping rows a push writes (sync_op, change,
  event) so the two can be told apart.

The ratio is push ops/s over floor rows/s. Goal (issue 3): at least 0.25.
"""

import cProfile
import http.client
import json
import pstats
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, insert

from server import create_app
from server.extensions import db
from server.models import Audit, Change, Event, Finding, Question, Response, SyncOp, Template, User
from server.schemas.sync import PushRequestSchema
from server.services import accounts, organisation, sync

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out" / "push.json"
POSTGRES_ADMIN = os.environ.get("GEMBA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BATCH = 100
QUESTIONS = BATCH // 2
BATCHES_PER_CLIENT = int(os.environ.get("GEMBA_BENCH_PUSH_BATCHES", "20"))
CLIENTS = 2
PASSWORD = "bench-password-123"
GOAL = 0.25


# ---------------------------------------------------------------- databases

@contextmanager
def sqlite_database():
    with tempfile.TemporaryDirectory(prefix="gemba-bench-") as directory:
        yield f"sqlite:///{directory}/bench.db"


@contextmanager
def postgres_database():
    name = f"gemba_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _app(url: str, photo_dir: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "GEMBA_PHOTO_DIR": photo_dir})


def prepare(url: str, photo_dir: str, audits_per_client: int) -> dict:
    """Migrate, then seed: an area, a 50-question checklist, and planned audits per auditor."""
    app = _app(url, photo_dir)
    with app.app_context():
        upgrade()
        site = organisation.create_site(None, "Bench")
        home = organisation.create_area(None, site, "Home")
        audited = organisation.create_area(None, site, "Audited")
        template = Template(name="Bench checklist", standard="ISO 9001:2015", status="published",
                            published_at=datetime.now(UTC))
        for position in range(1, QUESTIONS + 1):
            template.questions.append(Question(section="S", position=position, text=f"Q{position}?",
                                               kind="yes_no_na", options=[], clause=f"7.{position}"))
        db.session.add(template)
        db.session.flush()
        clients = []
        for n in range(CLIENTS):
            auditor = accounts.create_user(f"auditor{n}@bench.example", "auditor", PASSWORD, home_area=home)
            audits = []
            for _ in range(audits_per_client):
                audit = Audit(template_id=template.id, area_id=audited.id, auditor_id=auditor.id,
                              planned_date=date.today(), status="planned")
                db.session.add(audit)
                audits.append(audit)
            db.session.flush()
            clients.append({"email": auditor.email, "user_id": str(auditor.id),
                            "audits": [str(a.id) for a in audits]})
        seed = {"area_id": str(audited.id), "questions": [str(q.id) for q in template.questions],
                "clients": clients}
        db.session.commit()
        db.engine.dispose()
    return seed


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(url: str, photo_dir: str):
    port = free_port()
    env = os.environ | {"GEMBA_DATABASE_URL": url, "GEMBA_SECRET_KEY": "bench", "GEMBA_PHOTO_DIR": photo_dir}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--log-level", "warning", "server:create_app()"],
        cwd=ROOT, env=env,
    )
    try:
        deadline = time.monotonic() + 120  # a loaded machine imports slowly
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not come up")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


class Client:
    """One signed-in device on a keep-alive connection."""

    def __init__(self, port: int, email: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        body = self.call("POST", "/api/auth/login", {"email": email, "password": PASSWORD})
        self.csrf = body["csrf_token"]
        self.device_id = str(uuid.uuid4())
        self.seq = 0

    cookies: dict[str, str] = {}

    def call(self, method: str, path: str, payload=None) -> dict:
        headers = {"Content-Type": "application/json",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if getattr(self, "csrf", None):
            headers["X-CSRFToken"] = self.csrf
        self.connection.request(method, path, body=json.dumps(payload) if payload is not None else None,
                                headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for cookie in response.msg.get_all("Set-Cookie") or ():  # the session and the known-device cookie
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies = {**self.cookies, name: value}
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return json.loads(data)

    def batch(self, area_id: str, audit_id: str, questions: list[str]) -> list[dict]:
        ops = []
        now = datetime.now(UTC).isoformat()
        for n, question in enumerate(questions):
            for op in (
                {"entity": "finding", "fields": {"kind": "minor_nc", "title": f"Bench finding {self.seq}",
                                                 "description": "Found during the bench", "area_id": area_id,
                                                 "clause": "8.1", "location": "Line 1", "raised_at": now,
                                                 "photos": []}},
                {"entity": "response", "fields": {"audit_id": audit_id, "question_id": question,
                                                  "value": ("yes", "no", "na")[n % 3], "note": "", "photos": []}},
            ):
                self.seq += 1
                ops.append(op | {"op_id": str(uuid.uuid4()), "seq": self.seq, "id": str(uuid.uuid4()),
                                 "base_version": 0, "at": now})
        return ops

    def push(self, ops: list[dict]) -> None:
        answer = self.call("POST", "/api/sync/push", {"device_id": self.device_id, "ops": ops})
        bad = [r for r in answer["results"] if r["status"] != "applied"]
        if bad or len(answer["results"]) != len(ops):
            raise RuntimeError(f"push not applied: {bad[:2]}")


def measure_push(url: str, photo_dir: str) -> dict:
    seed = prepare(url, photo_dir, BATCHES_PER_CLIENT + 1)
    with gunicorn(url, photo_dir) as port:
        clients = [Client(port, c["email"]) for c in seed["clients"]]
        plans = []
        for client, info in zip(clients, seed["clients"]):
            batches = [client.batch(seed["area_id"], audit, seed["questions"]) for audit in info["audits"]]
            plans.append(batches)
        for client, batches in zip(clients, plans):  # warm up both workers' pools and caches
            client.push(batches[0])
        errors = []

        def run(client, batches):
            try:
                for ops in batches[1:]:
                    client.push(ops)
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=pair) for pair in zip(clients, plans)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if errors:
            raise errors[0]
    ops = CLIENTS * BATCHES_PER_CLIENT * BATCH
    return {"ops": ops, "seconds": round(elapsed, 3), "ops_per_s": round(ops / elapsed, 1)}


# ---------------------------------------------------------------- the floor

def floor_rows(seed: dict, batches: int, with_bookkeeping: bool) -> list[list[tuple]]:
    """Per 100-row transaction: (table, rows) pairs equivalent to one push batch."""
    now = datetime.now(UTC)
    user_id = uuid.UUID(seed["clients"][0]["user_id"])
    area_id = uuid.UUID(seed["area_id"])
    transactions = []
    seq = 0
    for b in range(batches):
        audit_id = uuid.UUID(seed["clients"][0]["audits"][b % len(seed["clients"][0]["audits"])])
        findings, responses, sync_ops, changes, events = [], [], [], [], []
        for n, question in enumerate(seed["questions"]):
            finding_id = uuid.uuid4()
            findings.append({"id": finding_id, "kind": "minor_nc", "clause": "8.1", "area_id": area_id,
                             "title": "Bench finding", "description": "Found during the bench", "location": "Line 1",
                             "raised_by_id": user_id, "raised_at": now, "received_at": now, "status": "open",
                             "status_reason": "", "version": 1, "field_versions": {"title": 1}, "updated_at": now})
            response_id = uuid.uuid4()
            responses.append({"id": response_id, "audit_id": audit_id, "question_id": uuid.UUID(question),
                              "value": "yes", "note": "", "answered_at": now, "answered_by_id": user_id,
                              "version": 1, "field_versions": {"value": 1}, "updated_at": now})
            for entity, record in (("finding", finding_id), ("response", response_id)):
                seq += 1
                sync_ops.append({"device_id": None, "op_id": uuid.uuid4(), "seq": seq, "entity": entity,
                                 "entity_id": str(record), "status": "applied", "result": {"status": "applied"},
                                 "received_at": now})
                changes.append({"entity": entity, "entity_id": str(record), "version": 1, "deleted": False,
                                "area_id": area_id, "user_id": user_id, "changed_at": now})
                events.append({"at": now, "actor_id": user_id, "action": f"{entity}.recorded", "entity": entity,
                               "entity_id": str(record), "changes": {}, "prev_hash": "0" * 64,
                               "hash": uuid.uuid4().hex * 2})
        tables = [(Finding.__table__, findings), (Response.__table__, responses)]
        if with_bookkeeping:
            tables += [(SyncOp.__table__, sync_ops), (Change.__table__, changes), (Event.__table__, events)]
        transactions.append(tables)
    return transactions


def measure_floor(url: str, photo_dir: str, with_bookkeeping: bool) -> dict:
    batches = CLIENTS * BATCHES_PER_CLIENT
    seed = prepare(url, photo_dir, batches)
    if with_bookkeeping:
        device_id = _make_device(url, seed)
    engine = create_engine(url)
    transactions = floor_rows(seed, batches, with_bookkeeping)
    if with_bookkeeping:
        for tables in transactions:
            for table, rows in tables:
                if table is SyncOp.__table__:
                    for row in rows:
                        row["device_id"] = device_id
    started = time.perf_counter()
    for tables in transactions:
        with engine.begin() as connection:
            for table, rows in tables:
                connection.execute(insert(table), rows)
    elapsed = time.perf_counter() - started
    engine.dispose()
    rows = batches * BATCH
    return {"rows": rows, "seconds": round(elapsed, 3), "rows_per_s": round(rows / elapsed, 1)}


def _make_device(url: str, seed: dict) -> uuid.UUID:
    from server.models import Device

    engine = create_engine(url)
    device_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(insert(Device.__table__), [{"id": device_id, "user_id": uuid.UUID(seed["clients"][0]["user_id"]),
                                                       "label": "", "last_seq": 0, "created_at": datetime.now(UTC),
                                                       "last_seen_at": datetime.now(UTC)}])
    engine.dispose()
    return device_id


# ---------------------------------------------------------------- what bounds it

# (file, function) whose cumulative time is reported; the shares overlap (a trail record
# includes its flush), so they do not add up to one.
PROFILED = {
    "orm_flush": ("sqlalchemy/orm/session.py", "flush"),
    "trail_record": ("server/services/trail.py", "record"),
    "marshmallow_load": ("marshmallow/schema.py", "load"),
    "driver_execute": ("sqlalchemy/engine/default.py", "do_execute"),
}


def profile_push(url: str, photo_dir: str) -> dict:
    """One 100-op batch through the push service in this process, under cProfile."""
    seed = prepare(url, photo_dir, 2)
    app = _app(url, photo_dir)
    with app.app_context():
        statements = {"n": 0}

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*args, **kwargs):
            statements["n"] += 1

        user = db.session.get(User, uuid.UUID(seed["clients"][0]["user_id"]))
        device = Client.__new__(Client)
        device.seq, device.device_id = 0, str(uuid.uuid4())
        batches = [device.batch(seed["area_id"], audit, seed["questions"]) for audit in seed["clients"][0]["audits"]]

        def push(ops):
            data = PushRequestSchema().load({"device_id": device.device_id, "ops": ops})
            sync.apply_push(user, data["device_id"], data["ops"])
            db.session.commit()

        push(batches[0])  # warm caches
        statements["n"] = 0
        profiler = cProfile.Profile()
        profiler.enable()
        push(batches[1])
        profiler.disable()
        db.engine.dispose()
    stats = pstats.Stats(profiler).stats
    total = max(row[3] for row in stats.values())
    shares = {}
    for name, (file, function) in PROFILED.items():
        times = [row[3] for (path, _, func), row in stats.items() if path.endswith(file) and func == function]
        # cumulative times of nested calls overlap; the outermost call is the largest
        shares[name] = round(max(times, default=0) / total, 2)
    return {"statements_per_op": round(statements["n"] / BATCH, 1), "share_of_time": shares}


# ---------------------------------------------------------------- run

def run_backend(name: str, database) -> dict:
    with tempfile.TemporaryDirectory(prefix="gemba-bench-photos-") as photo_dir:
        # The floor is measured before and after the push and averaged, so that a change
        # in the machine's load during the run shifts both sides alike.
        with database() as url:
            before = measure_floor(url, photo_dir, with_bookkeeping=False)
        with database() as url:
            push = measure_push(url, photo_dir)
        with database() as url:
            after = measure_floor(url, photo_dir, with_bookkeeping=False)
        with database() as url:
            strict = measure_floor(url, photo_dir, with_bookkeeping=True)
        with database() as url:
            profile = profile_push(url, photo_dir)
    floor = {"rows_per_s": round((before["rows_per_s"] + after["rows_per_s"]) / 2, 1),
             "before_push": before, "after_push": after}
    ratio = push["ops_per_s"] / floor["rows_per_s"]
    result = {
        "push": push,
        "profile": profile,
        "floor": floor,
        "floor_with_bookkeeping": strict,
        "ratio": round(ratio, 3),
        "ratio_to_floor_with_bookkeeping": round(push["ops_per_s"] / strict["rows_per_s"], 3),
        "goal": GOAL,
        "met": ratio >= GOAL,
    }
    print(f"{name:10} push {push['ops_per_s']:>8.0f} ops/s ({push['ops']} ops in {push['seconds']} s) | "
          f"floor {floor['rows_per_s']:>8.0f} rows/s | ratio {ratio:.3f} (goal >= {GOAL}) | "
          f"floor incl. sync_op/change/event rows {strict['rows_per_s']:.0f} rows/s, "
          f"ratio {result['ratio_to_floor_with_bookkeeping']:.3f}", flush=True)
    print(f"{'':10} profile of one batch in-process: {profile['statements_per_op']} SQL statements per op; "
          f"share of time: " + ", ".join(f"{k} {v:.0%}" for k, v in profile["share_of_time"].items()), flush=True)
    return result


def main() -> dict:
    print(f"Push throughput: {CLIENTS} clients x {BATCHES_PER_CLIENT} batches of {BATCH} ops "
          f"(50 findings + 50 answers), gunicorn with 2 workers on 127.0.0.1", flush=True)
    results = {
        "batch": BATCH,
        "clients": CLIENTS,
        "batches_per_client": BATCHES_PER_CLIENT,
        "sqlite": run_backend("sqlite", sqlite_database),
        "postgresql": run_backend("postgresql", postgres_database),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {OUT.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    main()
