"""Events that notify: who hears of what (site scope, roles), written with the change itself."""

import io
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditStatus, Delivery, FindingKind, Notification, NotificationPreference, OutboxEvent
from server.services import actions, audit_review, audits, documents, findings, notify, programme
from tests import documents as document_files


def _told(kind: str) -> set[str]:
    notify.expand()
    rows = db.session.scalars(select(Notification).where(Notification.kind == kind))
    return {row.user.email for row in rows}


def _two_sites(make):
    north, south = make.site("North"), make.site("South")
    area = make.area(site=north, name="Press shop")
    other = make.area(site=south, name="Stores")
    return north, south, area, other


def _raise(user, area, kind=FindingKind.MAJOR_NC):
    return findings.raise_finding(user, uuid.uuid4(), {"kind": kind, "title": "Guard removed from press 4",
                                                       "area_id": area.id, "raised_at": notify.utcnow()})


def test_a_major_nc_tells_the_area_responsible_and_the_sites_supervisors_only(make):
    north, south, area, other = _two_sites(make)
    responsible = make.user("supervisor", email="resp@example.test", sites=[north])
    area.responsible_id = responsible.id
    make.user("supervisor", email="north@example.test", sites=[north])
    make.user("supervisor", email="everywhere@example.test")
    make.user("supervisor", email="south@example.test", sites=[south])
    make.user("admin", email="admin@example.test")
    staff = make.user("staff", email="raiser@example.test", home_area=area)
    _raise(staff, area)
    db.session.flush()
    assert _told("finding.raised") == {"resp@example.test", "north@example.test", "everywhere@example.test"}
    notification = db.session.scalar(select(Notification).where(Notification.user_id == responsible.id))
    assert notification.link.startswith("/findings/") and "Guard removed" in notification.title
    assert notification.email_state == Delivery.PENDING


def test_someone_added_while_an_event_waits_for_the_worker_does_not_hear_of_it(make):
    _, _, area, _ = _two_sites(make)
    make.user("supervisor", email="before@example.test")
    _raise(make.user("staff"), area)
    db.session.flush()
    make.user("supervisor", email="after@example.test")  # joins before the worker expands the event
    db.session.flush()
    assert _told("finding.raised") == {"before@example.test"}


def test_a_minor_finding_is_an_event_but_tells_nobody(make):
    _, _, area, _ = _two_sites(make)
    make.user("supervisor")
    _raise(make.user("staff"), area, FindingKind.MINOR_NC)
    db.session.flush()
    assert _told("finding.raised") == set()
    assert db.session.scalar(select(OutboxEvent.kind)) == "finding.raised"


def test_a_responsible_person_who_may_not_see_the_finding_is_not_told(make):
    _, _, area, _ = _two_sites(make)
    responsible = make.user("staff", email="resp-staff@example.test")
    area.responsible_id = responsible.id
    _raise(make.user("staff"), area)
    db.session.flush()
    assert "resp-staff@example.test" not in _told("finding.raised")


def test_submitted_returned_and_rejected_audits_reach_reviewers_then_the_auditor(make, template):
    north, south, area, _ = _two_sites(make)
    auditor = make.user("auditor", email="aud@example.test")
    reviewer = make.user("supervisor", email="rev@example.test", sites=[north])
    make.user("supervisor", email="south@example.test", sites=[south])
    audit = make.audit(template, area, auditor, status=AuditStatus.IN_PROGRESS)
    for question in template.questions:
        audits.record_response(auditor, uuid.uuid4(), {"audit_id": audit.id, "question_id": question.id,
                                                       "value": {"yes_no_na": "yes", "pass_fail": "pass",
                                                                 "score": 5, "text": "ok"}[question.kind]})
    audits.submit_audit(auditor, audit)
    db.session.flush()
    assert _told("audit.submitted") == {"rev@example.test"}
    audit_review.return_audit(reviewer, audit, "Add the photo of the label")
    db.session.flush()
    assert _told("audit.returned") == {"aud@example.test"}
    returned = db.session.scalar(select(Notification).where(Notification.kind == "audit.returned"))
    assert "Add the photo of the label" in returned.body


