"""Text the database cannot store (NUL, lone surrogates) and JSON too deep to walk: a 400, never a 500."""

import logging

import pytest
from sqlalchemy import func, select

from server import textin
from server.extensions import db
from server.models import Finding, SyncOp
from tests.register_helpers import RegisterPages, page_tokens
from tests.conftest import AuthActions
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


# --- one gate for every route: lone surrogates, NULs and deep JSON are a 400, never a 500 ---

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
DEEP = b"[" * 40 + b"]" * 40
VERY_DEEP = b'{"a":' * 5000 + b"1" + b"}" * 5000
BAD_BODIES = {
    "surrogate escape in a value": (b'{"email": "a\\ud800@example.test", "password": "x"}', "invalid_text"),
    "surrogate escape in a key": (b'{"\\udfff": "x", "email": "a@example.test"}', "invalid_text"),
    "surrogate as raw bytes": (b'{"email": "a\xed\xa0\x80b", "password": "x"}', "invalid_text"),
    "NUL escape": (b'{"title": "a\\u0000b"}', "nul_character"),
    "nested 40 deep": (DEEP, "too_deep"),
    "nested 5000 deep": (VERY_DEEP, "too_deep"),
}


def _body_routes(app, values):
    from tests.server.test_access import ENDPOINT_VALUES, _allowed, _routes, _url

    for rule, method in _routes(app):
        if method in BODY_METHODS and rule.endpoint not in {"auth.logout", "pages.logout"}:
            url = _url(rule, values | ENDPOINT_VALUES.get(rule.endpoint, {}))
            yield method, url, rule.endpoint, _allowed(rule.endpoint, method)


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_every_route_refuses_bad_json_text_with_a_400_that_says_why(app, world, case, caplog):
    people, values = world
    body, code = BAD_BODIES[case]
    wrong, walked = [], 0
    for role in ("anonymous", "staff", "admin"):
        client = app.test_client()
        auth = AuthActions(client)
        if role != "anonymous":
            assert auth.login(people[role]).status_code == 200
        for method, url, endpoint, allowed in _body_routes(app, values):
            if endpoint == "sync.push" and code != "too_deep":
                continue  # op by op: below
            response = client.open(url, method=method, data=body, content_type="application/json",
                                   headers=auth.headers())
            error = (response.json or {}).get("error", {}) if response.is_json else {}
            if url.startswith("/api/"):
                ok = response.status_code == 400 and error.get("code") == code and error.get("message")
            else:  # a page: the gate's page, or a CSRF refusal (pages take forms, not JSON) met first
                page = response.get_data(as_text=True)
                ok = response.status_code == 400 and any(m in page for m in ("Text may not", "nested", "CSRF"))
            if role not in allowed:  # refused before the body is read: that is fine too
                ok = ok or response.status_code in (401, 403, 404) or (
                    response.status_code == 302 and "/login" in response.headers["Location"])
            else:
                walked += 1
            if not ok:
                wrong.append(f"{role} {method} {url} -> {response.status_code} {error}")
    assert walked > 60
    assert not wrong, "\n".join(wrong)
    # A 4xx is the sender's mistake: nothing is logged as an error, no traceback is written.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text


