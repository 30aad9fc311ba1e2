"""The sync API through HTTP: bootstrap, push, pull, malformed requests, the conflicts page."""

import json
import uuid

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Conflict, Device, Finding, SyncOp
from tests.syncops import FieldDevice, row_counts, wire


@pytest.fixture
def area(make):
    return make.area(site="Leeds works", name="Assembly")


@pytest.fixture
def as_staff(signed_in, staff):
    return signed_in(staff)


def push(auth, device: FieldDevice, ops, **kwargs):
    return auth.post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op) for op in ops]}, **kwargs)


def test_bootstrap_gives_what_a_device_needs_before_going_offline(as_staff, staff, area, make, commit):
    template = make.template()
    make.template(status="draft", name="Unfinished")
    area.responsible_id = make.user("supervisor").id
    commit()
    response = as_staff.client.get("/api/bootstrap")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"user", "areas", "templates", "csrf_token", "server_time"}
    assert body["user"]["email"] == staff.email and body["user"]["role"] == "staff"
    assert body["areas"] == [{"id": str(area.id), "name": "Assembly", "site": "Leeds works",
                              "site_id": str(area.site_id), "timezone": "Europe/London",
                              "responsible_id": str(area.responsible_id), "code": area.code}]
    assert [t["id"] for t in body["templates"]] == [str(template.id)]
    assert len(body["templates"][0]["questions"]) == 4
    assert {"kind", "options", "required", "clause", "finding_answers", "photo_answers"} <= set(body["templates"][0]["questions"][0])
    assert body["csrf_token"] and body["server_time"].endswith("+00:00")


@pytest.mark.parametrize("url", ["/api/bootstrap", "/api/sync/pull"])
def test_sync_reads_need_a_session(client, url):
    response = client.get(url)
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_push_applies_and_answers_one_result_per_op(as_staff, staff, area):
    device = FieldDevice(staff)
    ops = [device.finding(area, title="Guard missing"), device.finding(area, kind="bogus")]
    response = push(as_staff, device, ops)
    assert response.status_code == 200
    body = response.json
    assert body["last_seq"] == 2
    assert [(r["op_id"], r["status"]) for r in body["results"]] == [
        (str(ops[0]["op_id"]), "applied"), (str(ops[1]["op_id"]), "rejected")]
    assert body["results"][1]["reason"] and body["results"][1]["fields"]["kind"]

    again = push(as_staff, device, ops)
    assert [r["status"] for r in again.json["results"]] == ["duplicate", "duplicate"]
    assert [r["original_status"] for r in again.json["results"]] == ["applied", "rejected"]
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 1


def test_push_needs_the_csrf_token_with_a_session(as_staff, staff, area):
    device = FieldDevice(staff)
    response = as_staff.client.post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(device.finding(area))]})
    assert response.status_code == 400 and response.json["error"]["code"] == "csrf"
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0


def test_push_works_with_a_bearer_token(client, staff, area, commit):
    from server.services import accounts

    token = accounts.create_token(staff)
    commit()
    device = FieldDevice(staff)
    response = client.post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(device.finding(area))]},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["results"][0]["status"] == "applied"


def test_a_device_of_another_user_is_refused_whole(as_staff, staff, area, make, client, commit):
    other = make.user("staff")
    device = FieldDevice(other)
    device.push([device.finding(area)])
    mine = FieldDevice(staff, device_id=device.id)
    mine.seq = 1
    before = row_counts()
    response = push(as_staff, mine, [mine.finding(area)])
    assert response.status_code == 403 and response.json["error"]["code"] == "device_owner"
    assert row_counts() == before


def _valid(device, area) -> dict:
    return wire(device.finding(area))


