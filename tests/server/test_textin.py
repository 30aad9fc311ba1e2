"""A NUL character (which PostgreSQL text cannot hold) is refused with a 400, never a 500."""

from sqlalchemy import func, select

from server.extensions import db
from server.models import Finding, SyncOp
from tests.register_helpers import RegisterPages, page_tokens
from tests.syncops import FieldDevice, wire


def test_a_nul_in_a_json_body_is_a_400_that_says_why(client):
    response = client.post("/api/auth/login", json={"email": "quality\u0000@example.test", "password": "x"})
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "nul_character" and "NUL" in error["message"]


def test_a_nul_in_a_form_or_a_query_is_a_400_page(client, make, commit):
    supervisor = make.user("supervisor")
    commit()
    html = client.get("/login").get_data(as_text=True)
    token = next(iter(page_tokens(html).values()))
    response = client.post("/login", data={"email": "a\x00b@example.test", "password": "x", "csrf_token": token})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)

    assert RegisterPages(client).sign_in(supervisor).status_code == 302
    response = client.get("/findings?clause=8.%002")
    assert response.status_code == 400
    assert "clause" in response.get_data(as_text=True)


def test_a_nul_in_one_sync_op_rejects_that_op_only(auth, make, commit):
    area = make.area()
    staff = make.user("staff", home_area=area)
    commit()
    assert auth.login(staff).status_code == 200
    device = FieldDevice(staff)
    ops = [device.finding(area, title="Guard missing"), device.finding(area, title="Spill\x00kit"),
           device.finding(area, title="Exit blocked")]
    bad_id = device.finding(area, title="Odd id")
    bad_id["id"] = "not\x00a-uuid"
    ops.append(bad_id)

    response = auth.post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op) for op in ops]})

    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied", "rejected"]
    assert "NUL" in results[1]["reason"]
    assert set(db.session.scalars(select(Finding.title))) == {"Guard missing", "Exit blocked"}
    assert db.session.scalar(select(func.count()).select_from(SyncOp)) == 4
