"""The audit programme at scale on SQLite: coverage matrix, plan generation, suggestions.

    .venv/bin/python -m bench.programme

A throwaway SQLite database (the real migrations) is seeded through SQLAlchemy Core with
five years of history: 40 areas over 2 sites, 24 auditors qualified for ISO 9001, the
bundled 43-question ISO 9001 checklist, an approved audit of every area every quarter
(800 audits, 34,400 responses, a finding on every twentieth answer). Then, each timed
as the median of several runs next to a floor measured in the same run:

- `coverage.matrix("ISO 9001")` (areas x clauses, last covering audit and result), next
  to the floor of one Core SELECT of the answers of each area's newest audit (the least
  it must read), and, for scale, one SELECT of every answer in the history;
- `programme.generate_plan` for the next 12 months with auditor assignment (rotation
  and workload per slot, the inserts, feed and trail; rolled back after each run), next
  to `programme.plan_slots` alone (the due dates without suggestions or writes);
- `programme.suggest_auditors` for one area, next to `SELECT 1`.

Figures are printed and written to bench/out/programme.json.
"""

import json
import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from server import create_app
from server.extensions import db
from server.models import (
    Area,
    Audit,
    AuditStatus,
    Finding,
    CompetenceRecord,
    Question,
    Response,
    Role,
    Template,
    User,
)
from server.services import checklists, coverage, organisation, programme

OUT = Path(__file__).resolve().parent / "out" / "programme.json"
AREAS, AUDITORS, YEARS = 40, 24, 5
RUNS = 5
SEED = 9001


def _median(call, runs: int = RUNS) -> float:
    call()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def seed(rng: random.Random, today: date) -> dict:
    supervisor = User(email="quality@bench.test", name="Quality", role=Role.SUPERVISOR, password_hash="x")
    db.session.add(supervisor)
    db.session.flush()
    template = checklists.import_checklist(supervisor, checklists.bundled_checklist("iso9001-internal-audit.json"))
    checklists.publish(supervisor, template)
    questions = [(q.id, q.kind, list(q.finding_answers), list(q.options)) for q in template.questions]
    sites = [organisation.create_site(None, f"Site {n}") for n in (1, 2)]
    areas = [{"id": uuid.uuid4(), "site_id": sites[n % 2].id, "name": f"Area {n:02d}",
              "risk_level": rng.choice(["low", "medium", "high"]), "audit_every_months": rng.choice([3, 6, 12])}
             for n in range(AREAS)]
    db.session.execute(insert(Area), areas)
    auditors = [{"id": uuid.uuid4(), "email": f"auditor{n}@bench.test", "name": f"Auditor {n:02d}",
                 "role": Role.AUDITOR, "home_area_id": areas[n % AREAS]["id"], "active": True, "password_hash": "x"}
                for n in range(AUDITORS)]
    db.session.execute(insert(User), auditors)
    auditing = programme.auditor_competence("ISO 9001", create=True)
    db.session.execute(insert(CompetenceRecord), [
        {"id": uuid.uuid4(), "user_id": a["id"], "competence_id": auditing.id, "gained_on": None,
         "expires_on": today + timedelta(days=700)}
        for a in auditors])
    audits, responses, findings = [], [], []
    for quarter in range(YEARS * 4):
        day = today - timedelta(days=91 * (YEARS * 4 - quarter))
        for area in areas:
            auditor = rng.choice([a for a in auditors if a["home_area_id"] != area["id"]])
            audit_id = uuid.uuid4()
            at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            audits.append({"id": audit_id, "template_id": template.id, "area_id": area["id"], "auditor_id": auditor["id"],
                           "planned_date": day, "status": AuditStatus.APPROVED, "started_at": at, "submitted_at": at,
                           "version": 1, "field_versions": {}, "summary": ""})
            for question_id, kind, finding_answers, options in questions:
                value = {"yes_no_na": "yes", "pass_fail": "pass", "score": 4, "choice": "Daily team briefing",
                         "multi_choice": ["Training records"],
                         "number": 12, "text": "ok", "date": day.isoformat(), "photo": None}[kind]
                if finding_answers and rng.random() < 0.05:
                    value = finding_answers[0]
                    findings.append({"id": uuid.uuid4(), "kind": "minor_nc", "clause": "", "area_id": area["id"],
                                     "title": "Bench finding", "raised_by_id": auditor["id"], "raised_at": at,
                                     "received_at": at, "audit_id": audit_id, "question_id": question_id,
                                     "status": "closed", "version": 1, "field_versions": {}})
                responses.append({"id": uuid.uuid4(), "audit_id": audit_id, "question_id": question_id, "value": value,
                                  "note": "", "version": 1, "field_versions": {}})
    db.session.execute(insert(Audit), audits)
    db.session.execute(insert(Response), responses)
    db.session.execute(insert(Finding), findings)
    db.session.commit()
    return {"template_id": template.id, "area_id": areas[0]["id"], "supervisor_id": supervisor.id,
            "rows": {"areas": len(areas), "auditors": len(auditors), "audits": len(audits),
                     "responses": len(responses), "findings": len(findings)}}


