"""Signing in and out through the API: sessions kept on the server, CSRF, bearer tokens."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server.extensions import db
from server.models import SignInThrottle, UserSession, utcnow
from server.services import accounts, tokens
from tests.conftest import AuthActions
from tests.register_helpers import events


def test_login_returns_user_and_csrf_token(auth, make, commit):
    user = make.user("auditor")
    commit()
    response = auth.login(user)
    assert response.status_code == 200
    assert response.json["user"]["email"] == user.email
    assert response.json["user"]["role"] == "auditor"
    assert len(response.json["csrf_token"]) > 20
    assert "password" not in response.json["user"]
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("gemba_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    device_cookie = next(c for c in cookies if c.startswith("gemba_device="))
    assert "HttpOnly" in device_cookie and "SameSite=Lax" in device_cookie


def test_me_after_login_and_401_json_when_anonymous(client, auth, make, commit):
    anonymous = client.get("/api/me")
    assert anonymous.status_code == 401
    assert anonymous.json["error"]["code"] == "unauthorized"
    user = make.user()
    commit()
    auth.login(user)
    assert client.get("/api/me").json["user"]["id"] == str(user.id)


def test_wrong_password_is_401_json(auth, make, commit):
    user = make.user()
    commit()
    response = auth.login(user, "wrong password!")
    assert response.status_code == 401
    assert response.json == {"error": {"code": "bad_credentials", "message": "The email or password is not right."}}


def test_unknown_email_is_401_like_a_wrong_password(auth):
    response = auth.login("nobody@example.test", "whatever password")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "bad_credentials"


def test_inactive_user_is_told_only_once_the_password_is_right(auth, make, commit):
    user = make.user(active=False)
    commit()
    wrong = auth.login(user, "not the password at all")
    assert (wrong.status_code, wrong.json["error"]["code"]) == (401, "bad_credentials")
    right = auth.login(user)
    assert (right.status_code, right.json["error"]["code"]) == (401, "account_disabled")
    assert "deactivated" in right.json["error"]["message"]


def test_login_validates_its_body(client):
    response = client.post("/api/auth/login", json={"email": ""})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"email", "password"}
    not_json = client.post("/api/auth/login", data="{oops", content_type="application/json")
    assert not_json.status_code == 400
    assert "error" in not_json.json


def test_state_changing_call_without_csrf_token_is_refused(client, auth, make, commit):
    commit_user = make.user()
    commit()
    auth.login(commit_user)
    refused = client.post("/api/auth/logout")
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "csrf"
    assert client.get("/api/me").status_code == 200  # still signed in
    assert auth.post("/api/auth/logout").status_code == 204
    assert client.get("/api/me").status_code == 401


# --- sessions end on the server ---------------------------------------------------------------

def _cookie(client) -> str:
    return client.get_cookie("gemba_session").value


def _replay(app, cookie: str):
    """A second browser that got hold of the first one's session cookie."""
    thief = app.test_client()
    thief.set_cookie("gemba_session", cookie)
    return thief


def test_a_cookie_copied_before_sign_out_is_worthless_after_it(app, auth, make, commit):
    user = make.user()
    commit()
    auth.login(user)
    captured = _cookie(auth.client)
    assert _replay(app, captured).get("/api/me").status_code == 200
    assert auth.post("/api/auth/logout").status_code == 204
    thief = _replay(app, captured)
    assert thief.get("/api/me").status_code == 401
    pushed = thief.post("/api/sync/push", json={"device_id": "d", "ops": []},
                        headers={"X-CSRFToken": auth.csrf_token})
    assert pushed.status_code == 401
    row = db.session.scalars(select(UserSession)).one()
    assert (row.ended_because, row.ended_at is not None) == ("signed_out", True)


