"""Push under contention on PostgreSQL: how long each batch holds the global feed lock.

    .venv/bin/python -m bench push_lock

16 devices (GEMBA_BENCH_DEVICES), each its own process with its own connection, push 12
(GEMBA_BENCH_LOCK_BATCHES) batches of 100 ops (50 findings + 50 answers) through
`sync.apply_push` and commit - the whole server-side work of a push without HTTP. Two
modes in the same run, on fresh databases of the same seed:
- `whole batch`: the lock taken right after claiming the device (the behaviour before
  issue 12, `GEMBA_PUSH_LOCK_WHOLE_BATCH`);
- `ordered writes`: the lock taken only when the feed, trail and op rows are written.
Reported: ops/s, batch p50/p95, and the share of each batch's time the lock was held
(from `serialise.HELD`). A single device's push (one process) is measured in both modes
too. Figures with the machine's load average.
"""

import multiprocessing
import os
import time
import uuid
from datetime import UTC, date, datetime

from bench.push import PASSWORD, postgres_database
from server import create_app
from server.extensions import db
from server.models import Audit, Question, Template
from server.services import accounts, organisation, serialise, sync

DEVICES = int(os.environ.get("GEMBA_BENCH_DEVICES", "16"))
# With 4, the first batch's warm-up swamped one device's figure (984 against 1,525 ops/s
# between two modes that differ in nothing for a single device).
BATCHES = int(os.environ.get("GEMBA_BENCH_LOCK_BATCHES", "12"))
QUESTIONS = 50


def _app(url: str, whole: bool):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "GEMBA_PHOTO_DIR": "/tmp/gemba-bench",
                       "GEMBA_PUSH_LOCK_WHOLE_BATCH": whole})


def seed(url: str, devices: int) -> dict:
    from flask_migrate import upgrade

    app = _app(url, False)
    with app.app_context():
        upgrade()
        site = organisation.create_site(None, "Bench")
        home = organisation.create_area(None, site, "Home")
        audited = organisation.create_area(None, site, "Audited")
        template = Template(name="Bench", standard="ISO 9001:2015", status="published", published_at=datetime.now(UTC))
        for position in range(1, QUESTIONS + 1):
            template.questions.append(Question(section="S", position=position, text=f"Q{position}?",
                                               kind="yes_no_na", options=[], clause=f"7.{position}"))
        db.session.add(template)
        db.session.flush()
        people = []
        for n in range(devices):
            auditor = accounts.create_user(f"a{n}@bench.example", "auditor", PASSWORD, home_area=home)
            audits = [Audit(template_id=template.id, area_id=audited.id, auditor_id=auditor.id,
                            planned_date=date.today(), status="planned") for _ in range(BATCHES)]
            db.session.add_all(audits)
            db.session.flush()
            people.append({"user_id": auditor.id, "audits": [a.id for a in audits]})
        out = {"area_id": audited.id, "questions": [q.id for q in template.questions], "people": people}
        db.session.commit()
        db.engine.dispose()
    return out


def _batch(seq: int, area_id, audit_id, questions) -> tuple[list[dict], int]:
    now = datetime.now(UTC)
    ops = []
    for question in questions:
        for entity, fields in (
            ("finding", {"kind": "minor_nc", "title": "Bench finding", "area_id": str(area_id),
                         "raised_at": now.isoformat(), "photos": []}),
            ("response", {"audit_id": str(audit_id), "question_id": str(question), "value": "yes"}),
        ):
            seq += 1
            ops.append({"op_id": uuid.uuid4(), "seq": seq, "entity": entity, "id": str(uuid.uuid4()),
                        "base_version": None, "fields": fields, "at": now})
    return ops, seq


def _device(url: str, whole: bool, person: dict, area_id, questions, start, out) -> None:
    app = _app(url, whole)
    with app.app_context():
        from server.models import User

        user = db.session.get(User, person["user_id"])
        device_id = uuid.uuid4()
        batches, seq = [], 0
        for audit_id in person["audits"]:
            ops, seq = _batch(seq, area_id, audit_id, questions)
            batches.append(ops)
        db.session.commit()
        start.wait()
        times, held = [], 0.0
        for ops in batches:
            before = serialise.HELD["seconds"]
            began = time.perf_counter()
            result = sync.apply_push(user, device_id, ops)
            db.session.commit()
            times.append(time.perf_counter() - began)
            held += serialise.HELD["seconds"] - before
            assert all(r["status"] == "applied" for r in result.results), result.results[:2]
        db.engine.dispose()
    out.put({"times": times, "held": held})


def run(url: str, whole: bool, devices: int) -> dict:
    data = seed(url, devices)
    start = multiprocessing.Barrier(devices + 1)
    out = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=_device, args=(url, whole, person, data["area_id"],
                                                                data["questions"], start, out))
                 for person in data["people"]]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    results = [out.get(timeout=600) for _ in processes]
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
    times = sorted(t for r in results for t in r["times"])
    busy = sum(times)
    ops = len(times) * QUESTIONS * 2
    return {"devices": devices, "ops": ops, "seconds": round(elapsed, 2), "ops_per_s": round(ops / elapsed, 1),
            "batch_p50_ms": round(times[len(times) // 2] * 1000, 1),
            "batch_p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))] * 1000, 1),
            "lock_share": round(sum(r["held"] for r in results) / busy, 3),
            "lock_ms_per_batch": round(sum(r["held"] for r in results) / len(times) * 1000, 1)}


def main() -> dict:
    figures = {}
    print(f"Push with the feed lock: {DEVICES} devices x {BATCHES} batches of 100 ops on PostgreSQL, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    for devices in (1, DEVICES):
        for whole in (True, False):
            with postgres_database() as url:
                figure = run(url, whole, devices)
            name = f"{devices} device(s), lock for the {'whole batch' if whole else 'ordered writes'}"
            figures[name] = figure
            print(f"  {name:52} {figure['ops_per_s']:8.1f} ops/s  batch p50 {figure['batch_p50_ms']:7.1f} ms  "
                  f"p95 {figure['batch_p95_ms']:7.1f} ms  lock held {figure['lock_ms_per_batch']:6.1f} ms a batch "
                  f"({figure['lock_share'] * 100:4.1f} % of batch time)",
                  flush=True)
    print(f"  load after: {os.getloadavg()[0]:.2f}", flush=True)
    return figures


if __name__ == "__main__":
    main()
