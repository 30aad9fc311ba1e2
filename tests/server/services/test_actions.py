"""Corrective actions from plan to verified closure (ISO 9001 10.2), through the API."""

import uuid
from datetime import date, timedelta

import pytest

from server.extensions import db
from server.models import ActionStatus, CorrectiveAction, Finding, FindingStatus
from server.services import actions
from tests.register_helpers import changes, events

WHYS = [
    {"why": "Why was the fire door open?", "because": "It was wedged for pallet traffic."},
    {"why": "Why wedge it?", "because": "The door is too heavy to push with a pallet truck."},
    {"why": "Why is there no other route?", "because": "The side door was never automated."},
]


@pytest.fixture
def people(make):
    area = make.area()
    return {
        "area": area,
        "supervisor": make.user("supervisor"),
        "owner": make.user("staff", name="Olive Owner"),
        "other": make.user("staff"),
    }


@pytest.fixture
def finding(make, people):
    return make.finding(people["area"], people["other"], title="Fire door wedged open")


def plan(people, **overrides) -> dict:
    return {
        "containment": "Door closed, wedge removed.",
        "whys": WHYS,
        "root_cause": "No powered door on the pallet route.",
        "plan": "Fit a powered door closer on the pallet route.",
        "owner_id": str(people["owner"].id),
        "due_date": (date.today() + timedelta(days=14)).isoformat(),
        "effectiveness_due": (date.today() + timedelta(days=44)).isoformat(),
    } | overrides


@pytest.fixture
def as_supervisor(auth, people, finding, commit):
    commit()
    auth.login(people["supervisor"])
    return auth


def test_planning_an_action_moves_the_finding_and_reaches_the_owner(as_supervisor, people, finding, client):
    response = as_supervisor.post(f"/api/findings/{finding.id}/actions", json=plan(people))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["owner"]["name"] == "Olive Owner" and len(body["whys"]) == 3
    db.session.expire_all()
    finding = db.session.get(Finding, finding.id)
    assert finding.status == FindingStatus.ACTION_PLANNED
    assert finding.triaged_at is not None  # planning takes it off the triage queue
    [published] = changes("action", body["id"])
    assert published.user_id == people["owner"].id and published.area_id == people["area"].id
    assert events("action.planned", body["id"])
    assert events("finding.action_planned", finding.id)
    # The owner sees it under "my actions".
    as_supervisor.client.post("/api/auth/logout", headers=as_supervisor.headers())
    as_supervisor.login(people["owner"])
    mine = as_supervisor.client.get("/api/actions/mine").json["actions"]
    assert [a["id"] for a in mine] == [body["id"]]


@pytest.mark.parametrize(("change", "field"), [
    ({"whys": []}, "whys"),
    ({"whys": WHYS * 2}, "whys"),
    ({"whys": [{"why": "Why?", "because": ""}]}, "whys"),
    ({"root_cause": ""}, "root_cause"),
    ({"plan": "  "}, "plan"),
    ({"owner_id": "00000000-0000-4000-8000-000000000000"}, "owner_id"),
    ({"due_date": (date.today() - timedelta(days=1)).isoformat()}, "due_date"),
    ({"due_date": "tomorrow"}, "due_date"),
    ({"effectiveness_due": (date.today() + timedelta(days=1)).isoformat()}, "effectiveness_due"),
])
def test_an_incomplete_plan_is_refused_field_by_field(as_supervisor, people, finding, change, field):
    response = as_supervisor.post(f"/api/findings/{finding.id}/actions", json=plan(people, **change))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert db.session.query(CorrectiveAction).count() == 0


def test_only_supervisors_plan_actions(auth, people, finding, commit):
    commit()
    auth.login(people["owner"])
    assert auth.post(f"/api/findings/{finding.id}/actions", json=plan(people)).status_code == 403


def _planned(as_supervisor, people, finding, **overrides) -> uuid.UUID:
    response = as_supervisor.post(f"/api/findings/{finding.id}/actions", json=plan(people, **overrides))
    assert response.status_code == 201, response.json
    return uuid.UUID(response.json["id"])


def _switch(auth, user):
    auth.client.post("/api/auth/logout", headers=auth.headers())
    assert auth.login(user).status_code == 200


