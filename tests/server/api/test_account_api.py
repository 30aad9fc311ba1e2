"""/api/me/...: a person's own signed-in sessions, API tokens and password."""

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import ApiToken, utcnow
from server.services import tokens
from tests.conftest import AuthActions
from tests.register_helpers import events


def _signed_in(app, user, address="192.0.2.10", agent="Phone/1.0"):
    browser = AuthActions(app.test_client())
    browser.client.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": agent})
    assert browser.login(user).status_code == 200
    return browser


def test_a_person_lists_their_own_live_sessions_with_the_current_one_marked(app, make, commit):
    user, other = make.user(), make.user()
    commit()
    phone = _signed_in(app, user, "192.0.2.10", "Phone/1.0")
    laptop = _signed_in(app, user, "198.51.100.3", "Laptop/2.0")
    _signed_in(app, other)
    listed = laptop.client.get("/api/me/sessions").json["sessions"]
    assert sorted((s["address"], s["user_agent"], s["current"]) for s in listed) == [
        ("192.0.2.10", "Phone/1.0", False), ("198.51.100.3", "Laptop/2.0", True)]
    assert {"id", "created_at", "last_seen_at", "expires_at"} <= set(listed[0])
    phone.post("/api/auth/logout")
    assert [s["address"] for s in laptop.client.get("/api/me/sessions").json["sessions"]] == ["198.51.100.3"]


def test_revoking_a_session_ends_it_at_its_next_request(app, make, commit):
    user = make.user()
    commit()
    lost_phone = _signed_in(app, user, agent="Lost phone")
    laptop = _signed_in(app, user, agent="Laptop")
    phone_id = next(s["id"] for s in laptop.client.get("/api/me/sessions").json["sessions"] if not s["current"])
    assert laptop.client.delete(f"/api/me/sessions/{phone_id}", headers=laptop.headers()).status_code == 204
    assert lost_phone.client.get("/api/me").status_code == 401
    assert laptop.client.get("/api/me").status_code == 200
    revoked, = events("user.session_revoked")
    assert (revoked.actor_id, revoked.changes) == (user.id, {"session": phone_id})
    # Gone now, and another person's session is not theirs to end.
    assert laptop.client.delete(f"/api/me/sessions/{phone_id}", headers=laptop.headers()).status_code == 404
    someone = make.user()
    commit()
    other = _signed_in(app, someone)
    other_id = other.client.get("/api/me/sessions").json["sessions"][0]["id"]
    assert laptop.client.delete(f"/api/me/sessions/{other_id}", headers=laptop.headers()).status_code == 404
    assert other.client.get("/api/me").status_code == 200


def test_ending_ones_own_session_signs_out(app, make, commit):
    user = make.user()
    commit()
    browser = _signed_in(app, user)
    own = browser.client.get("/api/me/sessions").json["sessions"][0]["id"]
    assert browser.client.delete(f"/api/me/sessions/{own}", headers=browser.headers()).status_code == 204
    assert browser.client.get("/api/me").status_code == 401


def test_a_token_is_created_shown_once_listed_used_and_revoked(app, make, commit):
    user = make.user("supervisor")
    commit()
    browser = _signed_in(app, user)
    created = browser.post("/api/me/tokens", json={"name": "ERP import", "expires_in_days": 30})
    assert created.status_code == 201
    secret, token = created.json["secret"], created.json["token"]
    assert secret.startswith("gmb_") and secret.startswith(token["prefix"])
    expires = token["expires_at"]
    assert expires[:10] == (utcnow() + timedelta(days=30)).date().isoformat()
    integration = app.test_client()
    assert integration.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listed, = browser.client.get("/api/me/tokens").json["tokens"]
    assert listed["id"] == token["id"] and listed["last_used_at"] is not None
    assert "secret" not in listed and secret not in str(listed)
    assert browser.client.delete(f"/api/me/tokens/{token['id']}", headers=browser.headers()).status_code == 204
    assert integration.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert browser.client.get("/api/me/tokens").json["tokens"][0]["revoked_at"] is not None
    assert [e.action for e in events() if e.action.startswith("token.")] == ["token.created", "token.revoked"]
    assert secret not in str([e.changes for e in events()])


