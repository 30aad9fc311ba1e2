"""The programme API: impartiality and competence on the API path, suggestions, checklist files."""

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Audit, Template, TemplateStatus
from server.services import accounts, checklists, programme


@pytest.fixture
def world(make, commit):
    quality = make.user("supervisor")
    template = make.template(standard="ISO 9001:2015")
    paint = make.area(name="Paint shop")
    insider = make.user("auditor", name="Insider", home_area=paint)
    outsider = make.user("auditor", name="Outsider")
    for auditor in (insider, outsider):
        programme.set_qualification(quality, auditor, "ISO 9001", None)
    commit()
    return {"quality": quality, "template": template, "paint": paint, "insider": insider, "outsider": outsider}


@pytest.fixture
def api(auth, world):
    assert auth.login(world["quality"]).status_code == 200
    return auth


def plan_body(world, **overrides):
    return {"template_id": str(world["template"].id), "area_id": str(world["paint"].id),
            "planned_date": (date.today() + timedelta(days=9)).isoformat()} | overrides


def test_planning_through_the_api_refuses_a_conflict_of_interest(api, world):
    refused = api.post("/api/programme/audits", json=plan_body(world, auditor_id=str(world["insider"].id)))
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "impartiality"
    assert "works in" in refused.json["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Audit)) == 0

    audit_id = str(uuid.uuid4())
    planned = api.post("/api/programme/audits", json=plan_body(world, id=audit_id, auditor_id=str(world["outsider"].id)))
    assert planned.status_code == 201
    assert (planned.json["id"], planned.json["auditor_id"], planned.json["status"]) == (audit_id, str(world["outsider"].id), "planned")
    again = api.post("/api/programme/audits", json=plan_body(world, id=audit_id))
    assert again.status_code == 422 and "id" in again.json["error"]["fields"]


def test_reassigning_through_the_api_checks_impartiality(api, world):
    audit_id = api.post("/api/programme/audits", json=plan_body(world)).json["id"]
    refused = api.post(f"/api/programme/audits/{audit_id}/assign", json={"auditor_id": str(world["insider"].id)})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "impartiality"
    ok = api.post(f"/api/programme/audits/{audit_id}/assign", json={"auditor_id": str(world["outsider"].id)})
    assert ok.status_code == 200 and ok.json["auditor_id"] == str(world["outsider"].id) and ok.json["version"] == 2
    cleared = api.post(f"/api/programme/audits/{audit_id}/assign", json={"auditor_id": None})
    assert cleared.json["auditor_id"] is None


def test_suggestions_rank_and_explain(api, world):
    audit_id = api.post("/api/programme/audits", json=plan_body(world)).json["id"]
    body = api.client.get(f"/api/programme/audits/{audit_id}/suggestions").json
    assert [s["name"] for s in body["ranked"]] == ["Outsider"]
    assert body["ranked"][0]["rank"] == 1 and body["ranked"][0]["last_here"] is None
    assert [(i["name"], "works in" in i["reason"]) for i in body["ineligible"]] == [("Insider", True)]


@pytest.mark.parametrize(("body", "status"), [
    ({"template_id": "nope"}, 422),
    ({"planned_date": "31/12/2026"}, 422),
    ({"area_id": str(uuid.uuid4())}, 422),
    ({"auditor_id": str(uuid.uuid4())}, 422),
])
def test_bad_plans_are_422_json(api, world, body, status):
    response = api.post("/api/programme/audits", json=plan_body(world, **body))
    assert response.status_code == status
    assert "error" in response.json


def test_the_programme_api_is_for_planners_only(auth, world, commit, make):
    auditor = world["outsider"]
    assert auth.login(auditor).status_code == 200
    assert auth.client.get("/api/programme/audits").status_code == 403
    assert auth.post("/api/programme/audits", json=plan_body(world)).status_code == 403


def test_listing_and_rescheduling(api, world):
    audit_id = api.post("/api/programme/audits", json=plan_body(world)).json["id"]
    listed = api.client.get("/api/programme/audits", query_string={"area_id": str(world["paint"].id)}).json["audits"]
    assert [a["id"] for a in listed] == [audit_id]
    new_day = (date.today() + timedelta(days=30)).isoformat()
    moved = api.post(f"/api/programme/audits/{audit_id}/reschedule", json={"planned_date": new_day})
    assert moved.status_code == 200 and moved.json["planned_date"] == new_day
    assert api.client.get("/api/programme/audits?limit=0").status_code == 422


def test_a_checklist_travels_between_sites_as_json(api, world, make, commit):
    quality = world["quality"]
    template = checklists.import_checklist(quality, checklists.bundled_checklist("iso45001-safety-walk.json"))
    checklists.publish(quality, template)
    commit()
    exported = api.client.get(f"/api/checklists/{template.id}/export")
    assert exported.status_code == 200
    file = exported.json
    assert file["format"] == "gemba-checklist/1" and len(file["questions"]) == len(template.questions)

    other_site = make.user("admin")
    token = accounts.create_token(other_site, "hull")
    commit()
    imported = api.client.post("/api/checklists/import", json=file | {"name": "Hull safety walk"},
                               headers={"Authorization": f"Bearer {token}"})
    assert imported.status_code == 201
    assert (imported.json["version"], imported.json["status"]) == (1, TemplateStatus.DRAFT)
    copy = db.session.get(Template, uuid.UUID(imported.json["id"]))
    assert checklists.export_checklist(copy) == file | {"name": "Hull safety walk"}
    bad = api.post("/api/checklists/import", json={"format": "gemba-checklist/1"})
    assert bad.status_code == 422 and "name" in bad.json["error"]["fields"]
    not_json = api.post("/api/checklists/import", data="nope", content_type="text/plain")
    assert not_json.status_code == 422
