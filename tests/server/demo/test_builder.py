"""The demo organisation, built through the services from its data file (once: see conftest)."""

import io
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from server.demo import build, demo_id, organisation_file
from server.extensions import db
from server.models import (
    ActionStatus,
    Area,
    Audit,
    AuditStatus,
    Change,
    Comment,
    Competence,
    CompetenceRecord,
    CorrectiveAction,
    Document,
    DocumentStatus,
    RevisionStatus,
    Event,
    Finding,
    FindingKind,
    FindingStatus,
    Photo,
    PhotoLink,
    PhotoState,
    PhotoSubject,
    QuestionKind,
    Response,
    Role,
    Template,
    TemplateStatus,
    User,
)
from server.services import audits, competence, documents, trail
from server.services.impartiality import conflict_of_interest
from server.storage import photo_store

from .conftest import BUILT_ON as TODAY


def table_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables}


def photo_files(app) -> list[str]:
    root = Path(app.config["GEMBA_PHOTO_DIR"])
    return sorted(str(p) for p in root.rglob("*") if p.is_file()
                  and p.relative_to(root).parts[0] in ("original", "display", "thumb"))


def test_the_logins_are_the_people_of_the_data_file(demo):
    app, logins = demo
    data = organisation_file()
    assert logins == [(p["email"], p["role"], data["password"]) for p in data["people"]]
    for email in ("quality@gemba.example", "auditor@gemba.example", "staff@gemba.example"):
        assert app.test_client().post("/api/auth/login", json={"email": email, "password": "gemba-demo-2026"}).status_code == 200


def test_the_organisation_has_what_the_readme_promises(demo):
    areas = db.session.scalars(select(Area)).all()
    assert len(areas) == 8 and {a.site.name for a in areas} == {s["name"] for s in organisation_file()["sites"]}
    assert len({s["time_zone"] for s in organisation_file()["sites"]}) == 2, "two sites in two time zones"
    assert {a.risk_level for a in areas} == {"low", "medium", "high"}
    assert all(a.responsible_id for a in areas)
    users = db.session.scalars(select(User)).all()
    assert {u.role for u in users} == {r.value for r in Role} and all(u.home_area_id for u in users)
    assert db.session.scalar(select(func.count()).select_from(CompetenceRecord).join(Competence).where(
        Competence.audits_standard.is_not(None))) >= 5
    for audit in db.session.scalars(select(Audit).where(Audit.auditor_id.is_not(None))):
        assert conflict_of_interest(audit.auditor, audit.area) is None, (audit.auditor.email, audit.area.label)

    templates = db.session.scalars(select(Template).where(Template.status == TemplateStatus.PUBLISHED)).all()
    assert {t.standard for t in templates} == {"ISO 9001:2015", "ISO 45001:2018"}
    for template in templates:
        assert {q.kind for q in template.questions} == {k.value for k in QuestionKind}

    audits_ = db.session.scalars(select(Audit)).all()
    assert {a.status for a in audits_} == {s.value for s in AuditStatus}
    planned = [a for a in audits_ if a.status == AuditStatus.PLANNED]
    assert any(a.planned_date < TODAY for a in planned), "a late audit"
    assert len({(a.planned_date.year, a.planned_date.month) for a in planned if a.planned_date > TODAY}) >= 4
    for audit in audits_:
        if audit.status in (AuditStatus.SUBMITTED, AuditStatus.APPROVED, AuditStatus.RETURNED, AuditStatus.REJECTED):
            responses = {r.question_id: r for r in audit.responses}
            assert set(responses) == {q.id for q in audit.template.questions}
            # The score is the one rule's: audits.score over the answers given.
            assert audit.score is not None and audit.score == audits.score(audit, responses)
            assert audit.started_at < audit.submitted_at and audit.submitted_at.date() < TODAY
            if audit.status != AuditStatus.SUBMITTED:
                assert audit.submitted_at < audit.reviewed_at
    for status in (AuditStatus.RETURNED, AuditStatus.REJECTED):
        decided = next(a for a in audits_ if a.status == status)
        comment = db.session.scalar(select(Comment).where(Comment.audit_id == decided.id))
        assert comment.author.role == Role.SUPERVISOR and comment.created_at == decided.reviewed_at

    findings = db.session.scalars(select(Finding)).all()
    assert {f.status for f in findings} == {s.value for s in FindingStatus}
    assert {f.kind for f in findings} == {k.value for k in FindingKind}
    from_answers = [f for f in findings if f.question_id]
    for finding in from_answers:
        response = db.session.scalar(select(Response).where(Response.audit_id == finding.audit_id,
                                                            Response.question_id == finding.question_id))
        assert response.value in response.question.finding_answers
    assert any(f.audit_id is None and f.raised_by.role == Role.STAFF for f in findings)
    assert any(f.repeat_of_id for f in findings)
    assert all(f.raised_at <= f.received_at and f.received_at.date() < TODAY for f in findings)

    actions = db.session.scalars(select(CorrectiveAction)).all()
    assert {a.status for a in actions} == {s.value for s in ActionStatus}
    assert any(a.status == ActionStatus.OPEN and a.due_date < TODAY for a in actions), "an overdue action"
    assert any(a.status == ActionStatus.OPEN and a.due_date >= TODAY for a in actions)
    assert all(a.whys and a.root_cause for a in actions) and any(len(a.whys) == 5 for a in actions)
    assert all(a.created_at < a.done_at for a in actions if a.done_at)