def test_owner_marks_done_then_an_effective_check_verifies_and_closes(as_supervisor, people, finding):
    today = date.today().isoformat()
    action_id = _planned(as_supervisor, people, finding, due_date=today, effectiveness_due=today)
    _switch(as_supervisor, people["other"])
    # The person who raised the finding does not own the action.
    assert as_supervisor.post(f"/api/actions/{action_id}/done", json={}).status_code == 403
    _switch(as_supervisor, people["owner"])
    done = as_supervisor.post(f"/api/actions/{action_id}/done", json={"note": "Closer fitted."})
    assert done.status_code == 200 and done.json["status"] == "done"
    assert as_supervisor.post(f"/api/actions/{action_id}/done", json={}).status_code == 409
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == FindingStatus.ACTION_DONE
    # Only a supervisor checks effectiveness.
    assert as_supervisor.post(f"/api/actions/{action_id}/effectiveness", json={"effective": True}).status_code == 403
    _switch(as_supervisor, people["supervisor"])
    checked = as_supervisor.post(f"/api/actions/{action_id}/effectiveness",
                                 json={"effective": True, "note": "No wedged doors in 4 walks."})
    assert checked.status_code == 200, checked.json
    assert checked.json["action"]["status"] == "effective" and checked.json["follow_up"] is None
    db.session.expire_all()
    closed = db.session.get(Finding, finding.id)
    assert closed.status == FindingStatus.CLOSED and closed.closed_at is not None
    trail = [e.action for e in events(entity_id=finding.id)]
    assert trail[-2:] == ["finding.verified", "finding.closed"]


def test_effectiveness_waits_for_its_date(as_supervisor, people, finding):
    action_id = _planned(as_supervisor, people, finding)
    assert as_supervisor.post(f"/api/actions/{action_id}/done", json={}).status_code == 200
    early = as_supervisor.post(f"/api/actions/{action_id}/effectiveness", json={"effective": True})
    assert early.status_code == 409
    assert "on or after" in early.json["error"]["message"]


def test_not_effective_opens_a_new_action(as_supervisor, people, finding):
    today = date.today().isoformat()
    action_id = _planned(as_supervisor, people, finding, due_date=today, effectiveness_due=today)
    as_supervisor.post(f"/api/actions/{action_id}/done", json={})
    no_note = as_supervisor.post(f"/api/actions/{action_id}/effectiveness", json={"effective": False})
    assert no_note.status_code == 422
    response = as_supervisor.post(f"/api/actions/{action_id}/effectiveness", json={
        "effective": False, "note": "Door found wedged again.", "next_plan": "Re-route pallets via door B.",
    })
    assert response.status_code == 200, response.json
    follow_up = response.json["follow_up"]
    assert follow_up["status"] == "open" and follow_up["plan"] == "Re-route pallets via door B."
    assert follow_up["whys"] == WHYS  # the analysis carries over, to be revised
    db.session.expire_all()
    assert db.session.get(CorrectiveAction, action_id).status == ActionStatus.NOT_EFFECTIVE
    assert db.session.get(Finding, finding.id).status == FindingStatus.ACTION_PLANNED


def test_finding_closes_only_when_every_action_is_effective(app, people, finding):
    today = date.today()
    data = plan(people, due_date=today, effectiveness_due=today)
    sup = people["supervisor"]
    first = actions.plan_action(sup, finding, data)
    second = actions.plan_action(sup, finding, data | {"plan": "Train drivers"})
    actions.mark_done(people["owner"], first)
    assert finding.status == FindingStatus.ACTION_PLANNED  # the second is still open
    actions.mark_done(people["owner"], second)
    assert finding.status == FindingStatus.ACTION_DONE
    actions.check_effectiveness(sup, first, True, "ok")
    assert finding.status == FindingStatus.ACTION_DONE  # the second is not checked yet
    actions.check_effectiveness(sup, second, True, "ok")
    assert finding.status == FindingStatus.CLOSED


def test_no_new_action_on_a_closed_finding(app, people, make):
    closed = make.finding(people["area"], people["other"], status=FindingStatus.CLOSED)
    with pytest.raises(actions.StateError):
        actions.plan_action(people["supervisor"], closed, plan(people))


def test_replanning_bumps_only_changed_fields(as_supervisor, people, finding):
    action_id = _planned(as_supervisor, people, finding)
    before = db.session.get(CorrectiveAction, action_id).field_versions
    response = as_supervisor.client.put(f"/api/actions/{action_id}", headers=as_supervisor.headers(),
                                        json=plan(people, plan="Fit a powered door instead."))
    assert response.status_code == 200
    db.session.expire_all()
    action = db.session.get(CorrectiveAction, action_id)
    assert action.field_versions["plan"] == action.version
    assert action.field_versions["root_cause"] == before["root_cause"]
    assert events("action.updated", action_id)[0].changes["plan"][1] == "Fit a powered door instead."


def test_overdue_is_open_and_past_due(app, people, finding, make):
    late = make.action(finding, people["owner"], due_date=date.today() - timedelta(days=2))
    make.action(finding, people["owner"], due_date=date.today() - timedelta(days=2), status=ActionStatus.DONE)
    make.action(finding, people["owner"], due_date=date.today())
    assert actions.overdue_count(people["supervisor"]) == 1
    listed = db.session.scalars(actions.action_query(people["supervisor"], overdue=True)).all()
    assert [a.id for a in listed] == [late.id]
