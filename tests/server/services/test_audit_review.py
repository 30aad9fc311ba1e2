"""Reviewing audits and triaging findings, through the API the register and integrations use."""

import pytest

from server.extensions import db
from server.models import AuditStatus, Comment, Conflict, FindingStatus, utcnow
from server.services import audit_review
from tests.register_helpers import changes, events, submitted_audit


@pytest.fixture
def audit(make):
    return submitted_audit()


@pytest.fixture
def as_supervisor(signed_in, supervisor, audit):
    return signed_in(supervisor)


def test_approve_locks_the_audit_publishes_it_and_leaves_an_event(as_supervisor, audit, supervisor):
    version = audit.version
    response = as_supervisor.post(f"/api/audits/{audit.id}/approve", json={"comment": "Well evidenced."})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved"
    db.session.refresh(audit)
    assert audit.status == AuditStatus.APPROVED
    assert audit.reviewed_by_id == supervisor.id
    assert audit.version == version + 1
    assert audit.field_versions["status"] == audit.version
    feed = changes("audit", audit.id)
    assert feed[-1].version == audit.version and feed[-1].user_id == audit.auditor_id
    [event] = events("audit.approved", audit.id)
    assert event.actor_id == supervisor.id and event.changes["status"] == ["submitted", "approved"]
    # Locked: no second decision, no return, until reopened.
    assert as_supervisor.post(f"/api/audits/{audit.id}/approve", json={}).status_code == 409
    locked = as_supervisor.post(f"/api/audits/{audit.id}/return", json={"comment": "one more thing"})
    assert locked.status_code == 409
    assert locked.json["error"]["code"] == "state"


def test_return_needs_a_comment_which_reaches_the_auditor_through_the_feed(as_supervisor, audit):
    empty = as_supervisor.post(f"/api/audits/{audit.id}/return", json={"comment": "   "})
    assert empty.status_code == 422
    assert "comment" in empty.json["error"]["fields"]
    assert db.session.get(type(audit), audit.id).status == AuditStatus.SUBMITTED

    response = as_supervisor.post(f"/api/audits/{audit.id}/return", json={"comment": "Add a photo of the label on Q2."})
    assert response.status_code == 200
    assert response.json["status"] == "returned"
    [comment] = db.session.query(Comment).filter_by(audit_id=audit.id).all()
    assert comment.body == "Add a photo of the label on Q2."
    [published] = changes("comment", comment.id)
    assert published.user_id == audit.auditor_id and published.area_id == audit.area_id
    assert events("audit.returned", audit.id)[0].changes["reason"] == "Add a photo of the label on Q2."


def test_reject_needs_a_reason(as_supervisor, audit):
    assert as_supervisor.post(f"/api/audits/{audit.id}/reject", json={}).status_code == 422
    response = as_supervisor.post(f"/api/audits/{audit.id}/reject", json={"reason": "Wrong area audited."})
    assert response.status_code == 200
    assert response.json["status"] == "rejected"
    assert events("audit.rejected", audit.id)[0].changes["reason"] == "Wrong area audited."


def test_reopen_an_approved_audit_needs_a_reason_and_returns_it(as_supervisor, audit):
    assert as_supervisor.post(f"/api/audits/{audit.id}/approve", json={}).status_code == 200
    assert as_supervisor.post(f"/api/audits/{audit.id}/reopen", json={"reason": ""}).status_code == 422
    response = as_supervisor.post(f"/api/audits/{audit.id}/reopen", json={"reason": "Customer complaint on this line."})
    assert response.status_code == 200
    assert response.json["status"] == "returned"
    assert [e.action for e in events(entity_id=audit.id) if e.action.startswith("audit.")] == [
        "audit.approved", "audit.reopened"]


def test_reopen_is_only_for_locked_audits(as_supervisor, audit):
    response = as_supervisor.post(f"/api/audits/{audit.id}/reopen", json={"reason": "why not"})
    assert response.status_code == 409


def test_an_auditor_cannot_review(auth, make, audit, commit):
    commit()
    assert auth.login(audit.auditor).status_code == 200
    response = auth.post(f"/api/audits/{audit.id}/approve", json={})
    assert response.status_code == 403
    assert db.session.get(type(audit), audit.id).status == AuditStatus.SUBMITTED


