"""The register at scale on PostgreSQL: seed, then p95 of the busiest pages and the audit PDF.

    .venv/bin/python -m bench.register_scale

1. A throwaway PostgreSQL database (GEMBA_BENCH_POSTGRES_URL names the server, default
   postgresql://postgres@127.0.0.1:5432/postgres), migrated with the real migrations,
   is seeded with COPY through psycopg: 100,000 findings, 500,040 responses (8,334
   audits of a 60-question checklist), 50,000 corrective actions, over two years.
2. Through the Flask test client, signed in as a supervisor (the whole stack: session,
   permissions, SQL, templates, security headers), after warm-up requests:
   - the dashboard (tiles, tables and the four SVG charts; its first view of a month,
     which also counts the past months for the charts' snapshot, is timed on its own),
   - a filtered findings list (open major NCs in one area, clause 8.5*),
   - a finding page (picked at random from findings that have actions; with the repeat
     suggestions and the action forms a supervisor sees),
   and as the floor, `/healthz` (one `SELECT 1` through the same stack).
3. The PDF of a 60-question audit with 25 photos stored through the real photo intake
   (2048 x 1536 JPEGs, so the report embeds their 320 px thumbnails), and the evidence
   pack of the same audit, timed over several runs.

Goals (issue 5): p95 <= 150 ms for each page; the PDF <= 2 s. Figures are printed and
written to bench/out/register.json (register-x10.json with GEMBA_BENCH_SCALE=10, which
seeds ten times as much: issue 12's million findings).
"""

import hashlib
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg
from flask_migrate import upgrade
from PIL import Image, ImageDraw
from werkzeug.security import generate_password_hash

from server import create_app
from server.extensions import db
from server.ids import new_area_code
from server.models import AuditStatus, PhotoSubject, User
from server.services import evidence, photos

OUT = Path(__file__).resolve().parent / "out" / (
    "register.json" if os.environ.get("GEMBA_BENCH_SCALE", "1") == "1" else f"register-x{os.environ['GEMBA_BENCH_SCALE']}.json")
