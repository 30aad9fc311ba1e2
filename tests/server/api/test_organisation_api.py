"""/api/sites, /api/areas, /api/users: the organisation for integrations. Admins only; every change in the trail."""

import uuid

import pytest

from server.extensions import db
from server.models import AccountLink, User
from tests.register_helpers import events


@pytest.fixture
def admin_api(make, signed_in):
    return signed_in(make.user("admin", name="Ada Admin"))


def _patch(api, url, **body):
    return api.client.patch(url, json=body, headers=api.headers())


def test_an_admin_creates_a_site_an_area_and_a_person_each_201_with_its_id(admin_api, mailbox):
    site = admin_api.post("/api/sites", json={"name": "Leeds", "timezone": "Europe/London"})
    assert site.status_code == 201, site.json
    assert site.json["timezone"] == "Europe/London" and site.json["id"]
    area = admin_api.post("/api/areas", json={"site_id": site.json["id"], "name": "Stores", "risk_level": "high",
                                              "audit_every_months": 6})
    assert area.status_code == 201, area.json
    assert area.json["label"] == "Leeds / Stores" and area.json["risk_level"] == "high"
    person = admin_api.post("/api/users", json={"email": "Pat@Example.test", "name": "Pat Picker", "role": "staff",
                                                "home_area_id": area.json["id"], "site_ids": [site.json["id"]]})
    assert person.status_code == 201, person.json
    body = person.json
    assert body["email"] == "pat@example.test" and body["site_ids"] == [site.json["id"]]
    assert body["has_password"] is False and body["active"] is True
    assert body["invitation"]["sent"] is True and body["invitation"]["purpose"] == "invitation"
    assert "https://gemba.example.test/welcome/" in mailbox.link_for("pat@example.test")
    for action, entity_id in (("site.created", site.json["id"]), ("area.created", area.json["id"]),
                              ("user.created", body["id"]), ("user.invitation_sent", body["id"])):
        assert events(action, entity_id), action


def test_the_invitation_link_is_stored_only_as_a_hash(admin_api, mailbox):
    person = admin_api.post("/api/users", json={"email": "sam@example.test", "name": "Sam", "role": "auditor"})
    secret = mailbox.link_for("sam@example.test").rsplit("/", 1)[1]
    link = db.session.query(AccountLink).filter_by(user_id=uuid.UUID(person.json["id"])).one()
    assert secret not in link.token_hash and len(link.token_hash) == 64


def test_a_person_is_added_even_when_the_mail_server_is_down_and_the_answer_says_so(app, admin_api, mailbox):
    app.config["SMTP_PORT"] = 1  # nothing listens there
    person = admin_api.post("/api/users", json={"email": "kim@example.test", "name": "Kim", "role": "staff"})
    assert person.status_code == 201
    assert person.json["invitation"]["sent"] is False and "mail server" in person.json["invitation"]["problem"]


def test_bad_values_are_422_with_the_field(admin_api, make):
    make.site("Leeds")
    db.session.commit()
    wrong_zone = admin_api.post("/api/sites", json={"name": "York", "timezone": "Mars/Olympus"})
    assert wrong_zone.status_code == 422 and "timezone" in wrong_zone.json["error"]["fields"]
    taken = admin_api.post("/api/sites", json={"name": "Leeds"})
    assert taken.status_code == 422 and "name" in taken.json["error"]["fields"]
    no_site = admin_api.post("/api/areas", json={"site_id": "00000000-0000-0000-0000-000000000000", "name": "X"})
    assert no_site.status_code == 422 and "site_id" in no_site.json["error"]["fields"]
    bad_role = admin_api.post("/api/users", json={"email": "x@example.test", "name": "X", "role": "boss"})
    assert bad_role.status_code == 422 and "role" in bad_role.json["error"]["fields"]
    unknown_field = admin_api.post("/api/sites", json={"name": "Hull", "zone": "UTC"})
    assert unknown_field.status_code == 422


def test_patch_renames_and_retires_and_the_trail_keeps_each_change(admin_api, make):
    area = make.area(name="Old name")
    db.session.commit()
    renamed = _patch(admin_api, f"/api/areas/{area.id}", name="New name", audit_every_months=3)
    assert renamed.status_code == 200 and renamed.json["name"] == "New name"
    assert events("area.changed", area.id)[-1].changes == {"name": ["Old name", "New name"],
                                                           "audit_every_months": [12, 3]}
    retired = _patch(admin_api, f"/api/areas/{area.id}", retired=True)
    assert retired.status_code == 200 and retired.json["retired_at"]
    listed = admin_api.client.get("/api/areas").json["areas"]
    assert str(area.id) not in [a["id"] for a in listed]
    with_retired = admin_api.client.get("/api/areas?include_retired=true").json["areas"]
    assert str(area.id) in [a["id"] for a in with_retired]