MALFORMED = {
    "an array": lambda d, a: [_valid(d, a)],
    "no device": lambda d, a: {"ops": [_valid(d, a)]},
    "a device that is no uuid": lambda d, a: {"device_id": "phone-1", "ops": [_valid(d, a)]},
    "no ops": lambda d, a: {"device_id": str(d.id)},
    "ops not a list": lambda d, a: {"device_id": str(d.id), "ops": {"0": _valid(d, a)}},
    "an op without seq": lambda d, a: {"device_id": str(d.id), "ops": [_valid(d, a), {**_valid(d, a), "seq": None}]},
    "a seq as text": lambda d, a: {"device_id": str(d.id), "ops": [{**_valid(d, a), "seq": "1"}]},
    "seq zero": lambda d, a: {"device_id": str(d.id), "ops": [{**_valid(d, a), "seq": 0}]},
    "an unknown entity": lambda d, a: {"device_id": str(d.id), "ops": [_valid(d, a), {**_valid(d, a), "entity": "user"}]},
    "fields not an object": lambda d, a: {"device_id": str(d.id), "ops": [{**_valid(d, a), "fields": ["x"]}]},
    "an op_id that is no uuid": lambda d, a: {"device_id": str(d.id), "ops": [{**_valid(d, a), "op_id": "7"}]},
    "an unknown key in an op": lambda d, a: {"device_id": str(d.id), "ops": [{**_valid(d, a), "extra": 1}]},
    "an unknown key at the top": lambda d, a: {"device_id": str(d.id), "ops": [], "user": "admin"},
    "a naive at": lambda d, a: {"device_id": str(d.id), "ops": [{**_valid(d, a), "at": "2026-01-01T10:00:00"}]},
    "a seq past 64 bits": lambda d, a: {"device_id": str(d.id), "ops": [{**_valid(d, a), "seq": 2**64}]},
    "a base_version past 32 bits": lambda d, a: {"device_id": str(d.id), "ops": [{**_valid(d, a), "base_version": 2**40}]},
}


@pytest.mark.parametrize("shape", MALFORMED)
def test_a_malformed_push_is_refused_whole_with_400_and_applies_nothing(as_staff, staff, area, shape):
    device = FieldDevice(staff)
    before = row_counts()
    response = as_staff.post("/api/sync/push", json=MALFORMED[shape](device, area))
    assert response.status_code == 400, response.json
    assert response.json["error"]["message"]
    assert row_counts() == before


@pytest.mark.parametrize(("body", "content_type"), [
    ("not json at all", "application/json"),
    ('{"device_id": "x", "ops": [', "application/json"),
    ('{"device_id": "00000000-0000-0000-0000-000000000001", "ops": []}', "text/plain"),
])
def test_a_push_that_is_not_json_is_refused_with_400(as_staff, body, content_type):
    response = as_staff.post("/api/sync/push", data=body, content_type=content_type)
    assert response.status_code == 400 and response.json["error"]["message"]
    assert row_counts()["Device"] == 0


def test_too_many_ops_are_refused_whole(as_staff, staff, area, app):
    app.config["GEMBA_MAX_SYNC_OPS"] = 3
    device = FieldDevice(staff)
    response = push(as_staff, device, [device.finding(area) for _ in range(4)])
    assert response.status_code == 400
    assert "At most 3 ops" in json.dumps(response.json)
    assert row_counts()["Finding"] == 0


def test_a_push_larger_than_the_limit_is_refused_whole(as_staff, staff, area, app):
    app.config["GEMBA_MAX_SYNC_BYTES"] = 2000
    device = FieldDevice(staff)
    response = push(as_staff, device, [device.finding(area, description="x" * 3000)])
    assert response.status_code == 400 and response.json["error"]["code"] == "too_large"
    assert row_counts()["Finding"] == 0 and row_counts()["Device"] == 0


def test_a_seq_gap_answers_up_to_the_gap(as_staff, staff, area):
    device = FieldDevice(staff)
    ops = [device.finding(area) for _ in range(3)]
    response = push(as_staff, device, [ops[0], ops[2]])
    assert response.status_code == 200
    assert [r["op_id"] for r in response.json["results"]] == [str(ops[0]["op_id"])]
    assert response.json["last_seq"] == 1