def test_the_stated_scoring_rule_gives_an_audit_with_one_major_nc_90_percent(demo):
    # The safety walk's rule: 10 points off per major NC, 5 per minor (the failing answer
    # that raised it is scored by the deduction). The machining walk failed one question,
    # with a major NC, and passed the rest.
    machining = db.session.get(Audit, demo_id("audit", "machining-walk"))
    assert machining.template.scoring == {"deductions": {"major_nc": 10, "minor_nc": 5}}
    assert [f.kind for f in db.session.scalars(select(Finding).where(Finding.audit_id == machining.id))] == ["major_nc"]
    assert machining.score == 90.0
    paint = db.session.get(Audit, demo_id("audit", "paint-walk"))  # a major and a minor NC
    assert paint.score < 90.0
    # Show-if in the demo: the contractors question is shown because contractors were there.
    gate = next(q for q in machining.template.questions if q.text.startswith("Are contractors working"))
    contractors = next(q for q in machining.template.questions if q.show_if)
    assert contractors.show_if == {"question_id": str(gate.id), "values": ["yes"]}


def test_documents_past_review_a_draft_awaiting_approval_and_a_matrix_with_gaps(demo):
    register = db.session.scalars(select(Document).order_by(Document.number)).all()
    assert len(register) == 5 and all(d.status == DocumentStatus.APPROVED for d in register)
    overdue = documents.overdue_reviews(TODAY)
    assert {d.number for d in overdue} >= {"WI-014", "POL-002"}
    assert all(d.next_review_due > TODAY for d in register if d.number in ("QP-001", "F-031"))
    torque = next(d for d in register if d.number == "WI-022")
    assert [r.status for r in torque.revisions] == [RevisionStatus.APPROVED, RevisionStatus.DRAFT]
    forklift = next(d for d in register if d.number == "WI-014")
    assert [r.status for r in forklift.revisions] == [RevisionStatus.OBSOLETE, RevisionStatus.APPROVED]
    with documents.open_file(forklift.revisions[0]) as stream:
        assert stream.read(5) == b"%PDF-"  # the obsolete revision stays readable
    asked = documents.acknowledgement_status(forklift.current)
    assert len(asked.required) >= 3 and 0 < asked.rate < 1, "a revision awaiting acknowledgement"

    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
    matrix = competence.competence_matrix(admin, today=TODAY)
    assert matrix.counts["missing"] >= 4 and matrix.counts["held"] >= 8
    assert matrix.counts["expiring"] + matrix.counts["expired"] >= 1


def test_photos_are_evidence_on_answers_findings_and_actions(demo):
    photos = db.session.scalars(select(Photo)).all()
    assert len(photos) >= 25 and all(p.state == PhotoState.STORED for p in photos)
    assert all(50_000 < p.byte_size < 400_000 and p.content_type == "image/jpeg" for p in photos)
    assert all(p.taken_at is not None and p.taken_at <= p.uploaded_at for p in photos), "EXIF capture time read at intake"
    store = photo_store()
    for photo in photos:
        for size in ("original", "display", "thumb"):
            assert store.exists(f"{size}/{photo.sha256}")
    subjects = set(db.session.scalars(select(PhotoLink.subject).distinct()))
    assert subjects == {PhotoSubject.RESPONSE, PhotoSubject.FINDING, PhotoSubject.ACTION}
    # Every answer that calls for a photo has one: submitting would have refused it otherwise.
    for response in db.session.scalars(select(Response)):
        if response.value in (response.question.photo_answers or []):
            assert db.session.scalar(select(PhotoLink).where(PhotoLink.subject_id == response.id))