def test_planning_and_assigning_tell_the_auditor_with_a_calendar_file(make, template):
    _, _, area, _ = _two_sites(make)
    planner = make.user("admin")
    first = make.user("auditor", email="first@example.test")
    second = make.user("auditor", email="second@example.test")
    for person in (first, second):
        programme.set_qualification(planner, person, template.standard, None)
    audit = programme.plan_audit(planner, template, area, date.today() + timedelta(days=10), first)
    db.session.flush()
    assert _told("audit.planned") == {"first@example.test"}
    invite = db.session.scalar(select(Notification.attachment).where(Notification.kind == "audit.planned"))
    assert "BEGIN:VEVENT" in invite and f"UID:audit-{audit.id}@gemba" in invite
    programme.assign(planner, audit, second)
    db.session.flush()
    assert _told("audit.assigned") == {"second@example.test"}


def test_an_assigned_action_tells_its_owner_and_a_preference_holds_the_email(make):
    _, _, area, _ = _two_sites(make)
    supervisor = make.user("supervisor")
    owner = make.user("staff", email="owner@example.test")
    db.session.add(NotificationPreference(user_id=owner.id, kind="action.assigned", channel="digest"))
    finding = make.finding(area, make.user("staff"))
    actions.plan_action(supervisor, finding, {"plan": "Refit the guard", "root_cause": "No interlock", "containment": "Press locked out",
                                              "whys": [{"why": "Guard off", "because": "No interlock"}], "owner_id": str(owner.id),
                                              "due_date": (date.today() + timedelta(days=5)).isoformat()})
    db.session.flush()
    assert _told("action.assigned") == {"owner@example.test"}
    assert db.session.scalar(select(Notification.email_state)) == Delivery.DIGEST


def test_the_scan_tells_due_soon_overdue_and_escalates_once(app, make):
    north, _, area, _ = _two_sites(make)
    responsible = make.user("supervisor", email="resp@example.test", sites=[north])
    area.responsible_id = responsible.id
    make.user("supervisor", email="boss@example.test", sites=[north])
    owner = make.user("staff", email="owner@example.test")
    finding = make.finding(area, make.user("staff"))
    today = date.today()
    make.action(finding, owner, due_date=today + timedelta(days=2))
    make.action(finding, owner, due_date=today - timedelta(days=15))
    make.action(finding, owner, due_date=today - timedelta(days=29))
    app.config["NOTIFY_ESCALATE_DAYS"] = 14
    notify.scan(today)
    db.session.flush()
    assert _told("action.due_soon") == {"owner@example.test"}
    overdue = db.session.scalars(select(Notification).where(Notification.kind == "action.overdue")).all()
    assert len(overdue) == 2
    escalated = db.session.scalars(select(Notification).where(Notification.kind == "action.escalated")).all()
    # 15 days late: the area responsible person; 29 days: them again, then the site supervisors (them too).
    assert sorted(n.user.email for n in escalated) == ["boss@example.test"] + ["resp@example.test"] * 3
    assert notify.scan(today) == 0  # the second run finds nothing new


def test_the_event_is_one_row_in_the_change_and_expands_once(make):
    north, _, area, _ = _two_sites(make)
    make.user("supervisor", sites=[north])
    _raise(make.user("staff"), area)
    db.session.flush()
    event = db.session.scalar(select(OutboxEvent))
    assert event.kind == "finding.raised" and not event.expanded
    assert db.session.scalar(select(Notification)) is None  # nothing looked up in the push
    assert notify.expand() == 1
    assert notify.expand() == 0
    assert len(db.session.scalars(select(Notification)).all()) == 1


def test_a_rolled_back_change_leaves_no_event(app, make, commit):
    _, _, area, _ = _two_sites(make)
    staff = make.user("staff")
    commit()
    _raise(staff, area)
    db.session.rollback()
    assert db.session.scalar(select(OutboxEvent)) is None


