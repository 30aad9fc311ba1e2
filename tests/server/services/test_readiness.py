"""Readiness: each signal turns red on what it counts and back to green once that is cleared."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from server.errors import Invalid, NotAllowed
from server.extensions import db
from server.models import (
    ActionStatus,
    AuditStatus,
    Event,
    FindingKind,
    FindingStatus,
    ManagementReview,
    ManagementReviewStatus,
    Question,
    QuestionKind,
    Response,
    Template,
    TemplateStatus,
)
from server.services import actions, checklists, objectives, readiness, trail

TODAY = date.today()


def signal(user, key, **where):
    found = {s.key: s for s in readiness.readiness(user, **where).signals}[key]
    return found.status, found.count


@pytest.fixture
def strict(app):
    """Every signal red at its first count, so each test shows red then green."""
    app.config["READINESS_THRESHOLDS"] = {key: {"amber": 1, "red": 1} for key in readiness.THRESHOLDS}


def test_with_nothing_to_show_only_the_missing_management_review_is_red(app, supervisor):
    result = readiness.readiness(supervisor)
    assert {s.key: s.status for s in result.signals} == {key: "green" for key in readiness.THRESHOLDS} | {
        "management_review_overdue": "red"}
    assert result.status == "red"
    assert all(s.href.startswith("/") for s in result.signals)


def test_clauses_not_audited(app, strict, make, supervisor, auditor):
    template = Template(name="QMS", standard="ISO 9001:2015", status=TemplateStatus.PUBLISHED)
    template.questions.append(Question(section="S", position=1, text="Q", kind=QuestionKind.YES_NO_NA, clause="8.2"))
    db.session.add(template)
    area = make.area(site="Works")
    db.session.flush()
    assert signal(supervisor, "clauses_not_audited", site_id=area.site_id) == ("red", 1)
    audit = make.audit(template, area, auditor, status=AuditStatus.SUBMITTED, submitted_at=datetime.now(UTC))
    db.session.add(Response(audit_id=audit.id, question_id=template.questions[0].id, value="yes"))
    db.session.flush()
    assert signal(supervisor, "clauses_not_audited", site_id=area.site_id, standard="ISO 9001") == ("green", 0)
    assert signal(supervisor, "clauses_not_audited", standard="ISO 14001") == ("green", 0)


def test_audits_overdue(app, strict, make, template, area, auditor, supervisor):
    audit = make.audit(template, area, auditor, planned_date=TODAY - timedelta(days=2))
    assert signal(supervisor, "audits_overdue") == ("red", 1)
    assert signal(supervisor, "audits_overdue", standard="ISO 14001") == ("green", 0)
    audit.status = AuditStatus.SUBMITTED
    db.session.flush()
    assert signal(supervisor, "audits_overdue") == ("green", 0)


def test_actions_overdue_and_thresholds_from_the_configuration(app, make, area, staff, supervisor):
    app.config["READINESS_THRESHOLDS"] = {"actions_overdue": {"amber": 1, "red": 3}}
    late = [make.action(make.finding(area, staff), staff, due_date=TODAY - timedelta(days=1)) for _ in range(2)]
    assert signal(supervisor, "actions_overdue") == ("amber", 2)
    make.action(make.finding(area, staff), staff, due_date=TODAY - timedelta(days=9))
    assert signal(supervisor, "actions_overdue") == ("red", 3)
    for action in late:
        action.due_date = TODAY + timedelta(days=5)
    db.session.flush()
    assert signal(supervisor, "actions_overdue") == ("amber", 1)


def test_actions_without_an_effectiveness_check(app, strict, make, area, staff, supervisor):
    finding = make.finding(area, staff, status=FindingStatus.ACTION_DONE)
    action = make.action(finding, staff, status=ActionStatus.DONE, done_at=datetime.now(UTC),
                         effectiveness_due=TODAY - timedelta(days=1))
    make.action(make.finding(area, staff), staff, status=ActionStatus.DONE, effectiveness_due=TODAY + timedelta(days=9))
    assert signal(supervisor, "actions_unchecked") == ("red", 1)
    actions.check_effectiveness(supervisor, action, True, "Door closes itself now.")
    assert signal(supervisor, "actions_unchecked") == ("green", 0)


def test_major_ncs_open_and_site_scope(app, strict, make, area, staff, supervisor, admin):
    major = make.finding(area, staff, kind=FindingKind.MAJOR_NC)
    elsewhere = make.area(site="Elsewhere")
    assert signal(supervisor, "major_ncs_open") == ("red", 1)
    assert signal(supervisor, "major_ncs_open", site_id=elsewhere.site_id) == ("green", 0)
    scoped = make.user("supervisor")
    scoped.sites = [elsewhere.site]
    db.session.flush()
    assert signal(scoped, "major_ncs_open") == ("green", 0)
    with pytest.raises(NotAllowed):
        readiness.readiness(scoped, site_id=area.site_id)
    with pytest.raises(NotAllowed):
        readiness.readiness(staff)
    with pytest.raises(Invalid):
        readiness.readiness(admin, site_id=uuid.uuid4())
    major.status = FindingStatus.CLOSED
    db.session.flush()
    assert signal(admin, "major_ncs_open") == ("green", 0)


def test_checklists_past_review(app, strict, make, supervisor):
    template = make.template(review_due=TODAY - timedelta(days=1))
    assert signal(supervisor, "checklists_past_review") == ("red", 1)
    assert signal(supervisor, "checklists_past_review", standard="ISO 45001") == ("green", 0)
    checklists.mark_reviewed(supervisor, template, TODAY + timedelta(days=365))
    assert signal(supervisor, "checklists_past_review") == ("green", 0)


def test_objectives_off_track_or_unmeasured(app, strict, supervisor, staff):
    objective = objectives.create_objective(supervisor, {
        "title": "On time", "owner_id": str(staff.id), "target_value": 90, "unit": "%", "standard": "ISO 9001"})
    assert signal(supervisor, "objectives_off_track") == ("red", 1)  # never measured
    objectives.record_measurement(staff, objective, 70, TODAY - timedelta(days=1))
    assert signal(supervisor, "objectives_off_track") == ("red", 1)  # off track
    objectives.record_measurement(staff, objective, 95, TODAY)
    assert signal(supervisor, "objectives_off_track") == ("green", 0)


def test_management_review_older_than_twelve_months(app, supervisor):
    review = ManagementReview(period_start=TODAY - timedelta(days=800), period_end=TODAY - timedelta(days=400),
                              held_on=TODAY - timedelta(days=400), chair_id=supervisor.id,
                              status=ManagementReviewStatus.SIGNED_OFF)
    db.session.add(review)
    db.session.flush()
    assert signal(supervisor, "management_review_overdue") == ("red", 1)
    review.held_on = TODAY - timedelta(days=30)
    db.session.flush()
    assert signal(supervisor, "management_review_overdue") == ("green", 0)


def test_trail_verification_from_its_checkpoint(app, strict, supervisor):
    for n in range(3):
        trail.record(supervisor, "test.step", "test", n, {"n": n})
    db.session.flush()
    last = db.session.query(Event).order_by(Event.id.desc()).first()
    good = dict(last.changes)
    last.changes = {"n": 99}
    db.session.flush()
    assert signal(supervisor, "trail_verification") == ("red", 1)
    last.changes = good
    db.session.flush()
    assert signal(supervisor, "trail_verification") == ("green", 0)  # and the checkpoint is now the last event
    last.changes = {"n": 42}  # an edit to the checkpoint event itself still shows
    db.session.flush()
    assert signal(supervisor, "trail_verification") == ("red", 1)


def test_the_api_answers_the_contract(app, signed_in, supervisor, staff):
    auth = signed_in(supervisor)
    body = auth.client.get("/api/readiness").json
    assert body["status"] == "red"
    assert {s["key"] for s in body["signals"]} == set(readiness.THRESHOLDS)
    assert set(body["signals"][0]) >= {"key", "status", "count", "title", "href"}
    assert auth.client.get("/api/readiness?site_id=nonsense").status_code == 422
    assert signed_in(staff).client.get("/api/readiness").status_code == 403


def test_documents_past_review(app, strict, supervisor):
    from server.models import Document

    document = Document(number="QP-01", title="Control of records", type="procedure", status="approved",
                        owner_id=supervisor.id, next_review_due=TODAY - timedelta(days=1))
    db.session.add(document)
    db.session.flush()
    assert signal(supervisor, "documents_past_review") == ("red", 1)
    document.next_review_due = TODAY + timedelta(days=300)
    db.session.flush()
    assert signal(supervisor, "documents_past_review") == ("green", 0)


def test_training_gaps(app, strict, make, supervisor, staff):
    from server.models import Competence, CompetenceRecord, CompetenceRequirement

    forklift = Competence(name="Forklift licence", validity_months=36)
    db.session.add(forklift)
    db.session.flush()
    db.session.add(CompetenceRequirement(competence_id=forklift.id, role="staff"))
    db.session.flush()
    assert signal(supervisor, "training_gaps") == ("red", 1)  # staff lacks it
    db.session.add(CompetenceRecord(user_id=staff.id, competence_id=forklift.id, gained_on=TODAY - timedelta(days=10),
                                    expires_on=TODAY + timedelta(days=1000)))
    db.session.flush()
    assert signal(supervisor, "training_gaps") == ("green", 0)