def test_building_again_adds_nothing_even_days_later(demo):
    app, _ = demo
    first = table_counts()
    assert first["audit"] and first["response"] and first["change"] and first["event"] and first["photo"]
    files = photo_files(app)
    assert len(files) == 3 * first["photo"]
    for later in (TODAY, TODAY + timedelta(days=3)):
        build(later)
        db.session.commit()
        assert table_counts() == first
    assert photo_files(app) == files


def test_the_trail_holds_and_devices_pull_what_the_services_published(demo):
    assert trail.verify_chain() is None
    assert db.session.scalar(select(func.count()).select_from(Event)) > 400
    entities = set(db.session.scalars(select(Change.entity).distinct()))
    assert {"template", "audit", "response", "finding", "action", "comment", "photo"} <= entities
    fed = set(db.session.scalars(select(Change.entity_id).where(Change.entity == "audit")))
    assert {str(i) for i in db.session.scalars(select(Audit.id))} == fed
    # Nothing was written beside the services: every response came with its trail event.
    recorded = set(db.session.scalars(select(Event.entity_id).where(Event.action == "response.recorded")))
    assert {str(i) for i in db.session.scalars(select(Response.id))} == recorded


def test_the_evidence_pack_of_an_approved_audit_holds_photos_sha256sum_verifies(demo, tmp_path):
    client = demo[0].test_client()
    unpacked = tmp_path / "pack"
    audit = db.session.get(Audit, demo_id("audit", "assembly-qms"))
    assert audit.status == AuditStatus.APPROVED
    client.post("/api/auth/login", json={"email": "quality@gemba.example", "password": "gemba-demo-2026"})
    response = client.get(f"/api/audits/{audit.id}/evidence-pack")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as pack:
        pack.extractall(unpacked)
    photos = sorted((unpacked / "photos").iterdir())
    assert len(photos) >= 4 and not (unpacked / "EXPECTED.txt").exists()
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(photos) + 1  # and report.pdf
    # The check has teeth: one changed byte in a photo fails it.
    tampered = photos[0].read_bytes()
    photos[0].write_bytes(tampered[:-3] + bytes([tampered[-3] ^ 1]) + tampered[-2:])
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=unpacked,
                          capture_output=True).returncode != 0

    page = client.get(f"/audits/{audit.id}/evidence")
    assert page.status_code == 200
    for photo in photos:
        assert photo.stem in page.text  # the gallery shows each photo the pack holds


def test_objectives_reviews_and_readiness_tell_the_upkeep_story(demo):
    from server.models import ManagementReview, Objective
    from server.services import objectives, readiness

    goals = db.session.scalars(select(Objective)).all()
    statuses = {o.title: objectives.status(o) for o in goals}
    assert {"on_track", "at_risk", "off_track"} <= set(statuses.values())
    manual = [o for o in goals if o.source == "manual"]
    assert all(len(o.measurements) == 12 for o in manual), "a year of monthly measurements"
    assert all((TODAY - o.measurements[0].measured_on).days >= 330 for o in manual)
    assert all(o.measurements for o in goals if o.source != "manual"), "computed ones measured"
    review = db.session.scalars(select(ManagementReview)).one()
    assert review.status == "signed_off" and review.held_on < TODAY
    assert review.inputs["audit_results"]["planned"] > 0
    assert {a.status for a in review.actions} == {"open", "done"}
    assert any(a.status == "open" and a.due_date < TODAY for a in review.actions), "an output still open, overdue"
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
    signals = {s.key: s for s in readiness.readiness(admin, today=TODAY).signals}
    reds = {key for key, s in signals.items() if s.status == "red"}
    assert {"audits_overdue", "major_ncs_open", "objectives_off_track"} & reds
    assert signals["management_review_overdue"].status == "green"
    assert signals["trail_verification"].status == "green"
