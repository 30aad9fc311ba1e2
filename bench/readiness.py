"""Readiness, management-review inputs and the period evidence pack at scale on PostgreSQL.

    .venv/bin/python -m bench readiness

1. A throwaway PostgreSQL database seeded like bench.register_scale (100,000 findings,
   8,334 audits with 500,040 answers, 50,000 corrective actions over two years), plus 20
   objectives with a year of monthly measurements, 60,000 trail events in a valid hash
   chain, and GEMBA_BENCH_PACK_PHOTOS photos linked to each audit submitted in the pack's
   period.
2. Through the Flask test client, signed in as a supervisor, after warm-up, p95 of:
   the floor `/healthz`, the dashboard (the page next to which the issue sets the goal),
   `GET /api/readiness` (whole organisation, and one standard at one site), the readiness
   page, and assembling a management review's inputs for a year (`POST
   /api/management-reviews`, which also stores the frozen record). The first readiness
   call, which verifies the whole trail to set its checkpoint, is timed on its own.
3. The period evidence pack for a window holding about PACK_AUDITS audit reports, consumed
   chunk by chunk as a client would: time, bytes, and the process's peak RSS growth while
   streaming (VmHWM reset through /proc/self/clear_refs), checked with `sha256sum -c`.

Goal (issue 15): readiness and the review inputs p95 <= 300 ms. Figures go to
bench/out/readiness.json with the load average before and after.
"""

import hashlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg
from flask_migrate import upgrade

from server import create_app
from server.extensions import db
from server.models import PhotoSubject, User
from server.services import photos
from server.services.trail import GENESIS, _digest

from .register_scale import ADMIN_URL, PASSWORD, Seeder, _with_database, percentile, photo_jpeg, timed

OUT = Path(__file__).resolve().parent / "out" / "readiness.json"
SEED = 20261206
GOAL_MS = 300
OBJECTIVES, EVENTS = 20, 60_000
PACK_AUDITS = int(os.environ.get("GEMBA_BENCH_PACK_AUDITS", "500"))
PACK_PHOTOS = int(os.environ.get("GEMBA_BENCH_PACK_PHOTOS", "3"))
SAMPLES = int(os.environ.get("GEMBA_BENCH_SAMPLES", "40"))