def test_anonymous_sign_in_with_a_lone_surrogate_is_a_400(client):
    response = client.post("/api/auth/login", json={"email": "quality\ud800@example.test", "password": "x"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_text"
    assert "surrogate" in response.json["error"]["message"]
    response = client.post("/api/auth/login", json={"email": "q@example.test", "password": "\udc00"})
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_text"


def test_json_a_little_under_the_depth_limit_is_not_refused_by_the_gate(auth, make, commit):
    commit()
    nested = "x"
    for _ in range(textin.MAX_DEPTH - 2):
        nested = [nested]
    response = auth.client.post("/api/auth/login", json={"email": nested, "password": "x"})
    # the schema refuses a list as an email: a 4xx that is not the gate's
    assert response.status_code in (400, 401, 422)
    assert response.json["error"]["code"] not in {"too_deep", "invalid_text"}


@pytest.mark.parametrize("query", ["q=%ED%A0%80", "q=%F0%9F", "%ED%A0%80=x", "clause=%C0%80"])
def test_query_strings_with_surrogate_or_broken_utf8_are_never_a_500(app, world, query):
    people, values = world
    auth = AuthActions(app.test_client())
    assert auth.login(people["admin"]).status_code == 200
    wrong = []
    from tests.server.test_access import _routes, _url
    for rule, method in _routes(app):
        if method != "GET" or rule.endpoint in {"auth.logout", "pages.logout"}:
            continue
        url = _url(rule, values) + "?" + query
        status = auth.client.get(url).status_code
        if status >= 500:
            wrong.append(f"GET {url} -> {status}")
    assert not wrong, "\n".join(wrong)


def test_form_fields_with_surrogates_are_a_400_or_stored_as_valid_text(register, make, commit):
    supervisor = make.user("supervisor")
    pages = register(supervisor)
    area = make.area()
    commit()
    for raw in (b"\xed\xa0\x80", b"%ED%A0%80"):
        response = pages.client.post("/login", data=b"email=a" + raw + b"&password=x",
                                     content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500
    assert textin.text_problem("a\ud800") == "invalid_text"
    assert textin._pairs_problems([("title", "a\udfffb")]) == {"title": "invalid_text"}
    assert area is not None


def test_the_gate_walks_without_recursion():
    value = "x"
    for _ in range(100_000):
        value = {"k": [value]}
    assert textin.problem(value) == "too_deep"
    assert textin.problem({"a": ["ok", {"b": "\ud83d"}]}) == "invalid_text"
    assert textin.problem({"a": ["ok", {"b": "\U0001F600 fine"}]}) is None
    assert textin.problem({"\x00": 1}) == "nul_character"


@pytest.mark.parametrize("where", ["value", "key", "id"])
def test_a_surrogate_in_one_sync_op_rejects_that_op_only(auth, make, commit, where):
    area = make.area()
    staff = make.user("staff", home_area=area)
    commit()
    assert auth.login(staff).status_code == 200
    device = FieldDevice(staff)
    bad = device.finding(area, title="Spill kit")
    if where == "value":
        bad["fields"]["title"] = "Spill \ud800 kit"
    elif where == "key":
        bad["fields"]["\udc00"] = "x"
    else:
        bad["id"] = "\ud800" * 8
    ops = [device.finding(area, title="Guard missing"), bad, device.finding(area, title="Exit blocked")]
    for index, op in enumerate(ops, start=1):
        op["seq"] = index
    response = auth.post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op) for op in ops]})

    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["code"] in {"invalid_text", "invalid"}
    assert set(db.session.scalars(select(Finding.title))) == {"Guard missing", "Exit blocked"}
    assert db.session.scalar(select(func.count()).select_from(SyncOp)) == 3


def test_a_push_nested_too_deep_is_refused_whole_with_a_400(auth, make, commit):
    area = make.area()
    staff = make.user("staff", home_area=area)
    commit()
    assert auth.login(staff).status_code == 200
    device = FieldDevice(staff)
    op = wire(device.finding(area))
    deep = "x"
    for _ in range(50):
        deep = [deep]
    op["fields"]["title"] = deep
    response = auth.post("/api/sync/push", json={"device_id": str(device.id), "ops": [op]})
    assert response.status_code == 400 and response.json["error"]["code"] == "too_deep"
    assert db.session.scalar(select(func.count()).select_from(SyncOp)) == 0


def test_a_checklist_file_nested_too_deep_or_with_surrogates_is_shown_on_the_form(register, make, commit):
    supervisor = make.user("supervisor")
    pages = register(supervisor)
    commit()
    for text, expected in (('{"a":' * 3000 + "1" + "}" * 3000, "nested more than"),
                           ('{"format": "gemba-checklist/1", "name": "\\ud800"}', "surrogate")):
        response = pages.post_form("/checklists", "/checklists/import", text=text)
        assert response.status_code in (400, 422), response.status_code
        assert expected in response.get_data(as_text=True)