def test_retiring_an_area_with_open_work_says_what_is_open(admin_api, make, template):
    area = make.area(name="Dispatch")
    staff = make.user("staff")
    make.audit(template, area, None)
    make.action(make.finding(area, staff), staff)
    db.session.commit()
    refused = _patch(admin_api, f"/api/areas/{area.id}", retired=True)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "open_work"
    message = refused.json["error"]["message"]
    assert "1 audit not yet approved" in message and "1 open finding" in message and "1 open corrective action" in message
    forced = _patch(admin_api, f"/api/areas/{area.id}", retired=True, even_with_open_work=True)
    assert forced.status_code == 200 and forced.json["retired_at"]


def test_retiring_a_site_retires_its_areas(admin_api, make):
    area = make.area(site="Hull")
    db.session.commit()
    response = _patch(admin_api, f"/api/sites/{area.site_id}", retired=True)
    assert response.status_code == 200
    db.session.expire_all()
    assert area.retired_at is not None
    refused = admin_api.post("/api/areas", json={"site_id": str(area.site_id), "name": "New"})
    assert refused.status_code == 422 and "site_id" in refused.json["error"]["fields"]


def test_patch_user_changes_role_home_area_sites_and_deactivates_at_once(app, admin_api, make, signed_in):
    area, other = make.area(site="Leeds"), make.area(site="York")
    person = make.user("staff", home_area=area)
    theirs = signed_in(person)
    changed = _patch(admin_api, f"/api/users/{person.id}", role="supervisor", home_area_id=str(other.id),
                     site_ids=[str(other.site_id)])
    assert changed.status_code == 200, changed.json
    assert changed.json["role"] == "supervisor" and changed.json["site_ids"] == [str(other.site_id)]
    assert events("user.changed", person.id)[-1].changes["role"] == ["staff", "supervisor"]
    assert theirs.client.get("/api/me").status_code == 200
    off = _patch(admin_api, f"/api/users/{person.id}", active=False)
    assert off.status_code == 200 and off.json["active"] is False
    refused = theirs.client.get("/api/me")
    assert refused.status_code == 401 and refused.json["error"]["code"] == "account_disabled"
    back = _patch(admin_api, f"/api/users/{person.id}", active=True)
    assert back.json["active"] is True and events("user.reactivated", person.id)


def test_the_last_admin_can_be_neither_demoted_nor_deactivated(admin_api, make):
    me = db.session.query(User).filter_by(name="Ada Admin").one()
    other = make.user("admin")
    db.session.commit()
    assert _patch(admin_api, f"/api/users/{me.id}", role="staff").status_code == 422  # not one's own role
    assert _patch(admin_api, f"/api/users/{other.id}", active=False).status_code == 200
    # Ada is now the only active admin
    third = make.user("supervisor")
    db.session.commit()
    assert _patch(admin_api, f"/api/users/{third.id}", role="admin").status_code == 200
    assert _patch(admin_api, f"/api/users/{third.id}", role="staff").status_code == 200


def test_lists_filter_and_page(admin_api, make):
    leeds, york = make.area(site="Leeds", name="Stores"), make.area(site="York", name="Stores")
    for n in range(7):
        make.user("staff", name=f"Leeds person {n}", home_area=leeds).sites = [leeds.site]
    make.user("auditor", name="York auditor", home_area=york)
    db.session.commit()
    page = admin_api.client.get(f"/api/users?site_id={leeds.site_id}&per_page=3&page=3").json
    assert page["total"] == 7 and page["page"] == 3 and [u["name"] for u in page["users"]] == ["Leeds person 6"]
    assert [u["name"] for u in admin_api.client.get("/api/users?role=auditor").json["users"]] == ["York auditor"]
    assert admin_api.client.get("/api/users?q=YORK").json["total"] == 1
    assert admin_api.client.get(f"/api/users?area_id={york.id}").json["total"] == 1
    areas = admin_api.client.get(f"/api/areas?site_id={york.site_id}").json
    assert areas["total"] == 1 and areas["areas"][0]["label"] == "York / Stores"
    sites = admin_api.client.get("/api/sites?q=lee").json
    assert [s["name"] for s in sites["sites"]] == ["Leeds"]
    assert admin_api.client.get("/api/users?per_page=500").status_code == 422


def test_an_admin_sends_a_reset_link_to_someone_with_a_password(admin_api, make, mailbox):
    person = make.user("staff", email="rita@example.test")
    db.session.commit()
    response = admin_api.post(f"/api/users/{person.id}/invitation")
    assert response.status_code == 200 and response.json["purpose"] == "reset" and response.json["sent"]
    assert mailbox.to("rita@example.test")[-1]["Subject"] == "Reset your Gemba password"


def test_only_admins_reach_the_organisation(make, signed_in):
    supervisor = signed_in(make.user("supervisor"))
    assert supervisor.client.get("/api/users").status_code == 403
    assert supervisor.post("/api/sites", json={"name": "X"}).status_code == 403