ADMIN_URL = os.environ.get("GEMBA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# GEMBA_BENCH_SCALE=10 seeds ten times as much (1,000,000 findings, 5,000,400 responses,
# 500,000 actions): issue 12's "register at a million findings".
SCALE = max(1, int(os.environ.get("GEMBA_BENCH_SCALE", "1")))
FINDINGS, AUDITS, QUESTIONS, ACTIONS = 100_000 * SCALE, 8_334 * SCALE, 60, 50_000 * SCALE
PASSWORD = "bench password 1"
SAMPLES, WARMUP = 60, 5
GOAL_PAGE_MS, GOAL_PDF_S = 150, 2.0
SEED = 20261201

CLAUSES = ["4.4", "5.3", "6.1", "7.1.3", "7.1.5", "7.2", "7.5", "8.1", "8.4", "8.5.1", "8.5.2", "8.5.4",
           "8.6", "8.7", "9.1", "9.2", "10.2", "45001:8.1.2", "45001:8.2", "14001:8.1", "14001:6.1.2"]
TITLES = ["Fire door wedged open", "Calibration sticker expired", "Label missing on solvent drum",
          "Forklift parked in walkway", "Work instruction out of date", "Eye wash bottle expired",
          "Spill kit incomplete", "Nonconforming parts not segregated", "Training record missing",
          "Pallet racking damaged", "Guard removed from press", "Waste bin not segregated"]
KINDS = ["major_nc"] * 1 + ["minor_nc"] * 5 + ["observation"] * 3 + ["improvement"] * 1


def _with_database(url: str, name: str) -> str:
    return url.rpartition("/")[0] + "/" + name


def area_codes(count: int) -> list[str]:
    """`count` different label codes for areas seeded with COPY (the model's default is not run)."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(new_area_code())
    return sorted(codes)


class Seeder:
    """COPY rows into the tables, generating ids here so rows can point at each other."""

    def __init__(self, conn: psycopg.Connection, rng: random.Random):
        self.conn, self.rng = conn, rng
        self.now = datetime.now(UTC).replace(microsecond=0)

    def copy(self, table: str, columns: list[str], rows) -> int:
        count = 0
        with self.conn.cursor() as cur, cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def ago(self, max_days: int) -> datetime:
        return self.now - timedelta(seconds=self.rng.randrange(max_days * 86400))

    def run(self) -> dict:
        rng, now = self.rng, self.now
        counts = {}
        sites = [(uuid.uuid4(), name) for name in ("Leeds works", "Hull depot", "York plant")]
        counts["site"] = self.copy("site", ["id", "name", "timezone", "created_at"],
                                   ((i, name, "Europe/London", now) for i, name in sites))
        self.areas = [(uuid.uuid4(), site_id, f"Area {n}") for site_id, _ in sites for n in range(1, 9)]
        counts["area"] = self.copy("area", ["id", "site_id", "name", "code", "risk_level", "audit_every_months", "created_at"],
                                   ((i, s, n, code, "medium", 12, now)
                                    for (i, s, n), code in zip(self.areas, area_codes(len(self.areas)), strict=True)))
        password = generate_password_hash(PASSWORD)
        people = [("supervisor", 3), ("auditor", 40), ("staff", 300)]
        self.users = {role: [] for role, _ in people}
        rows = []
        for role, count in people:
            for n in range(count):
                user_id = uuid.uuid4()
                self.users[role].append(user_id)
                rows.append((user_id, f"{role}{n}@bench.example", f"{role.title()} {n}", role,
                             rng.choice(self.areas)[0], True, password, now))
        counts["user"] = self.copy("user", ["id", "email", "name", "role", "home_area_id", "active", "password_hash",
                                            "created_at"], rows)
        template_id = uuid.uuid4()
        self.copy("template", ["id", "family_id", "name", "standard", "version", "status", "description", "created_at"],
                  [(template_id, uuid.uuid4(), "Internal audit", "ISO 9001:2015", 1, "published", "", now)])
        self.questions = [(uuid.uuid4(), CLAUSES[n % len(CLAUSES)]) for n in range(QUESTIONS)]
        self.copy("question", ["id", "template_id", "section", "position", "text", "guidance", "kind", "options",
                               "required", "clause", "finding_answers", "photo_answers"],
                  ((q, template_id, f"Section {n // 10 + 1}", n + 1, f"Question {n + 1}?", "", "yes_no_na", "[]",
                    True, clause, '["no"]', "[]") for n, (q, clause) in enumerate(self.questions)))
        auditors, supervisors, staff = self.users["auditor"], self.users["supervisor"], self.users["staff"]
        self.audits = []
        audit_rows = []
        for _ in range(AUDITS):
            audit_id, area = uuid.uuid4(), rng.choice(self.areas)[0]
            submitted = self.ago(730)
            status = rng.choices(["approved", "submitted", "in_progress", "returned"], [90, 4, 4, 2])[0]
            self.audits.append((audit_id, area, submitted))
            audit_rows.append((audit_id, template_id, area, rng.choice(auditors), submitted.date(), status,
                               submitted - timedelta(hours=2), submitted, submitted + timedelta(days=2),
                               rng.choice(supervisors), rng.uniform(50, 100), "", now, 2, "{}", now, ""))
        counts["audit"] = self.copy("audit", ["id", "template_id", "area_id", "auditor_id", "planned_date", "status",
                                              "started_at", "submitted_at", "reviewed_at", "reviewed_by_id", "score",
                                              "summary", "created_at", "version", "field_versions", "updated_at",
                                              "unsigned_reason"],
                                    audit_rows)
        answers = ['"yes"'] * 8 + ['"no"', '"na"']

        def responses():
            for audit_id, _, submitted in self.audits:
                for q, _ in self.questions:
                    yield (uuid.uuid4(), audit_id, q, rng.choice(answers), "", submitted, 1, "{}", now)
        counts["response"] = self.copy("response", ["id", "audit_id", "question_id", "value", "note", "answered_at",
                                                    "version", "field_versions", "updated_at"], responses())
        finding_rows, self.findings = [], []
        raisers = staff + auditors
        for n in range(FINDINGS):
            finding_id, (area, _, _) = uuid.uuid4(), rng.choice(self.areas)
            received = self.ago(730)
            age_days = (now - received).days
            if age_days > 120:
                status = rng.choices(["closed", "rejected", "action_planned"], [88, 8, 4])[0]
            else:
                status = rng.choices(["open", "action_planned", "action_done", "closed", "rejected"], [20, 40, 10, 25, 5])[0]
            audit = rng.choice(self.audits)[0] if rng.random() < 0.3 else None
            repeat_of = self.findings[rng.randrange(len(self.findings))][0] if self.findings and rng.random() < 0.03 else None
            title = f"{rng.choice(TITLES)} near bay {rng.randrange(1, 40)}"
            triaged = received + timedelta(hours=4) if status != "open" or rng.random() < 0.5 else None
            self.findings.append((finding_id, status, received))
            finding_rows.append((finding_id, rng.choice(KINDS), rng.choice(CLAUSES), area, title,
                                 "Seen during the walk; photo attached.", "", rng.choice(raisers), received, received,
                                 audit, None, repeat_of, status, "", triaged, rng.choice(supervisors) if triaged else None,
                                 received + timedelta(days=30) if status == "closed" else None, 1, "{}", now, False))
        counts["finding"] = self.copy("finding", [
            "id", "kind", "clause", "area_id", "title", "description", "location", "raised_by_id", "raised_at",
            "received_at", "audit_id", "question_id", "repeat_of_id", "status", "status_reason", "triaged_at",
            "triaged_by_id", "closed_at", "version", "field_versions", "updated_at", "document_outdated"], finding_rows)
        with_actions = [f for f in self.findings if f[1] in ("action_planned", "action_done", "closed")]
        rng.shuffle(with_actions)
        whys = json.dumps([{"why": "Why did it happen?", "because": "No check on the daily walk."}])

        def actions():
            for n in range(ACTIONS):
                finding_id, finding_status, received = with_actions[n % len(with_actions)]
                created = received + timedelta(days=1)
                due = (created + timedelta(days=rng.randrange(7, 60))).date()
                if finding_status == "closed":
                    status, done = "effective", created + timedelta(days=rng.randrange(5, 50))
                elif finding_status == "action_done":
                    status, done = "done", created + timedelta(days=rng.randrange(1, 20))
                else:
                    status, done = "open", None
                if done and done > now:
                    done = now
                yield (uuid.uuid4(), finding_id, "Contained.", whys, "No check on the daily walk.",
                       "Add the check to the daily walk.", rng.choice(staff), due, status, done, "",
                       due + timedelta(days=30), "effective" if status == "effective" else None, "", created,
                       1, "{}", now, rng.choice(supervisors))
        counts["corrective_action"] = self.copy("corrective_action", [
            "id", "finding_id", "containment", "whys", "root_cause", "plan", "owner_id", "due_date", "status",
            "done_at", "done_note", "effectiveness_due", "effectiveness_result", "effectiveness_note", "created_at",
            "version", "field_versions", "updated_at", "created_by_id"], actions())
        self.finding_with_actions = [f[0] for f in with_actions[:500]]
        self.busy_area = self.areas[0][0]
        return counts


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def timed(client, urls, samples=SAMPLES, warmup=WARMUP) -> dict:
    for url in urls[:warmup]:
        assert client.get(url).status_code == 200, url
    times = []
    for i in range(samples):
        url = urls[i % len(urls)]
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 95), 1),
            "max_ms": round(max(times), 1), "samples": samples}


def photo_jpeg(n: int) -> bytes:
    image = Image.new("RGB", (2048, 1536), (40 + n * 8 % 200, 90, 160))
    draw = ImageDraw.Draw(image)
    for k in range(0, 2048, 64):
        draw.line([(k, 0), (2048 - k, 1536)], fill=(255, 255 - k % 255, n * 10 % 255), width=9)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def report_audit(app, seeder: Seeder) -> str:
    """A 60-question audit with 25 photos spread over its responses, stored by the real intake."""
    with app.app_context():
        supervisor = db.session.get(User, seeder.users["supervisor"][0])
        audit_id = seeder.audits[0][0]
        response_ids = [row[0] for row in db.session.execute(
            db.text("SELECT id FROM response WHERE audit_id = :a ORDER BY id"), {"a": audit_id})]
        for n in range(25):
            data = photo_jpeg(n)
            sha = hashlib.sha256(data).hexdigest()
            photos.intake(supervisor, sha, data, "image/jpeg")
            evidence.link_photos(supervisor, PhotoSubject.RESPONSE, response_ids[n * 2], [sha])
        db.session.execute(db.text("UPDATE finding SET audit_id = :a WHERE id IN "
                                   "(SELECT finding_id FROM corrective_action LIMIT 5)"), {"a": audit_id})
        db.session.execute(db.text("UPDATE audit SET status = :s WHERE id = :a"),
                           {"s": AuditStatus.SUBMITTED, "a": audit_id})
        db.session.commit()
    return str(audit_id)


def main() -> dict:
    rng = random.Random(SEED)
    name = f"gemba_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(ADMIN_URL, name)
    results: dict = {"database": "postgresql", "when": datetime.now(UTC).isoformat(timespec="seconds"),
                     "scale": SCALE, "load_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        with TemporaryDirectory() as photo_dir:
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
                conn.commit()
            seed_s = time.perf_counter() - started
            # What autovacuum does soon after a bulk load: statistics for the planner and the
            # visibility map that lets covering indexes answer without reading the table.
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            results["seed"] = {"rows": counts, "seconds": round(seed_s, 1)}
            print(f"seeded {counts} in {seed_s:.1f} s", flush=True)

            audit_id = report_audit(app, seeder)
            client = app.test_client()
            login = client.post("/api/auth/login", json={"email": "supervisor0@bench.example", "password": PASSWORD})
            assert login.status_code == 200, login.json
            area = seeder.busy_area
            pages = {
                "floor_healthz": ["/healthz"],
                "dashboard": ["/dashboard"],
                "findings_filtered": [f"/findings?status=open_any&kind=major_nc&area={area}&clause=8.5",
                                      "/findings?status=action_planned&q=door",
                                      f"/findings?status=open_any&area={area}&page=2"],
                "finding_page": [f"/findings/{fid}" for fid in rng.sample(seeder.finding_with_actions, 40)],
            }
            # The month's first dashboard view also counts the past months for the charts' snapshot.
            started = time.perf_counter()
            assert client.get("/dashboard").status_code == 200
            results["dashboard_first_view_ms"] = round((time.perf_counter() - started) * 1000, 1)
            print(f"dashboard, first view of the month (fills the charts' snapshot): "
                  f"{results['dashboard_first_view_ms']:.1f} ms", flush=True)
            results["pages"] = {}
            for label, urls in pages.items():
                figures = timed(client, urls)
                results["pages"][label] = figures
                print(f"{label:<18} p50 {figures['p50_ms']:7.1f} ms   p95 {figures['p95_ms']:7.1f} ms   "
                      f"max {figures['max_ms']:7.1f} ms", flush=True)
            pdf_times, pack_times, size = [], [], 0
            for _ in range(5):
                started = time.perf_counter()
                response = client.get(f"/api/audits/{audit_id}/report.pdf")
                pdf_times.append(time.perf_counter() - started)
                assert response.status_code == 200
                size = len(response.data)
                started = time.perf_counter()
                pack = client.get(f"/api/audits/{audit_id}/evidence-pack")
                pack_times.append(time.perf_counter() - started)
                assert pack.status_code == 200
            results["pdf"] = {"questions": QUESTIONS, "photos": 25, "median_s": round(statistics.median(pdf_times), 3),
                              "max_s": round(max(pdf_times), 3), "bytes": size,
                              "evidence_pack_median_s": round(statistics.median(pack_times), 3),
                              "evidence_pack_bytes": len(pack.data)}
            print(f"audit PDF (60 questions, 25 photos): median {results['pdf']['median_s']:.3f} s, "
                  f"max {results['pdf']['max_s']:.3f} s, {size / 1024:.0f} KB; evidence pack median "
                  f"{results['pdf']['evidence_pack_median_s']:.3f} s ({len(pack.data) / 1024 / 1024:.1f} MB)", flush=True)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average before {results['load_before']}, after {results['load_after']}")
    worst = max(results["pages"][k]["p95_ms"] for k in ("dashboard", "findings_filtered", "finding_page"))
    results["goals"] = {"page_p95_ms": GOAL_PAGE_MS, "pdf_s": GOAL_PDF_S,
                        "pages_met": worst <= GOAL_PAGE_MS, "pdf_met": results["pdf"]["max_s"] <= GOAL_PDF_S}
    print(f"goals: pages p95 <= {GOAL_PAGE_MS} ms: {'met' if worst <= GOAL_PAGE_MS else 'NOT met'} (worst {worst} ms); "
          f"PDF <= {GOAL_PDF_S} s: {'met' if results['goals']['pdf_met'] else 'NOT met'}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