def test_a_token_lives_for_the_default_days_unless_told(app, make, commit):
    user = make.user()
    commit()
    browser = _signed_in(app, user)
    token = browser.post("/api/me/tokens", json={"name": "default"}).json["token"]
    assert token["expires_at"][:10] == (utcnow() + timedelta(days=app.config["TOKEN_DAYS"])).date().isoformat()
    app.config["TOKEN_DAYS"] = 0
    assert browser.post("/api/me/tokens", json={"name": "forever"}).json["token"]["expires_at"] is None


def test_token_creation_validates_its_fields(app, make, commit):
    user = make.user()
    commit()
    browser = _signed_in(app, user)
    for body, field in [({"name": "x" * 201}, "name"), ({"name": "a", "expires_in_days": 0}, "expires_in_days"),
                        ({"name": "a", "expires_in_days": 5000}, "expires_in_days"), ({}, "name"),
                        ({"name": "a", "expires_in_days": "soon"}, "expires_in_days"), ({"name": "a", "secret": "x"}, "secret")]:
        response = browser.post("/api/me/tokens", json=body)
        assert response.status_code == 422, body
        assert field in response.json["error"]["fields"], (body, response.json)
    assert db.session.scalar(select(db.func.count()).select_from(ApiToken)) == 0


def test_a_person_cannot_revoke_anothers_token_but_an_admin_can(app, make, commit):
    owner, stranger, admin = make.user(), make.user(), make.user("admin")
    token, _ = tokens.issue_token(owner, "erp")
    commit()
    stranger_browser = _signed_in(app, stranger)
    assert stranger_browser.client.delete(f"/api/me/tokens/{token.id}", headers=stranger_browser.headers()).status_code == 404
    assert stranger_browser.client.get("/api/me/tokens").json["tokens"] == []
    admin_browser = _signed_in(app, admin)
    assert admin_browser.client.delete(f"/api/me/tokens/{token.id}", headers=admin_browser.headers()).status_code == 204
    db.session.expire_all()
    assert token.revoked_at is not None
    revoked, = events("token.revoked")
    assert (revoked.actor_id, revoked.entity_id) == (admin.id, str(owner.id))


def test_changing_ones_password_needs_the_current_one_and_ends_other_sessions(app, make, commit):
    user = make.user()
    commit()
    phone = _signed_in(app, user)
    laptop = _signed_in(app, user)
    wrong = laptop.post("/api/me/password", json={"current_password": "not my password", "new_password": "violet anchor meadow"})
    assert wrong.status_code == 422 and "current_password" in wrong.json["error"]["fields"]
    weak = laptop.post("/api/me/password", json={"current_password": "correct horse battery", "new_password": "password12"})
    assert weak.status_code == 422
    assert "too easy to guess" in weak.json["error"]["fields"]["new_password"][0]
    assert phone.client.get("/api/me").status_code == 200  # nothing changed yet
    done = laptop.post("/api/me/password", json={"current_password": "correct horse battery",
                                                 "new_password": "violet anchor meadow"})
    assert done.status_code == 204
    assert laptop.client.get("/api/me").status_code == 200
    assert phone.client.get("/api/me").status_code == 401
    assert AuthActions(app.test_client()).login(user, "violet anchor meadow").status_code == 200
    assert AuthActions(app.test_client()).login(user).status_code == 401
    assert [e.action for e in events() if e.action in ("user.password_changed", "user.sessions_ended")] == [
        "user.password_changed", "user.sessions_ended"]
    assert "violet anchor meadow" not in str([e.changes for e in events()])


def test_guessing_the_current_password_is_throttled_like_signing_in(app, make, commit):
    user = make.user()
    commit()
    thief = _signed_in(app, user)  # a stolen session tries to take the account over
    statuses = [thief.post("/api/me/password", json={"current_password": f"guess number {n}",
                                                     "new_password": "violet anchor meadow"}).status_code
                for n in range(app.config["LOGIN_MAX_FAILURES"] + 1)]
    assert statuses == [422] * app.config["LOGIN_MAX_FAILURES"] + [429]


def test_the_password_change_body_is_checked(app, make, commit):
    user = make.user()
    commit()
    browser = _signed_in(app, user)
    response = browser.post("/api/me/password", json={"new_password": "violet anchor meadow", "extra": 1})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"current_password", "extra"}