def test_a_session_ends_after_its_idle_and_its_absolute_lifetime(app, auth, make, commit):
    user = make.user()
    commit()
    auth.login(user)
    assert auth.client.get("/api/me").status_code == 200
    idle = timedelta(days=app.config["SESSION_IDLE_DAYS"], minutes=1)
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - idle))
    commit()
    assert auth.client.get("/api/me").status_code == 401

    auth.login(user)
    db.session.execute(update(UserSession).where(UserSession.ended_at.is_(None))
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    commit()
    expired = auth.client.get("/api/me")
    assert expired.status_code == 401 and "ended" in expired.json["error"]["message"]


def test_last_seen_is_written_at_most_once_per_interval(app, auth, make, commit):
    user = make.user()
    commit()
    auth.login(user)
    long_ago = utcnow() - timedelta(hours=1)
    db.session.execute(update(UserSession).values(last_seen_at=long_ago))
    commit()
    auth.client.get("/api/me")
    db.session.expire_all()
    first = db.session.scalars(select(UserSession.last_seen_at)).one()
    assert first > long_ago + timedelta(minutes=59)
    for _ in range(3):
        auth.client.get("/api/me")
    db.session.expire_all()
    assert db.session.scalars(select(UserSession.last_seen_at)).one() == first


def test_the_session_lifetimes_come_from_the_environment(monkeypatch, database_url, tmp_path):
    from server import create_app
    from tests.conftest import app_config

    monkeypatch.setenv("GEMBA_SESSION_IDLE_DAYS", "3")
    monkeypatch.setenv("GEMBA_SESSION_MAX_DAYS", "7")
    app = create_app(app_config(database_url, tmp_path))
    assert (app.config["SESSION_IDLE_DAYS"], app.config["SESSION_MAX_DAYS"]) == (3, 7)
    assert app.permanent_session_lifetime == timedelta(days=7)


def test_signing_in_starts_a_new_session_each_time(auth, make, commit):
    user = make.user()
    commit()
    auth.login(user)
    first = _cookie(auth.client)
    auth.login(user)
    assert _cookie(auth.client) != first
    assert db.session.scalar(select(db.func.count()).select_from(UserSession)) == 2


# --- bearer tokens ------------------------------------------------------------------------------

def test_bearer_token_works_without_session_or_csrf(app, make, commit):
    user = make.user("supervisor")
    token = accounts.create_token(user, "erp")
    commit()
    client = app.test_client()
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json["user"]["email"] == user.email
    # A state-changing call with a bearer token needs no CSRF token.
    assert client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    assert client.get("/api/me", headers={"Authorization": "Bearer gmb_not-a-token"}).status_code == 401


@pytest.mark.parametrize("header", [
    "Bearer junk", "Bearer gmb_not-a-real-token", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "junk", "",
])
def test_an_authorization_header_that_is_no_valid_token_never_falls_back_to_the_cookie(
        app, auth, make, commit, header):
    supervisor = make.user("supervisor")
    finding = make.finding(make.area(), make.user())
    commit()
    auth.login(supervisor)
    # Cookie, no CSRF token, and a header that proves nothing: refused, not a triage.
    response = auth.client.post(f"/api/findings/{finding.id}/triage", json={"decision": "accept"},
                                headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "bad_token"
    assert auth.client.get("/api/me", headers={"Authorization": header}).status_code == 401
    db.session.expire_all()
    assert finding.status == "open"
    assert auth.client.get("/api/me").status_code == 200  # the cookie alone still works


def test_a_revoked_or_expired_token_is_refused(app, make, commit):
    user = make.user()
    revoked, revoked_secret = tokens.issue_token(user, "old")
    expired, expired_secret = tokens.issue_token(user, "older", days=1)
    expired.expires_at = utcnow() - timedelta(seconds=1)
    tokens.revoke_token(None, revoked)
    commit()
    for secret in (revoked_secret, expired_secret):
        response = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {secret}"})
        assert (response.status_code, response.json["error"]["code"]) == (401, "bad_token")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_use_is_recorded_at_most_once_a_minute(app, make, commit):
    user = make.user()
    token, secret = tokens.issue_token(user, "erp")
    commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/me", headers=headers)
    db.session.expire_all()
    first = token.last_used_at
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    for _ in range(3):
        client.get("/api/me", headers=headers)
    db.session.expire_all()
    assert token.last_used_at == first
    token.last_used_at = utcnow() - timedelta(minutes=2)
    commit()
    client.get("/api/me", headers=headers)
    db.session.expire_all()
    assert token.last_used_at > first


def test_tokens_are_stored_hashed(make, commit):
    from server.models import ApiToken

    user = make.user()
    token = accounts.create_token(user)
    commit()
    stored = db.session.scalars(db.select(ApiToken)).one()
    assert token not in (stored.token_hash, stored.prefix)
    assert len(stored.token_hash) == 64


# --- the trail ----------------------------------------------------------------------------------

def test_sign_in_failure_and_sign_out_are_in_the_trail_without_secrets(auth, make, commit):
    user = make.user()
    commit()
    auth.login(user, "a wrong guess here")
    auth.login("ghost@example.test", "another wrong guess")
    auth.login(user)
    auth.post("/api/auth/logout")
    failed = events("user.sign_in_failed")
    assert [(e.entity_id, e.changes["email"], e.changes["reason"]) for e in failed] == [
        (str(user.id), user.email, "wrong password"), ("unknown", "ghost@example.test", "no such account")]
    signed_in, = events("user.signed_in")
    signed_out, = events("user.signed_out")
    assert signed_in.actor_id == user.id and signed_out.actor_id == user.id
    assert signed_in.changes["session"] == signed_out.changes["session"]
    everything = str([(e.action, e.changes) for e in events()])
    assert "a wrong guess here" not in everything and "another wrong guess" not in everything
    assert "correct horse" not in everything


def test_passwords_use_a_memory_hard_kdf(make, app):
    user = make.user()
    assert user.password_hash.startswith("scrypt:")
    # Production runs at Werkzeug's full scrypt cost; only the test config lowers it.
    app.config.pop("PASSWORD_HASH_METHOD")
    assert accounts.hash_password("a long password").startswith("scrypt:32768:8:1$")


def test_two_clients_keep_their_own_users(app, make, commit):
    staff, supervisor = make.user("staff"), make.user("supervisor")
    commit()
    first, second = AuthActions(app.test_client()), AuthActions(app.test_client())
    first.login(staff)
    second.login(supervisor)
    assert first.client.get("/api/me").json["user"]["role"] == "staff"
    assert second.client.get("/api/me").json["user"]["role"] == "supervisor"
    assert app.test_client().get("/api/me").status_code == 401


def test_successful_login_forgets_this_clients_failures(auth, make, commit):
    user = make.user()
    commit()
    auth.login(user, "wrong password!")
    assert auth.login(user).status_code == 200
    rows = db.session.scalars(select(SignInThrottle)).all()
    # Only the window counters remain, and they no longer count this client's success.
    assert sorted(row.failures for row in rows) == [1, 1]
