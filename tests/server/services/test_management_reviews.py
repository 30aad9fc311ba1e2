"""Management review: inputs assembled from a hand-counted history, frozen; outputs tracked; sign-off locks."""

from datetime import UTC, date, datetime, timedelta

import pytest

from server.errors import Invalid, NotAllowed, StateError
from server.extensions import db
from server.models import (
    ActionStatus,
    AuditStatus,
    FindingKind,
    FindingStatus,
    ManagementReview,
    ManagementReviewStatus,
    ReviewAction,
)
from server.services import management_reviews as mr
from server.services import objectives

TODAY = date.today()
START, END = TODAY - timedelta(days=100), TODAY - timedelta(days=10)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def ago(n: int) -> date:
    return TODAY - timedelta(days=n)


@pytest.fixture
def history(make, template, area, auditor, staff, supervisor):
    """A period (100 to 10 days ago) with a counted history, and one earlier review with two actions."""
    make.audit(template, area, auditor, planned_date=ago(90), status=AuditStatus.APPROVED, submitted_at=at(ago(90)))
    make.audit(template, area, auditor, planned_date=ago(60), status=AuditStatus.SUBMITTED, submitted_at=at(ago(55)))
    make.audit(template, area, auditor, planned_date=ago(20), status=AuditStatus.PLANNED)
    make.audit(template, area, auditor, planned_date=ago(150), status=AuditStatus.APPROVED, submitted_at=at(ago(150)))
    old = make.finding(area, staff, kind=FindingKind.MINOR_NC, clause="8.1", received_at=at(ago(200)))
    open_major = make.finding(area, staff, kind=FindingKind.MAJOR_NC, clause="8.1", received_at=at(ago(80)))
    make.finding(area, staff, kind=FindingKind.MAJOR_NC, clause="8.1", status=FindingStatus.CLOSED, received_at=at(ago(70)))
    minor = make.finding(area, staff, kind=FindingKind.MINOR_NC, clause="7.1", repeat_of_id=old.id, received_at=at(ago(40)))
    make.finding(area, staff, kind=FindingKind.OBSERVATION, clause="", received_at=at(ago(30)))
    make.action(open_major, staff, created_at=at(ago(79)), due_date=ago(5))  # open, overdue
    make.action(minor, staff, created_at=at(ago(39)), due_date=ago(20), status=ActionStatus.EFFECTIVE,
                done_at=at(ago(25)), effectiveness_at=at(ago(15)), effectiveness_result="effective")
    make.action(old, staff, created_at=at(ago(199)), due_date=TODAY + timedelta(days=9))  # opened before the period
    earlier = ManagementReview(period_start=ago(465), period_end=ago(101), chair_id=supervisor.id,
                               status=ManagementReviewStatus.SIGNED_OFF, held_on=ago(100), created_at=at(ago(100)))
    earlier.actions = [ReviewAction(title="Train the night shift", owner_id=staff.id, due_date=ago(50), status="done",
                                    done_at=at(ago(52))),
                       ReviewAction(title="Replace the calibration supplier", owner_id=staff.id, due_date=ago(3))]
    db.session.add(earlier)
    goal = objectives.create_objective(supervisor, {"title": "NCs closed on time", "owner_id": str(staff.id),
                                                    "target_value": 90, "unit": "%", "standard": "ISO 9001"})
    objectives.record_measurement(staff, goal, 70, ago(12))
    db.session.flush()
    return {"open_major": open_major}


def test_inputs_are_assembled_from_the_period(app, history, supervisor):
    review = mr.open_review(supervisor, START.isoformat(), END.isoformat())
    inputs = review.inputs
    assert inputs["previous_actions"]["counts"] == {"total": 2, "done": 1, "open": 1, "overdue": 1}
    assert [a["title"] for a in inputs["previous_actions"]["actions"]] == ["Train the night shift",
                                                                           "Replace the calibration supplier"]
    results = inputs["audit_results"]
    assert (results["planned"], results["done"], results["done_on_time"]) == (3, 2, 1)
    assert results["findings_by_kind"] == {"major_nc": 2, "minor_nc": 1, "observation": 1, "improvement": 0}
    assert results["findings_by_clause"] == [{"clause": "8.1", "count": 2}, {"clause": "7.1", "count": 1}]
    assert inputs["nonconformities"] == {
        "raised": 3, "open_major": 1, "open_minor": 2, "actions_opened": 2, "actions_completed": 1,
        "actions_overdue": 1, "checked_effective": 1, "checked_not_effective": 0}
    assert [(o["title"], o["status"], o["latest"]) for o in inputs["objectives"]["objectives"]] == [
        ("NCs closed on time", "off_track", 70.0)]
    assert inputs["repeat_findings"] == 1
    # the area and the auditor's home area x clauses 7.1-7.4; no audit answered a question
    assert inputs["coverage_gaps"] == [{"standard": "ISO 9001", "pairs": 8, "gaps": 8}]


def test_a_review_is_frozen_as_it_was_on_the_day(app, history, supervisor, staff, area, make):
    review = mr.open_review(supervisor, START, END)
    before = dict(review.inputs)
    history["open_major"].status = FindingStatus.CLOSED
    make.finding(area, staff, kind=FindingKind.MAJOR_NC, received_at=at(ago(50)))
    db.session.commit()
    db.session.expire_all()
    again = mr.get_review(supervisor, review.id)
    assert again.inputs == before
    assert again.inputs["nonconformities"]["open_major"] == 1
    # ...while a review opened now sees the register as it is now
    assert mr.open_review(supervisor, START, END).inputs["nonconformities"]["open_major"] == 1  # closed one, new one


