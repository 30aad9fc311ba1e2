"""Sync at scale on PostgreSQL: first syncs and no-change pulls against a large register.

    .venv/bin/python -m bench sync_scale

1. A throwaway PostgreSQL database, migrated, seeded with COPY by bench/register_scale's
   seeder (100,000 findings, 500,040 responses, 8,334 audits, 50,000 actions over two
   years; GEMBA_BENCH_FINDINGS scales findings and actions), then one feed row per record
   and its audience rows written by INSERT ... SELECT in the database, as the app would
   have addressed them.
2. Through the Flask test client (session, permissions, SQL, JSON; gzip asked for):
   - first sync (every snapshot page; the requests' time, best of 3) of a staff phone and
     of an auditor tablet, next to the floor: one SQL query for exactly the records that
     person's device holds (best of 3);
   - a supervisor tablet subscribed to one site, last 90 days: first sync time, and the
     bytes on the wire (gzip) and unzipped next to the records' own JSON;
   - a no-change incremental pull's p95 for the staff phone as others' changes grow
     (10,000 then 100,000 more feed rows addressed to other people and areas; up to
     GEMBA_BENCH_OTHERS), next to /healthz as the floor.
Goals (issue 12): first sync <= 10x its floor and <= 1 s; no-change pull p95 <= 20 ms and
flat; the supervisor's first sync <= 10 s, bytes <= 1.5x the records' JSON.
"""

import gzip
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg
from flask_migrate import upgrade

from bench import register_scale
from bench.register_scale import ADMIN_URL, PASSWORD, Seeder, _with_database, percentile
from server import create_app
from server.extensions import db

OUT = Path(__file__).resolve().parent / "out" / "sync_scale.json"
FINDINGS = int(os.environ.get("GEMBA_BENCH_FINDINGS", "100000"))
OTHERS = [int(n) for n in os.environ.get("GEMBA_BENCH_OTHERS", "10000,100000").split(",")]
SAMPLES = 60
RUNS = 3  # first syncs of each device; the best counts, as for the floor

# The seeder stamps every record as changed now; a record last changed when it was
# reviewed, closed or done is what a 90-day window has to tell apart.
AGES = [
    "UPDATE audit SET updated_at = coalesce(reviewed_at, submitted_at, created_at)",
    "UPDATE finding SET updated_at = coalesce(closed_at, triaged_at, received_at)",
    "UPDATE corrective_action SET updated_at = coalesce(done_at, created_at)",
]
# One feed row per record; its audiences as feed.publish writes them (audiences.py).
FEED = [
    """INSERT INTO change (entity, entity_id, version, deleted, area_id, user_id, changed_at)
       SELECT 'audit', id::text, version, false, area_id, auditor_id, updated_at FROM audit""",
    """INSERT INTO change (entity, entity_id, version, deleted, area_id, user_id, changed_at)
       SELECT 'response', r.id::text, r.version, false, a.area_id, a.auditor_id, r.updated_at
       FROM response r JOIN audit a ON a.id = r.audit_id""",
    """INSERT INTO change (entity, entity_id, version, deleted, area_id, user_id, changed_at)
       SELECT 'finding', id::text, version, false, area_id, raised_by_id, received_at FROM finding""",
    """INSERT INTO change (entity, entity_id, version, deleted, area_id, user_id, changed_at)
       SELECT 'action', c.id::text, c.version, false, f.area_id, c.owner_id, c.created_at
       FROM corrective_action c JOIN finding f ON f.id = c.finding_id""",
]
AUDIENCES = """
INSERT INTO change_audience (audience, seq, former)
SELECT DISTINCT audience, seq, false FROM (
    SELECT 'user:' || c.user_id AS audience, c.seq FROM change c WHERE c.user_id IS NOT NULL
    UNION ALL SELECT 'area:' || c.area_id, c.seq FROM change c WHERE c.area_id IS NOT NULL
    UNION ALL SELECT 'site:' || ar.site_id, c.seq FROM change c JOIN area ar ON ar.id = c.area_id
    UNION ALL SELECT 'org', c.seq FROM change c
    UNION ALL SELECT 'user:' || a.auditor_id, c.seq FROM change c
        JOIN finding f ON c.entity = 'finding' AND f.id::text = c.entity_id JOIN audit a ON a.id = f.audit_id
    UNION ALL SELECT 'user:' || ca.owner_id, c.seq FROM change c
        JOIN corrective_action ca ON c.entity = 'finding' AND ca.finding_id::text = c.entity_id
        WHERE ca.owner_id IS NOT NULL
) addressed
"""
# Others' changes: findings raised by other people in other areas, one row each with 4 audiences.
OTHERS_SQL = """
WITH fresh AS (
    INSERT INTO change (entity, entity_id, version, deleted, area_id, user_id, changed_at)
    SELECT 'finding', gen_random_uuid()::text, 1, false, %(area)s, %(user)s, now() FROM generate_series(1, %(n)s)
    RETURNING seq
)
INSERT INTO change_audience (audience, seq, former)
SELECT a, seq, false FROM fresh, unnest(ARRAY[%(u)s, %(ar)s, %(s)s, 'org']) AS a
"""


