"""Signing in and out through the API, CSRF, bearer tokens, throttling."""

from server.extensions import db
from server.models import LoginAttempt
from server.services import accounts


def test_login_returns_user_and_csrf_token(auth, make, commit):
    user = make.user("auditor")
    commit()
    response = auth.login(user)
    assert response.status_code == 200
    assert response.json["user"]["email"] == user.email
    assert response.json["user"]["role"] == "auditor"
    assert len(response.json["csrf_token"]) > 20
    assert "password" not in response.json["user"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


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


def test_inactive_user_cannot_sign_in(auth, make, commit):
    user = make.user(active=False)
    commit()
    assert auth.login(user).status_code == 401


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


def test_tokens_are_stored_hashed(make, commit):
    from server.models import ApiToken

    user = make.user()
    token = accounts.create_token(user)
    commit()
    stored = db.session.scalars(db.select(ApiToken)).one()
    assert token not in (stored.token_hash, stored.prefix)
    assert len(stored.token_hash) == 64


def test_failed_logins_are_throttled_per_email(auth, make, commit, app):
    user = make.user()
    commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login(user, "wrong password!").status_code == 401
    throttled = auth.login(user)  # even the right password waits now
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert db.session.scalar(db.select(db.func.count()).select_from(LoginAttempt)) == app.config["LOGIN_MAX_FAILURES"]


def test_successful_login_clears_failures(auth, make, commit):
    user = make.user()
    commit()
    auth.login(user, "wrong password!")
    assert auth.login(user).status_code == 200
    assert db.session.scalar(db.select(db.func.count()).select_from(LoginAttempt)) == 0


def test_passwords_use_a_memory_hard_kdf(make, app):
    user = make.user()
    assert user.password_hash.startswith("scrypt:")
    # Production runs at Werkzeug's full scrypt cost; only the test config lowers it.
    app.config.pop("PASSWORD_HASH_METHOD")
    assert accounts.hash_password("a long password").startswith("scrypt:32768:8:1$")


def test_two_clients_keep_their_own_users(app, make, commit):
    from tests.conftest import AuthActions

    staff, supervisor = make.user("staff"), make.user("supervisor")
    commit()
    first, second = AuthActions(app.test_client()), AuthActions(app.test_client())
    first.login(staff)
    second.login(supervisor)
    assert first.client.get("/api/me").json["user"]["role"] == "staff"
    assert second.client.get("/api/me").json["user"]["role"] == "supervisor"
    assert app.test_client().get("/api/me").status_code == 401