def test_pull_pages_through_what_the_user_may_see(as_staff, staff, area, make, commit):
    device = FieldDevice(staff)
    mine = [device.finding(area, title=f"Mine {i}") for i in range(3)]
    device.push(mine)
    other = FieldDevice(make.user("staff"))
    other.push([other.finding(area, title="Not mine")])
    commit()

    seen, cursor, calls = [], 0, 0
    while True:
        response = as_staff.client.get(f"/api/sync/pull?cursor={cursor}&limit=2")
        assert response.status_code == 200
        body = response.json
        assert {"changes", "cursor", "more"} <= set(body) <= {"changes", "cursor", "more", "scope", "reset"}
        seen.extend(body["changes"])
        cursor, calls = body["cursor"], calls + 1
        if not body["more"]:
            break
    assert calls == 2
    assert sorted(c["fields"]["title"] for c in seen) == ["Mine 0", "Mine 1", "Mine 2"]
    assert {tuple(sorted(c)) for c in seen} == {("deleted", "entity", "fields", "id", "version")}


def test_a_new_device_takes_a_snapshot_then_pulls_from_its_cursor(as_staff, staff, area, make, commit):
    device = FieldDevice(staff)
    device.push([device.finding(area, title=f"Mine {i}") for i in range(3)])
    other = FieldDevice(make.user("staff"))
    other.push([other.finding(area, title="Not mine")])
    commit()
    seen, token = [], None
    while True:
        response = as_staff.client.get("/api/sync/snapshot?limit=2" + (f"&token={token}" if token else ""))
        assert response.status_code == 200
        body = response.json
        seen += body["changes"]
        token = body["token"]
        if not body["more"]:
            break
    assert token is None
    assert sorted(c["fields"]["title"] for c in seen if c["entity"] == "finding") == ["Mine 0", "Mine 1", "Mine 2"]
    device.push([device.finding(area, title="Later")])
    commit()
    later = as_staff.client.get(f"/api/sync/pull?cursor={body['cursor']}&scope={body['scope']}").json
    assert [c["fields"]["title"] for c in later["changes"]] == ["Later"] and later["reset"] is False


def test_a_device_of_todays_app_keeps_pulling_with_its_cursor(as_staff, staff, area, commit):
    """Today's app sends only cursor and limit, and reads changes, cursor and more: it keeps working."""
    device = FieldDevice(staff)
    device.push([device.finding(area, title="Before")])
    commit()
    first = as_staff.client.get("/api/sync/pull?cursor=0&limit=200").json
    assert [c["fields"]["title"] for c in first["changes"]] == ["Before"] and first["more"] is False
    device.push([device.finding(area, title="After")])
    commit()
    second = as_staff.client.get(f"/api/sync/pull?cursor={first['cursor']}&limit=200").json
    assert [c["fields"]["title"] for c in second["changes"]] == ["After"] and second["cursor"] > first["cursor"]


def test_a_supervisor_whose_sites_change_is_told_to_take_a_new_snapshot(signed_in, make, commit):
    north, south = make.area(site="North"), make.area(site="South")
    supervisor = make.user("supervisor", sites=[north.site, south.site])
    commit()
    auth = signed_in(supervisor)
    snap = auth.client.get("/api/sync/snapshot").json
    supervisor.sites = [north.site]
    commit()
    body = auth.client.get(f"/api/sync/pull?cursor={snap['cursor']}&scope={snap['scope']}").json
    assert body["reset"] is True and body["changes"] == []


@pytest.mark.parametrize("query", ["token=nope", "token=1.99.x", "limit=0", "days=0", "sites=not-a-uuid"])
def test_snapshot_refuses_a_bad_query_with_400(as_staff, query):
    response = as_staff.client.get(f"/api/sync/snapshot?{query}")
    assert response.status_code == 400 and response.json["error"]["code"]


@pytest.mark.parametrize("query", ["cursor=-1", "cursor=abc", f"cursor={2**63}", "cursor=264211939130628833280",
                                   "limit=0", "limit=100000"])