def main() -> dict:
    rng = random.Random(SEED)
    today = date.today()
    results: dict = {"database": "sqlite", "when": datetime.now(UTC).isoformat(timespec="seconds")}
    with TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                          "GEMBA_PHOTO_DIR": f"{tmp}/photos", "TESTING": False})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            world = seed(rng, today)
            results["seed"] = {"rows": world["rows"], "seconds": round(time.perf_counter() - started, 1)}
            print(f"seeded {world['rows']} in {results['seed']['seconds']} s", flush=True)
            template = db.session.get(Template, world["template_id"])
            area = db.session.get(Area, world["area_id"])
            supervisor = db.session.get(User, world["supervisor_id"])

            newest = select(Audit.area_id, func.max(Audit.planned_date).label("day")).group_by(Audit.area_id).subquery()
            latest_round = list(db.session.scalars(select(Audit.id).join(
                newest, (Audit.area_id == newest.c.area_id) & (Audit.planned_date == newest.c.day))))

            def floor_rows():
                # The least the matrix must read: the answers of each area's newest audit.
                db.session.execute(
                    select(Response.audit_id, Response.question_id, Response.value).where(Response.audit_id.in_(latest_round))
                ).all()

            def all_history():
                db.session.execute(
                    select(Response.audit_id, Question.clause, Response.value)
                    .join(Question, Question.id == Response.question_id)
                    .where(Question.template_id == template.id)
                ).all()

            matrix = coverage.matrix("ISO 9001", today=today)
            results["coverage"] = {
                "matrix_ms": round(_median(lambda: coverage.matrix("ISO 9001", today=today)), 1),
                "floor_read_latest_round_ms": round(_median(floor_rows), 1),
                "read_all_history_ms": round(_median(all_history), 1),
                "cells": len(matrix.areas) * len(matrix.clauses), "gaps": matrix.gap_count,
            }

            def generate():
                slots = programme.generate_plan(supervisor, template, today, 12)
                db.session.rollback()
                return slots

            slots = generate()
            results["plan"] = {
                "generate_with_assignment_ms": round(_median(generate, runs=3), 1),
                "floor_plan_slots_ms": round(_median(lambda: programme.plan_slots(template, today, 12), runs=3), 1),
                "audits_planned": len(slots),
            }
            results["suggest"] = {
                "suggest_auditors_ms": round(_median(lambda: programme.suggest_auditors(area, template, today)), 2),
                "floor_select_1_ms": round(_median(lambda: db.session.execute(text("SELECT 1")).all()), 2),
            }
            db.session.remove()
            db.engine.dispose()
    for name, figures in results.items():
        print(f"{name}: {figures}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
