"""Accounts: password strength, changing a password, deactivation - and what each ends."""

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from server.errors import Invalid, NotAllowed
from server.extensions import db
from server.models import ApiToken, UserSession
from server.services import accounts, sessions, tokens
from server.services.throttle import Client
from tests.conftest import AuthActions
from tests.register_helpers import events

WEAK = ["          ", "aaaaaaaaaa", "1234567890", "password12", "qwertyuiop", "Password1!", "iloveyou12",
        "abcdefghij", "1111111111", "password123456", "letmein2026", "Summer2024!"]


@pytest.mark.parametrize("password", WEAK)
def test_common_and_trivial_passwords_are_refused_with_the_reason(app, password):
    with pytest.raises(Invalid) as refused:
        accounts.check_password(password)
    reason, = refused.value.fields["password"]
    assert "too easy to guess" in reason
    assert len(reason) > len("This password is too easy to guess. ")  # zxcvbn's feedback follows


def test_the_persons_own_email_and_name_count_as_guessable(app):
    accounts.check_password("anna.smith.2024")  # strong enough for a stranger
    with pytest.raises(Invalid):
        accounts.check_password("anna.smith.2024", ("anna.smith@example.test", "Anna Smith"))
    with pytest.raises(Invalid):
        accounts.check_password("gemba2026!")  # the product's own name


@pytest.mark.parametrize(("password", "reason"), [
    ("short", "at least 10 characters"), ("", "Enter a password"), ("x" * 1025, "at most 1,024"),
])
def test_length_is_checked_first(app, password, reason):
    with pytest.raises(Invalid) as refused:
        accounts.check_password(password)
    assert reason in refused.value.fields["password"][0]


@pytest.mark.parametrize("password", ["correct horse battery", "tangerine ladder cobalt", "mZ7#qL2!vR9@xK"])
def test_strong_passwords_pass(app, password):
    accounts.check_password(password)


def test_a_long_passphrase_is_judged_by_its_first_72_characters(app):
    accounts.check_password("violet anchor meadow " * 10)
    with pytest.raises(Invalid):
        accounts.check_password("a" * 80 + "violet anchor meadow harbour")


def test_create_user_refuses_a_weak_password_and_names_the_field(app):
    with pytest.raises(Invalid) as refused:
        accounts.create_user("bob@example.test", "staff", "password12")
    assert set(refused.value.fields) == {"password"}


def test_create_user_without_a_password_cannot_sign_in(app, make, commit):
    user = accounts.create_user("invited@example.test", "staff", None)
    commit()
    assert not check_password_hash(user.password_hash, "")
    assert AuthActions(app.test_client()).login(user, "").status_code == 422  # schema: a password is required


def _sign_in_twice(app, user):
    first, second = AuthActions(app.test_client()), AuthActions(app.test_client())
    assert first.login(user).status_code == 200 and second.login(user).status_code == 200
    return first, second


def test_set_password_ends_every_session_of_theirs_but_the_requests_own(app, make, commit):
    user, admin = make.user(), make.user("admin")
    commit()
    phone, laptop = _sign_in_twice(app, user)
    admin_browser = AuthActions(app.test_client())
    admin_browser.login(admin)
    accounts.set_password(user, "brand new pass phrase", actor=admin)
    commit()
    assert phone.client.get("/api/me").status_code == 401
    assert laptop.client.get("/api/me").status_code == 401
    assert admin_browser.client.get("/api/me").status_code == 200  # not theirs: untouched
    assert AuthActions(app.test_client()).login(user, "brand new pass phrase").status_code == 200
    changed, = events("user.password_changed")
    assert changed.actor_id == admin.id and changed.changes == {}
    ended, = events("user.sessions_ended")
    assert ended.changes == {"count": 2, "because": "password_changed"}


def test_set_password_refuses_a_weak_one_and_keeps_the_old(app, make, commit):
    user = make.user(email="kim.lee@example.test", name="Kim Lee")
    before = user.password_hash
    with pytest.raises(Invalid):
        accounts.set_password(user, "kim.lee.2026")
    assert user.password_hash == before


def test_set_active_false_ends_sessions_and_tokens_at_once_and_says_why(app, make, commit):
    admin, staff = make.user("admin"), make.user("staff")
    finding = make.finding(make.area(), staff)
    commit()
    phone, tablet = _sign_in_twice(app, staff)
    secret = accounts.create_token(staff, "scanner")
    commit()
    accounts.set_active(admin, staff, False)
    commit()
    for browser in (phone, tablet):
        refused = browser.client.get("/api/me")
        assert (refused.status_code, refused.json["error"]["code"]) == (401, "account_disabled")
        assert "deactivated" in refused.json["error"]["message"]
        pushed = browser.post("/api/sync/push", json={"device_id": "d", "ops": []})
        assert pushed.json["error"]["code"] == "account_disabled"
    by_token = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert (by_token.status_code, by_token.json["error"]["code"]) == (401, "account_disabled")
    assert all(row.ended_because == "deactivated" for row in db.session.scalars(select(UserSession)))
    assert all(row.revoked_at is not None for row in db.session.scalars(select(ApiToken)))
    db.session.expire_all()
    assert finding.raised_by_id == staff.id  # their records stay theirs
    assert [e.action for e in events() if e.action.startswith(("user.", "token.")) and e.actor_id == admin.id] == [
        "user.deactivated", "user.sessions_ended", "user.tokens_revoked"]


def test_reactivating_does_not_revive_old_sessions_or_tokens(app, make, commit):
    admin, staff = make.user("admin"), make.user("staff")
    commit()
    phone = AuthActions(app.test_client())
    phone.login(staff)
    secret = accounts.create_token(staff)
    accounts.set_active(admin, staff, False)
    accounts.set_active(admin, staff, True)
    commit()
    assert phone.client.get("/api/me").json["error"]["code"] == "unauthorized"
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert AuthActions(app.test_client()).login(staff).status_code == 200
    assert [e.action for e in events("user.reactivated")] == ["user.reactivated"]


def test_only_admins_deactivate_and_never_themselves(app, make):
    admin, supervisor, staff = make.user("admin"), make.user("supervisor"), make.user()
    with pytest.raises(NotAllowed):
        accounts.set_active(supervisor, staff, False)
    with pytest.raises(Invalid):
        accounts.set_active(admin, admin, False)
    assert staff.active and admin.active


def test_end_sessions_can_keep_the_requests_own(app, make, commit):
    user = make.user()
    commit()
    kept = sessions.start_session(user, Client("192.0.2.1"))
    sessions.start_session(user, Client("192.0.2.2"))
    with app.test_request_context():
        from flask import g

        g.user_session_id = kept.id
        assert accounts.end_sessions(user, except_current=True) == 1
    assert [row.id for row in sessions.sessions_of(user)] == [kept.id]
    assert accounts.end_sessions(user) == 1
    assert sessions.sessions_of(user) == []


def test_revoke_tokens_revokes_all_of_theirs_only(app, make):
    user, other = make.user(), make.user()
    accounts.create_token(user, "a")
    accounts.create_token(user, "b")
    accounts.create_token(other, "c")
    assert accounts.revoke_tokens(user) == 2
    assert accounts.revoke_tokens(user) == 0
    assert [t.name for t in tokens.tokens_of(other) if t.revoked_at is None] == ["c"]