def test_pull_refuses_a_bad_query_with_400(as_staff, query):
    response = as_staff.client.get(f"/api/sync/pull?{query}")
    assert response.status_code == 400 and response.json["error"]["code"]


def test_the_openapi_document_describes_the_sync_routes_and_their_errors(client):
    spec = client.get("/api/openapi.json").json
    push_doc = spec["paths"]["/api/sync/push"]["post"]
    assert {"200", "400", "401", "403"} <= set(push_doc["responses"])
    assert "requestBody" in push_doc
    assert {"200", "400", "401"} <= set(spec["paths"]["/api/sync/pull"]["get"]["responses"])
    assert "200" in spec["paths"]["/api/bootstrap"]["get"]["responses"]


# ---------------------------------------------------------------- the conflicts page

@pytest.fixture
def conflict(make, area, staff):
    supervisor = make.user("supervisor")
    phone, office = FieldDevice(staff), FieldDevice(supervisor)
    record = uuid.uuid4()
    phone.push([phone.finding(area, record_id=record, title="Original")])
    office.push([office.op("finding", record, base_version=1, title="Office title")])
    phone.push([phone.op("finding", record, base_version=1, title="Phone title")])
    return {"supervisor": supervisor, "record": record, "id": db.session.scalar(select(Conflict.id))}


def test_supervisors_see_open_conflicts_with_both_values_and_resolve_them(auth, conflict, commit):
    commit()
    auth.login(conflict["supervisor"])
    page = auth.client.get("/conflicts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Office title" in html and "Phone title" in html and "Conflicts" in html
    token = auth.client.get("/api/bootstrap").json["csrf_token"]

    refused = auth.client.post(f"/conflicts/{conflict['id']}/resolve", data={"choice": "device"})
    assert refused.status_code == 400  # no CSRF token
    done = auth.client.post(f"/conflicts/{conflict['id']}/resolve", data={"choice": "device", "csrf_token": token})

    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, conflict["record"]).title == "Phone title"
    assert db.session.get(Conflict, conflict["id"]).resolution == "device"
    assert "No open conflicts" in auth.client.get("/conflicts").get_data(as_text=True)


def test_staff_cannot_open_the_conflicts_page(as_staff, conflict, commit):
    commit()
    assert as_staff.client.get("/conflicts").status_code == 403
    token = as_staff.csrf_token
    response = as_staff.client.post(f"/conflicts/{conflict['id']}/resolve", data={"choice": "device", "csrf_token": token})
    assert response.status_code == 403
    assert db.session.get(Finding, conflict["record"]).title == "Office title"


def test_device_rows_are_not_left_behind_by_a_refused_push(as_staff, staff):
    response = as_staff.post("/api/sync/push", json={"device_id": str(uuid.uuid4()), "ops": "x"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Device)) == 0
    assert db.session.scalar(select(func.count()).select_from(SyncOp)) == 0


@pytest.mark.parametrize("url", ["/api/sync/pull?cursor=0", "/api/sync/snapshot", "/api/bootstrap"])
def test_large_sync_answers_are_gzipped_when_the_client_accepts_it(as_staff, staff, area, url, make, commit):
    import gzip

    make.template(questions=12)
    device = FieldDevice(staff)
    device.push([device.finding(area, title=f"Guard missing on press {i}", description="x" * 200) for i in range(8)])
    commit()
    plain = as_staff.client.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    packed = as_staff.client.get(url, headers={"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
    assert packed.headers["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(packed.get_data()))
    assert set(body) == set(plain.json) and len(packed.get_data()) < len(plain.get_data()) / 2
    if "changes" in body:
        assert body["changes"] == plain.json["changes"]
    refused = as_staff.client.get(url, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_small_answers_are_not_gzipped(as_staff):
    response = as_staff.client.get("/api/sync/pull?cursor=0", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers and response.json["changes"] == []