def test_a_checklist_past_its_review_date_tells_who_made_it_once(app, make):
    author = make.user("supervisor", email="author@example.test")
    make.template(review_due=date.today() - timedelta(days=1), created_by_id=author.id)
    make.template(review_due=date.today() + timedelta(days=30), created_by_id=author.id)
    assert notify.scan(date.today()) == 1
    db.session.flush()
    assert _told("checklist.review_due") == {"author@example.test"}
    assert notify.scan(date.today()) == 0


def test_a_document_owner_is_reminded_once_before_the_review_falls_due(app, make):
    owner = make.user("supervisor", email="owner@example.test")
    make.user("supervisor", email="other@example.test")
    today = date.today()
    due = {}
    for number, days in (("WI-1", 10), ("WI-2", -5), ("WI-3", 90)):
        document = documents.create_document(owner, {"number": number, "title": "Checks", "type": "form"},
                                             documents.Upload(io.BytesIO(document_files.pdf(number)), "f.pdf"))
        documents.approve_revision(owner, document, document.revisions[0])
        document.next_review_due = due[number] = today + timedelta(days=days)
    app.config["DOCUMENT_REVIEW_NOTICE_DAYS"] = 30
    assert notify.scan(today) == 2
    db.session.flush()
    told = db.session.scalars(select(Notification).where(Notification.kind == "document.review_due")).all()
    assert {n.user.email for n in told} == {"owner@example.test"}
    assert sorted(n.title[:4] for n in told) == ["WI-1", "WI-2"] and any("overdue" in n.title for n in told)
    assert notify.scan(today) == 0  # once per due date


def test_rejections_late_audits_and_effectiveness_checks_reach_the_right_people(app, make, template):
    north, south, area, _ = _two_sites(make)
    auditor = make.user("auditor", email="aud@example.test")
    reviewer = make.user("supervisor", email="rev@example.test", sites=[north])
    make.user("supervisor", email="south@example.test", sites=[south])
    submitted = make.audit(template, area, auditor, status=AuditStatus.SUBMITTED)
    audit_review.reject(reviewer, submitted, "Wrong area audited")
    make.audit(template, area, auditor, planned_date=date.today() - timedelta(days=3))
    owner = make.user("staff", email="owner@example.test")
    make.action(make.finding(area, owner), owner, status="done", due_date=date.today() - timedelta(days=40),
                effectiveness_due=date.today() - timedelta(days=1))
    notify.scan(date.today())
    db.session.flush()
    assert _told("audit.rejected") == {"aud@example.test"}
    assert _told("audit.not_started") == {"aud@example.test", "rev@example.test"}
    assert _told("action.check_due") == {"rev@example.test"}


def test_due_dates_are_the_sites_local_days_like_the_registers_overdue(app, make):
    """An action due on the 5th is overdue from the 6th where its site is: in Kiritimati
    (UTC+14) at 10:00 UTC on the 5th, not yet in Pago Pago (UTC-11), where it is the 4th."""
    ahead = make.area(site=make.site("Kiritimati", "Pacific/Kiritimati"), name="Dock")
    behind = make.area(site=make.site("Pago Pago", "Pacific/Pago_Pago"), name="Dock")
    owner = make.user("staff", email="owner@example.test")
    now = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # 6 Dec 00:00 in Kiritimati; 4 Dec 23:00 in Pago Pago
    due = date(2026, 12, 5)
    late_there = make.action(make.finding(ahead, owner), owner, due_date=due)
    soon_there = make.action(make.finding(behind, owner), owner, due_date=due)
    planned_there = make.audit(make.template(), ahead, make.user("auditor"), planned_date=due)
    make.audit(make.template(), behind, make.user("auditor"), planned_date=due)
    notify.scan(now=now)
    db.session.flush()
    kinds = {(n.kind, n.entity_id) for n in db.session.scalars(select(OutboxEvent))}
    assert ("action.overdue", str(late_there.id)) in kinds and ("action.due_soon", str(soon_there.id)) in kinds
    assert ("action.overdue", str(soon_there.id)) not in kinds
    assert {e for k, e in kinds if k == "audit.not_started"} == {str(planned_there.id)}
    # At 01:00 on the 6th in Pago Pago it is late there too: told once, as overdue.
    notify.scan(now=now + timedelta(days=1, hours=2))
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.kind == "action.overdue")) == 2