def sign_in(app, email):
    client = app.test_client()
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return client


def first_sync(client, query: str = "") -> dict:
    """Every snapshot page: server time, calls, records, bytes on the wire and unzipped.

    The time is the requests' (the Flask stack, SQL, JSON, gzip); unzipping and reading the
    pages here, and measuring each record's JSON, are the client's and are left out.
    """
    token, calls, records, wire, raw, payload, seconds = None, 0, 0, 0, 0, 0, 0.0
    while True:
        url = "/api/sync/snapshot?limit=500" + query + (f"&token={token}" if token else "")
        started = time.perf_counter()
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        data = response.get_data()
        seconds += time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code, response.data[:200])
        wire += len(data)
        body = gzip.decompress(data) if response.headers.get("Content-Encoding") == "gzip" else data
        raw += len(body)
        page = json.loads(body)
        calls += 1
        records += len(page["changes"])
        payload += sum(len(json.dumps(c["fields"], separators=(",", ":"))) for c in page["changes"])
        if not page["more"]:
            break
        token = page["token"]
    return {"seconds": round(seconds, 3), "calls": calls, "records": records, "wire_bytes": wire,
            "json_bytes": raw, "records_json_bytes": payload, "cursor": page["cursor"], "scope": page["scope"]}


def floor(conn, sql: str, params: dict, runs: int = 3) -> tuple[float, int]:
    """The best of a few runs of one query that returns exactly the device's records."""
    best, rows = None, 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = len(conn.execute(sql, params).fetchall())
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    return best, rows


STAFF_FLOOR = """
SELECT f.* FROM finding f WHERE f.raised_by_id = %(u)s OR f.id IN (SELECT finding_id FROM corrective_action WHERE owner_id = %(u)s)
"""
STAFF_FLOOR_ACTIONS = "SELECT * FROM corrective_action WHERE owner_id = %(u)s"
AUDITOR_FLOOR = """
SELECT a.id, a.status, a.summary, r.id, r.value, r.note FROM audit a LEFT JOIN response r ON r.audit_id = a.id
WHERE a.auditor_id = %(u)s
"""
AUDITOR_FLOOR_FINDINGS = """
SELECT * FROM finding WHERE raised_by_id = %(u)s OR audit_id IN (SELECT id FROM audit WHERE auditor_id = %(u)s)
"""


def pull_p95(client, cursor: int, scope: str) -> dict:
    times = []
    for n in range(SAMPLES + 5):
        started = time.perf_counter()
        response = client.get(f"/api/sync/pull?cursor={cursor}&scope={scope}", headers={"Accept-Encoding": "gzip"})
        took = (time.perf_counter() - started) * 1000
        assert response.status_code == 200
        body = response.json if response.headers.get("Content-Encoding") != "gzip" else json.loads(
            gzip.decompress(response.get_data()))
        assert body["changes"] == [], body["changes"][:1]
        if n >= 5:
            times.append(took)
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2)}


def healthz_p95(client) -> dict:
    times = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2)}