def test_unknown_audit_is_404_and_bad_body_is_422(as_supervisor):
    assert as_supervisor.post("/api/audits/00000000-0000-4000-8000-000000000000/approve", json={}).status_code == 404
    assert as_supervisor.post("/api/audits/00000000-0000-4000-8000-000000000000/return",
                              json={"comment": 5}).status_code == 422


def test_queue_shows_submitted_audits_new_findings_and_open_conflicts(as_supervisor, audit, make, commit):
    staff = make.user("staff")
    new = make.finding(audit.area, staff, title="Oil on the floor")
    taken_up = make.finding(audit.area, staff, title="Already triaged", triaged_at=utcnow())
    db.session.add(Conflict(entity="finding", entity_id=str(new.id), field="title", server_value="a",
                            device_value="b", base_version=1, server_version=2))
    commit()
    body = as_supervisor.client.get("/api/review/queue").json
    assert [a["id"] for a in body["audits"]] == [str(audit.id)]
    assert [f["id"] for f in body["findings"]] == [str(new.id)]
    assert str(taken_up.id) not in [f["id"] for f in body["findings"]]
    assert body["open_conflicts"] == 1


def test_accepting_a_finding_keeps_it_open_and_takes_it_off_the_queue(as_supervisor, audit, make, commit):
    finding = make.finding(audit.area, make.user("staff"))
    commit()
    response = as_supervisor.post(f"/api/findings/{finding.id}/triage", json={"decision": "accept"})
    assert response.status_code == 200
    assert response.json["status"] == "open" and response.json["triaged_at"]
    assert as_supervisor.client.get("/api/review/queue").json["findings"] == []
    assert events("finding.accepted", finding.id)
    assert changes("finding", finding.id)[-1].version == response.json["version"]
    again = as_supervisor.post(f"/api/findings/{finding.id}/triage", json={"decision": "accept"})
    assert again.status_code == 409


def test_rejecting_a_finding_needs_a_reason(as_supervisor, audit, make, commit):
    finding = make.finding(audit.area, make.user("staff"))
    commit()
    assert as_supervisor.post(f"/api/findings/{finding.id}/triage", json={"decision": "reject"}).status_code == 422
    response = as_supervisor.post(f"/api/findings/{finding.id}/triage",
                                  json={"decision": "reject", "reason": "Duplicate of yesterday's report."})
    assert response.status_code == 200
    assert response.json["status"] == FindingStatus.REJECTED
    assert response.json["status_reason"] == "Duplicate of yesterday's report."
    assert db.session.query(Comment).filter_by(finding_id=finding.id).one().body.startswith("Rejected:")


def test_staff_cannot_triage(auth, make, commit):
    area = make.area()
    staff = make.user("staff")
    finding = make.finding(area, staff)
    commit()
    auth.login(staff)
    assert auth.post(f"/api/findings/{finding.id}/triage", json={"decision": "accept"}).status_code == 403


def test_services_refuse_a_decision_on_a_planned_audit(app, make, supervisor):
    audit = make.audit(make.template(), make.area(), make.user("auditor"))
    with pytest.raises(audit_review.StateError):
        audit_review.approve(supervisor, audit)


def test_a_return_reaches_the_auditors_device_through_the_pull_feed(as_supervisor, audit, auth, client):
    assert as_supervisor.post(f"/api/audits/{audit.id}/return", json={"comment": "Q3 needs a photo."}).status_code == 200
    client.post("/api/auth/logout", headers=as_supervisor.headers())
    assert auth.login(audit.auditor).status_code == 200
    body = client.get("/api/sync/pull?cursor=0&limit=500").json
    by_entity = {}
    for change in body["changes"]:
        by_entity.setdefault(change["entity"], []).append(change)
    [pulled_audit] = [c for c in by_entity["audit"] if c["id"] == str(audit.id)][-1:]
    assert pulled_audit["fields"]["status"] == "returned"
    assert any(c["fields"].get("body") == "Q3 needs a photo." for c in by_entity["comment"])