def _vm(field: str) -> int:
    """A VmXXX figure of this process from /proc, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def seed_upkeep(conn: psycopg.Connection, seeder: Seeder, rng: random.Random) -> dict:
    """Objectives with a year of measurements and a chained trail, by COPY."""
    now, today = seeder.now, seeder.now.date()
    supervisors, staff = seeder.users["supervisor"], seeder.users["staff"]
    objectives, measurements = [], []
    for n in range(OBJECTIVES):
        objective_id = uuid.uuid4()
        direction = "at_least" if n % 2 else "at_most"
        objectives.append((objective_id, f"Objective {n}", "ISO 9001", "6.2", rng.choice(staff), 90.0 if n % 2 else 3.0,
                           "%", direction, 1, None, None, None, "manual", None, rng.choice(supervisors),
                           now - timedelta(days=400)))
        for month in range(12):
            value = rng.uniform(70, 100) if n % 2 else rng.uniform(0, 6)
            measurements.append((uuid.uuid4(), objective_id, value, today - timedelta(days=30 * month + 2), "", False,
                                 None, now))
    seeder.copy("objective", ["id", "title", "standard", "clause", "owner_id", "target_value", "unit", "direction",
                              "every_months", "due_date", "site_id", "area_id", "source", "source_days",
                              "created_by_id", "created_at"], objectives)
    seeder.copy("objective_measurement", ["id", "objective_id", "value", "measured_on", "note", "computed",
                                          "entered_by_id", "created_at"], measurements)

    def events():
        previous = GENESIS
        start = now - timedelta(days=700)
        for n in range(EVENTS):
            values = {"at": start + timedelta(seconds=n * 1000), "actor_id": supervisors[n % len(supervisors)],
                      "device_id": None, "action": "finding.triaged", "entity": "finding",
                      "entity_id": str(seeder.findings[n % len(seeder.findings)][0]),
                      "changes": {"status": ["open", "action_planned"]}, "prev_hash": previous}
            values["hash"] = _digest(**values)
            previous = values["hash"]
            yield (n + 1, values["at"], values["actor_id"], None, values["action"], values["entity"],
                   values["entity_id"], json.dumps(values["changes"]), values["prev_hash"], values["hash"])
    seeder.copy("event", ["id", "at", "actor_id", "device_id", "action", "entity", "entity_id", "changes",
                          "prev_hash", "hash"], events())
    conn.execute("SELECT setval(pg_get_serial_sequence('event', 'id'), %s)", (EVENTS,))
    return {"objective": OBJECTIVES, "objective_measurement": len(measurements), "event": EVENTS}


def pack_window(seeder: Seeder) -> tuple[date, date, list]:
    """The latest window of days holding about PACK_AUDITS submitted audits, and those audits."""
    done = sorted((submitted, audit_id) for audit_id, _, submitted in seeder.audits)
    chosen = done[-PACK_AUDITS:]
    return chosen[0][0].date(), chosen[-1][0].date(), [audit_id for _, audit_id in chosen]


def link_pack_photos(app, seeder: Seeder, audit_ids: list) -> None:
    """Store PACK_PHOTOS photos through the real intake and link them to answers of each audit in the window."""
    with app.app_context():
        supervisor = db.session.get(User, seeder.users["supervisor"][0])
        shas = []
        for n in range(PACK_PHOTOS):
            data = photo_jpeg(n)
            sha = hashlib.sha256(data).hexdigest()
            photos.intake(supervisor, sha, data, "image/jpeg")
            shas.append(sha)
        db.session.commit()
        rows = db.session.execute(db.text(
            "SELECT DISTINCT ON (audit_id) audit_id, id FROM response WHERE audit_id = ANY(:ids) ORDER BY audit_id, id"),
            {"ids": audit_ids}).all()
        db.session.execute(db.text(
            # proven: the bytes were uploaded (by the supervisor above), so the links stand on them
            "INSERT INTO photo_link (id, photo_sha256, subject, subject_id, position, created_at, proven) "
            "VALUES (:id, :sha, :subject, :sid, :position, now(), true)"),
            [{"id": uuid.uuid4(), "sha": sha, "subject": PhotoSubject.RESPONSE.value, "sid": response_id, "position": n}
             for _, response_id in rows for n, sha in enumerate(shas)])
        db.session.commit()


def main() -> dict:
    rng = random.Random(SEED)
    name = f"gemba_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(ADMIN_URL, name)
    load_before = os.getloadavg()
    results: dict = {"database": "postgresql", "when": datetime.now(UTC).isoformat(timespec="seconds"),
                     "load_before": [round(v, 2) for v in load_before]}
    try:
        with TemporaryDirectory() as photo_dir, TemporaryDirectory() as unpack:
            app = create_app({
                "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1),
                "GEMBA_PHOTO_DIR": photo_dir, "TESTING": False,
            })
            with app.app_context():
                upgrade()
                db.engine.dispose()
            started = time.perf_counter()
            with psycopg.connect(url) as conn:
                seeder = Seeder(conn, rng)
                counts = seeder.run()
                counts |= seed_upkeep(conn, seeder, rng)
                conn.commit()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            results["seed"] = {"rows": counts, "seconds": round(time.perf_counter() - started, 1)}
            print(f"seeded {counts} in {results['seed']['seconds']} s", flush=True)
            start, end, pack_audits = pack_window(seeder)
            link_pack_photos(app, seeder, pack_audits)

            client = app.test_client()
            login = client.post("/api/auth/login", json={"email": "supervisor0@bench.example", "password": PASSWORD})
            assert login.status_code == 200, login.json
            csrf = {"X-CSRFToken": login.json["csrf_token"]}
            site = seeder.areas[0][1]
            started = time.perf_counter()
            first = client.get("/api/readiness")
            assert first.status_code == 200, first.json
            results["readiness_first_call_ms"] = round((time.perf_counter() - started) * 1000, 1)
            print(f"readiness, first call (verifies {EVENTS:,} trail events to set the checkpoint): "
                  f"{results['readiness_first_call_ms']} ms; signals {[(s['key'], s['count']) for s in first.json['signals']]}",
                  flush=True)
            assert client.get("/dashboard").status_code == 200  # its month snapshot, as in bench.register_scale
            pages = {
                "floor_healthz": ["/healthz"],
                "dashboard": ["/dashboard"],
                "readiness_api": ["/api/readiness"],
                "readiness_api_scoped": [f"/api/readiness?standard=ISO+9001&site_id={site}"],
                "readiness_page": ["/readiness"],
            }
            results["pages"] = {}
            for label, urls in pages.items():
                figures = timed(client, urls, samples=SAMPLES)
                results["pages"][label] = figures
                print(f"{label:<22} p50 {figures['p50_ms']:7.1f} ms   p95 {figures['p95_ms']:7.1f} ms   "
                      f"max {figures['max_ms']:7.1f} ms", flush=True)
            today = date.today()
            body = {"period_start": (today - timedelta(days=365)).isoformat(), "period_end": today.isoformat()}
            times = []
            for n in range(SAMPLES // 2 + 3):
                began = time.perf_counter()
                response = client.post("/api/management-reviews", json=body, headers=csrf)
                elapsed = (time.perf_counter() - began) * 1000
                assert response.status_code == 201, response.json
                if n >= 3:
                    times.append(elapsed)
            results["pages"]["review_inputs"] = {"p50_ms": round(sorted(times)[len(times) // 2], 1),
                                                 "p95_ms": round(percentile(times, 95), 1),
                                                 "max_ms": round(max(times), 1), "samples": len(times)}
            figures = results["pages"]["review_inputs"]
            print(f"{'review_inputs':<22} p50 {figures['p50_ms']:7.1f} ms   p95 {figures['p95_ms']:7.1f} ms   "
                  f"max {figures['max_ms']:7.1f} ms  (POST /api/management-reviews, a year)", flush=True)

            # The period pack, consumed as a client would, with the peak RSS growth while it streams.
            baseline = _vm("VmRSS")
            Path("/proc/self/clear_refs").write_text("5")
            began = time.perf_counter()
            response = client.get(f"/api/evidence-pack?from={start.isoformat()}&to={end.isoformat()}", buffered=False)
            assert response.status_code == 200 and response.is_streamed
            size = 0
            path = Path(unpack) / "pack.zip"
            with path.open("wb") as out:
                for chunk in response.response:
                    size += len(chunk)
                    out.write(chunk)
            response.close()
            seconds = time.perf_counter() - began
            peak = _vm("VmHWM")
            with zipfile.ZipFile(path) as archive:
                reports = sum(1 for n in archive.namelist() if n.startswith("audits/"))
                archive.extractall(Path(unpack) / "pack")
            check = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=Path(unpack) / "pack",
                                   capture_output=True, text=True, check=False)
            results["evidence_pack"] = {
                "from": start.isoformat(), "to": end.isoformat(), "audit_reports": reports, "photos_per_audit": PACK_PHOTOS,
                "seconds": round(seconds, 1), "bytes": size, "rss_before_mib": round(baseline / 1024, 1),
                "peak_rss_mib": round(peak / 1024, 1), "peak_growth_mib": round((peak - baseline) / 1024, 1),
                "sha256sum_ok": check.returncode == 0,
            }
            pack = results["evidence_pack"]
            print(f"evidence pack {start}..{end}: {reports} audit reports with {PACK_PHOTOS} photos each, "
                  f"{size / 1024 / 1024:.1f} MiB in {seconds:.1f} s; RSS {pack['rss_before_mib']} MiB before, "
                  f"peak {pack['peak_rss_mib']} MiB (+{pack['peak_growth_mib']} MiB); sha256sum -c "
                  f"{'OK' if pack['sha256sum_ok'] else 'FAILED: ' + check.stdout[-300:]}", flush=True)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results["load_after"] = [round(v, 2) for v in os.getloadavg()]
    worst = max(results["pages"][k]["p95_ms"] for k in ("readiness_api", "readiness_api_scoped", "readiness_page",
                                                         "review_inputs"))
    results["goal"] = {"p95_ms": GOAL_MS, "worst_p95_ms": worst, "met": worst <= GOAL_MS}
    print(f"goal: readiness and review inputs p95 <= {GOAL_MS} ms: {'met' if worst <= GOAL_MS else 'NOT met'} "
          f"(worst {worst} ms; dashboard p95 {results['pages']['dashboard']['p95_ms']} ms, floor "
          f"{results['pages']['floor_healthz']['p95_ms']} ms); load average before {results['load_before']}, "
          f"after {results['load_after']}", flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