def main() -> dict:
    register_scale.FINDINGS = FINDINGS
    register_scale.ACTIONS = FINDINGS // 2
    rng = random.Random(register_scale.SEED)
    name = f"gemba_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(ADMIN_URL, name)
    load = os.getloadavg()[0]
    results: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "load_before": round(load, 2)}
    print(f"Sync at scale on PostgreSQL ({FINDINGS} findings), load {load:.2f}", flush=True)
    try:
        with TemporaryDirectory() as photo_dir:
            app = create_app({"SECRET_KEY": "bench", "GEMBA_PHOTO_DIR": photo_dir, "TESTING": False,
                              "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1)})
            with app.app_context():
                upgrade()
                db.engine.dispose()
            started = time.perf_counter()
            with psycopg.connect(url) as conn:
                seeder = Seeder(conn, rng)
                counts = seeder.run()
                for sql in AGES + FEED:
                    conn.execute(sql)
                conn.execute(AUDIENCES)
                counts["change"] = conn.execute("SELECT count(*) FROM change").fetchone()[0]
                counts["change_audience"] = conn.execute("SELECT count(*) FROM change_audience").fetchone()[0]
                conn.commit()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            results["seed"] = {"rows": counts, "seconds": round(time.perf_counter() - started, 1)}
            print(f"  seeded {counts} in {results['seed']['seconds']} s", flush=True)

            with psycopg.connect(url, autocommit=True) as conn:
                # The busiest staff member (most records of their own) and an average auditor.
                staff_id, staff_email = conn.execute(
                    """SELECT u.id, u.email FROM "user" u WHERE u.role = 'staff' ORDER BY
                       (SELECT count(*) FROM finding f WHERE f.raised_by_id = u.id)
                       + (SELECT count(*) FROM corrective_action c WHERE c.owner_id = u.id) DESC LIMIT 1""").fetchone()
                auditor_id, auditor_email = conn.execute(
                    """SELECT u.id, u.email FROM "user" u WHERE u.role = 'auditor' ORDER BY u.email LIMIT 1""").fetchone()
                site_id = conn.execute("SELECT id FROM site ORDER BY name LIMIT 1").fetchone()[0]
                staff_floor = [floor(conn, STAFF_FLOOR, {"u": staff_id}), floor(conn, STAFF_FLOOR_ACTIONS, {"u": staff_id})]
                auditor_floor = [floor(conn, AUDITOR_FLOOR, {"u": auditor_id}),
                                 floor(conn, AUDITOR_FLOOR_FINDINGS, {"u": auditor_id})]

            for who, email, floors in (("staff phone", staff_email, staff_floor),
                                       ("auditor tablet", auditor_email, auditor_floor)):
                client = sign_in(app, email)
                # The best of a few, as the floor is: one figure on a loaded machine is mostly its load.
                runs = [first_sync(client) for _ in range(RUNS)]
                sync = min(runs, key=lambda run: run["seconds"])
                floor_s = sum(f[0] for f in floors)
                figure = {**{k: v for k, v in sync.items() if k not in ("cursor", "scope")},
                          "runs_seconds": [run["seconds"] for run in runs],
                          "floor_seconds": round(floor_s, 4), "floor_rows": sum(f[1] for f in floors),
                          "ratio": round(sync["seconds"] / floor_s, 1)}
                results[who] = figure
                print(f"  first sync, {who:15} {sync['seconds']:7.3f} s (best of {figure['runs_seconds']}) in {sync['calls']} calls, "
                      f"{sync['records']} records; floor {floor_s:.4f} s ({figure['floor_rows']} rows), "
                      f"ratio {figure['ratio']}x", flush=True)

            supervisor = sign_in(app, "supervisor0@bench.example")
            sync = first_sync(supervisor, f"&sites={site_id}&days=90")
            results["supervisor one site 90 days"] = {k: v for k, v in sync.items() if k not in ("cursor", "scope")}
            print(f"  first sync, supervisor, one site, 90 days: {sync['seconds']:.3f} s in {sync['calls']} calls, "
                  f"{sync['records']} records; {sync['wire_bytes']:,} bytes gzip, {sync['json_bytes']:,} unzipped, "
                  f"records' JSON {sync['records_json_bytes']:,} (x{sync['json_bytes'] / max(1, sync['records_json_bytes']):.2f}"
                  f" unzipped, x{sync['wire_bytes'] / max(1, sync['records_json_bytes']):.2f} on the wire)", flush=True)

            staff = sign_in(app, staff_email)
            head = first_sync(staff)
            results["no-change pull"] = {"healthz": healthz_p95(staff)}
            pulled = {"0": pull_p95(staff, head["cursor"], head["scope"])}
            print(f"  no-change pull: floor /healthz p95 {results['no-change pull']['healthz']['p95_ms']} ms; "
                  f"after 0 others' changes p95 {pulled['0']['p95_ms']} ms", flush=True)
            with psycopg.connect(url, autocommit=True) as conn:
                other_user = conn.execute("""SELECT id FROM "user" WHERE role = 'staff' AND id <> %s LIMIT 1""",
                                          (staff_id,)).fetchone()[0]
                area_id, area_site = conn.execute("SELECT id, site_id FROM area ORDER BY name DESC LIMIT 1").fetchone()
                added = 0
                for target in OTHERS:
                    conn.execute(OTHERS_SQL, {"n": target - added, "area": area_id, "user": other_user,
                                              "u": f"user:{other_user}", "ar": f"area:{area_id}",
                                              "s": f"site:{area_site}"})
                    added = target
                    conn.execute("ANALYZE change_audience")
                    pulled[str(target)] = pull_p95(staff, head["cursor"], head["scope"])
                    print(f"  no-change pull after {target:>9,} others' changes: p95 {pulled[str(target)]['p95_ms']} ms "
                          f"(p50 {pulled[str(target)]['p50_ms']} ms)", flush=True)
            results["no-change pull"]["after_others"] = pulled
    finally:
        if os.environ.get("GEMBA_BENCH_KEEP"):
            print(f"  kept the database {name}", flush=True)
        else:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results["load_after"] = round(os.getloadavg()[0], 2)
    print(f"  load after: {results['load_after']}", flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2, default=str))
    return results


if __name__ == "__main__":
    main()