def test_outputs_are_tracked_and_come_back_as_the_next_review_s_first_input(app, supervisor, staff):
    review = mr.open_review(supervisor, START, END)
    mr.update_review(supervisor, review, {"held_on": ago(5), "attendees": "Quality manager\nPlant manager",
                                          "notes": {"customer_feedback": "Two complaints about labels."},
                                          "decisions": "Fund a second label printer."})
    action = mr.add_action(supervisor, review, {"title": "Buy a label printer", "owner_id": str(staff.id),
                                                "due_date": TODAY + timedelta(days=20)})
    assert review.attendees == ["Quality manager", "Plant manager"]
    assert mr.open_actions_of(staff) == [action]
    mr.sign_off(supervisor, review)
    assert review.status == "signed_off" and review.held_on == ago(5)
    nxt = mr.open_review(supervisor, END + timedelta(days=1), TODAY)
    assert [a["title"] for a in nxt.inputs["previous_actions"]["actions"]] == ["Buy a label printer"]
    mr.mark_action_done(staff, action, "Installed on line 2.")
    assert mr.open_actions_of(staff) == []
    with pytest.raises(StateError):
        mr.mark_action_done(staff, action)


def test_sign_off_locks_and_asks_about_a_review_with_no_outputs(app, make, supervisor, admin, staff):
    review = mr.open_review(supervisor, START, END)
    with pytest.raises(NotAllowed):
        mr.sign_off(make.user("supervisor"), review)  # not the chair
    with pytest.raises(Invalid) as asked:
        mr.sign_off(supervisor, review)
    assert "outputs" in asked.value.fields
    mr.sign_off(admin, review, no_outputs_confirmed=True)  # an admin may stand in for the chair
    for change in (lambda: mr.update_review(supervisor, review, {"decisions": "Later thoughts"}),
                   lambda: mr.add_action(supervisor, review, {"title": "x", "owner_id": str(staff.id),
                                                              "due_date": TODAY}),
                   lambda: mr.sign_off(supervisor, review)):
        with pytest.raises(StateError):
            change()


def test_bad_periods_and_outputs_are_refused(app, supervisor, staff):
    with pytest.raises(Invalid) as refused:
        mr.open_review(supervisor, END, START)
    assert "period_end" in refused.value.fields
    with pytest.raises(Invalid) as refused:
        mr.open_review(supervisor, None, TODAY + timedelta(days=1))
    assert set(refused.value.fields) == {"period_start", "period_end"}
    with pytest.raises(NotAllowed):
        mr.open_review(staff, START, END)
    review = mr.open_review(supervisor, START, END)
    with pytest.raises(Invalid) as refused:
        mr.add_action(supervisor, review, {"title": "", "owner_id": "nobody", "due_date": ago(1)})
    assert set(refused.value.fields) == {"title", "owner_id", "due_date"}


def test_the_api_opens_reads_and_packs(app, history, signed_in, supervisor, staff):
    auth = signed_in(supervisor)
    opened = auth.post("/api/management-reviews", json={"period_start": START.isoformat(), "period_end": END.isoformat()})
    assert opened.status_code == 201, opened.json
    rid = opened.json["id"]
    body = auth.client.get(f"/api/management-reviews/{rid}").json
    assert body["inputs"]["audit_results"]["planned"] == 3 and body["status"] == "draft"
    added = auth.post(f"/api/management-reviews/{rid}/actions", json={
        "title": "Audit the supplier", "owner_id": str(staff.id), "due_date": (TODAY + timedelta(days=30)).isoformat()})
    assert added.status_code == 201 and len(added.json["actions"]) == 1
    assert auth.post(f"/api/management-reviews/{rid}/sign-off", json={}).status_code == 200
    assert auth.post(f"/api/management-reviews/{rid}", json={"decisions": "x"}).status_code == 409
    pack = auth.client.get(f"/api/management-reviews/{rid}/pack.pdf")
    assert pack.status_code == 200 and pack.mimetype == "application/pdf" and pack.data.startswith(b"%PDF")
    listed = auth.client.get("/api/management-reviews").json["reviews"]
    assert [r["id"] for r in listed][0] == rid and "inputs" not in listed[0]
    owner = signed_in(staff)
    done = owner.post(f"/api/review-actions/{added.json['actions'][0]['id']}/done", json={})
    assert done.status_code == 200 and done.json["status"] == "done"


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-01"), ("1899-12-31", "2026-01-31"),
                                            ("2026-01-01", "9999-12-31")])
def test_a_period_at_the_calendars_ends_is_refused_not_a_500(app, signed_in, supervisor, start, end):
    """The fuzzer's case: a period of 0001-01-01 overflowed the first period arithmetic."""
    refused = signed_in(supervisor).post("/api/management-reviews", json={"period_start": start, "period_end": end})
    assert refused.status_code == 422
    assert "Use a date between 1900-01-01 and 2199-12-31." in str(refused.json["error"]["fields"])
