"""The register's Account page: sessions, tokens and password, through forms as a browser sends them."""

import re

import pytest

from server.extensions import db
from server.models import ApiToken
from server.services import accounts
from tests.register_helpers import RegisterPages


@pytest.fixture
def person(make, commit):
    user = make.user("auditor", email="kim.lee@example.test", name="Kim Lee")
    commit()
    return user


def test_the_account_page_lists_sessions_and_tokens(register, person):
    phone, laptop = register(person), register(person)
    html = laptop.text("/account")
    assert "<h1>Account</h1>" in html
    assert html.count("End session") == 1 and html.count("Sign out here") == 1
    assert "No API tokens." in html
    assert phone.get("/account").status_code == 200
    assert 'href="/account"' in laptop.text("/findings")  # reachable from every page


def test_ending_another_session_from_the_page(register, person):
    phone, laptop = register(person), register(person)
    other = re.search(r'action="(/account/sessions/[^"]+/end)"[^>]*>\s*<input[^>]*>\s*<button type="submit">End session',
                      laptop.text("/account")).group(1)
    assert laptop.post(other).status_code == 302
    assert phone.get("/account").status_code == 302  # to the sign-in page
    assert laptop.get("/account").status_code == 200


def test_a_token_made_on_the_page_is_shown_once(app, register, person):
    browser = register(person)
    browser.get("/account")
    created = browser.post("/account/tokens", data={"name": "Power BI", "expires_in_days": "90"})
    assert created.status_code == 201
    secret = re.search(r'id="new-token">(gmb_[^<]+)<', created.get_data(as_text=True)).group(1)
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    later = browser.text("/account")
    assert "Power BI" in later and secret not in later
    token = db.session.scalars(db.select(ApiToken)).one()
    assert browser.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "Revoked" in browser.text("/account")


def test_changing_the_password_on_the_page(register, person):
    phone, browser = register(person), register(person)

    def change(current, new, confirm=None):
        return browser.post_form("/account", "/account/password", current_password=current, new_password=new,
                                 confirm=confirm or new)

    weak = change("correct horse battery", "kim.lee.2026")
    assert weak.status_code == 422
    assert "too easy to guess" in weak.get_data(as_text=True)
    wrong = change("not my password", "violet anchor meadow")
    assert wrong.status_code == 422 and "This is not your current password." in wrong.get_data(as_text=True)
    differ = change("correct horse battery", "violet anchor meadow", "violet anchor meadows")
    assert differ.status_code == 422 and "The two new passwords differ." in differ.get_data(as_text=True)
    done = change("correct horse battery", "violet anchor meadow")
    assert done.status_code == 302
    assert "Your password is changed." in browser.text("/account")
    assert phone.get("/account").status_code == 302


def test_a_deactivated_persons_page_session_goes_to_sign_in_with_the_reason(register, person, make, commit):
    browser = register(person)
    accounts.set_active(make.user("admin"), person, False)
    commit()
    response = browser.get("/findings")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "deactivated" in browser.text(response.headers["Location"])


def test_signing_out_of_the_register_ends_the_session_on_the_server(app, register, person):
    browser = register(person)
    cookie = browser.client.get_cookie("gemba_session").value
    browser.get("/account")
    assert browser.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("gemba_session", cookie)
    assert thief.get("/findings").status_code == 302


def test_the_sign_in_form_says_when_to_try_again(app, person):
    browser = RegisterPages(app.test_client())
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1):
        response = browser.sign_in(person, password="guess guess guess")
    assert response.status_code == 429
    assert "Try again in" in response.get_data(as_text=True)
