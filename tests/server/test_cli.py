"""The `gemba` command line: users, tokens and the demo organisation.

`gemba db upgrade` is Flask-Migrate's own command; tests/server/test_migrations.py runs
the same upgrade on an empty database of each kind.
"""

import click.testing
import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from server.demo import organisation_file
from server.extensions import db
from server.models import ApiToken, Area, Role, User
from server.services import tokens
from tests.register_helpers import events

PASSWORD = "a long enough password"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args, input=None):
        db.session.commit()  # the command runs in its own session; let it see the test's rows
        result = runner.invoke(args=list(args), input=input)
        db.session.rollback()  # and read what it committed with a fresh transaction
        return result

    return invoke


@pytest.fixture
def tty(monkeypatch):
    """Make the CLI runner's stdin look like a terminal, so the password is prompted for."""
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


# --- users add ----------------------------------------------------------------------------

def test_users_add_prompts_for_the_password_twice(cli, tty):
    result = cli("users", "add", "Ada@Example.test", "--role", "auditor", "--name", "Ada L", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    user = user_by_email("ada@example.test")
    assert (user.name, user.role, user.active) == ("Ada L", Role.AUDITOR, True)
    assert check_password_hash(user.password_hash, PASSWORD)


def test_users_add_refuses_two_different_passwords(cli, tty):
    result = cli("users", "add", "x@example.test", "--role", "staff", input=f"{PASSWORD}\nsomething else entirely\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert user_by_email("x@example.test") is None


def test_users_add_reads_the_password_from_stdin(cli):
    result = cli("users", "add", "piped@example.test", "--role", "staff", input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert check_password_hash(user_by_email("piped@example.test").password_hash, PASSWORD)
    assert user_by_email("piped@example.test").name == "piped"


@pytest.mark.parametrize(("args", "password", "message"), [
    (["--role", "boss"], PASSWORD, "Invalid value for '--role'"),
    (["--role", "staff"], "short", "at least 10 characters"),
    (["--role", "staff", "--area", "Nowhere"], PASSWORD, "No area 'Nowhere'"),
])
def test_users_add_errors_are_clear_and_fail(cli, args, password, message):
    result = cli("users", "add", "new@example.test", *args, input=f"{password}\n{password}\n")
    assert result.exit_code != 0
    assert message in result.output
    assert user_by_email("new@example.test") is None


@pytest.mark.parametrize("password", [" " * 10, "aaaaaaaaaa", "1234567890", "password12", "new.person.2026"])
def test_users_add_refuses_guessable_passwords_with_the_reason(cli, password):
    result = cli("users", "add", "new.person@example.test", "--role", "staff", input=f"{password}\n")
    assert result.exit_code != 0
    assert "password: This password is too easy to guess." in result.output
    assert user_by_email("new.person@example.test") is None


def test_users_add_refuses_a_duplicate_email(cli, make):
    make.user(email="taken@example.test")
    result = cli("users", "add", "TAKEN@example.test", "--role", "staff", input=f"{PASSWORD}\n")
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_users_add_finds_the_home_area_by_name_or_site_and_name(cli, make):
    unique = make.area(site="Leeds", name="Paint shop")
    leeds_stores = make.area(site="Leeds", name="Stores")
    make.area(site="Hull", name="Stores")
    assert cli("users", "add", "a@example.test", "--role", "staff", "--area", "Paint shop", input=f"{PASSWORD}\n").exit_code == 0
    assert cli("users", "add", "b@example.test", "--role", "staff", "--area", "Leeds / Stores", input=f"{PASSWORD}\n").exit_code == 0
    assert user_by_email("a@example.test").home_area_id == unique.id
    assert user_by_email("b@example.test").home_area_id == leeds_stores.id
    ambiguous = cli("users", "add", "c@example.test", "--role", "staff", "--area", "Stores", input=f"{PASSWORD}\n")
    assert ambiguous.exit_code != 0 and "site / name" in ambiguous.output
    assert user_by_email("c@example.test") is None


# --- tokens create --------------------------------------------------------------------------

def test_tokens_create_prints_a_working_bearer_token_last(cli, make, app):
    user = make.user("supervisor", email="erp@example.test")
    result = cli("tokens", "create", "ERP@example.test", "--name", "erp")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    response = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json["user"]["id"] == str(user.id)


def test_tokens_create_for_an_unknown_user_fails(cli):
    result = cli("tokens", "create", "ghost@example.test")
    assert result.exit_code != 0
    assert "No user ghost@example.test" in result.output


def test_tokens_create_sets_an_expiry(cli, make, app):
    make.user(email="erp@example.test")
    result = cli("tokens", "create", "erp@example.test", "--days", "7")
    assert result.exit_code == 0, result.output
    token = db.session.scalars(select(ApiToken)).one()
    assert (token.expires_at - token.created_at).days == 7
    assert "It expires: " + token.expires_at.strftime("%Y-%m-%d") in result.output
    assert cli("tokens", "create", "erp@example.test", "--days", "0").exit_code != 0


def test_tokens_list_shows_whose_and_in_which_state_without_secrets(cli, make):
    erp, bi = make.user(email="erp@example.test"), make.user(email="bi@example.test")
    erp_secret = tokens.create_token(erp, "erp sync")
    tokens.create_token(bi, "dashboards")
    tokens.revoke_token(None, tokens.tokens_of(bi)[0])
    everyone = cli("tokens", "list")
    assert everyone.exit_code == 0, everyone.output
    lines = everyone.output.strip().splitlines()
    assert len(lines) == 2 and erp_secret not in everyone.output
    assert any("bi@example.test" in line and "revoked" in line for line in lines)
    assert any("erp@example.test" in line and "expires" in line and "last used never" in line for line in lines)
    only_erp = cli("tokens", "list", "ERP@example.test").output.strip().splitlines()
    assert len(only_erp) == 1 and "erp sync" in only_erp[0]
    assert cli("tokens", "list", "ghost@example.test").exit_code != 0


def test_tokens_revoke_by_id_or_prefix(cli, make, app):
    user = make.user(email="erp@example.test")
    first, second = tokens.create_token(user, "one"), tokens.create_token(user, "two")
    by_prefix = cli("tokens", "revoke", first[:10])
    assert by_prefix.exit_code == 0, by_prefix.output
    assert "Revoked" in by_prefix.output and "erp@example.test" in by_prefix.output
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    row = next(t for t in tokens.tokens_of(user) if t.name == "two")
    assert cli("tokens", "revoke", str(row.id)).exit_code == 0
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    assert [e.action for e in events("token.revoked")] == ["token.revoked", "token.revoked"]


def test_tokens_revoke_refuses_what_names_no_token_or_several(cli, make):
    user = make.user(email="erp@example.test")
    tokens.create_token(user, "one")
    tokens.create_token(user, "two")
    assert "No token" in cli("tokens", "revoke", "gmb_zzzzzz").output
    assert "at least 6 characters" in cli("tokens", "revoke", "gmb").output
    for row in tokens.tokens_of(user):
        row.prefix = "gmb_abcdef"  # two tokens that happen to start alike
    several = cli("tokens", "revoke", "gmb_abcdef…")
    assert several.exit_code != 0 and "2 tokens start with gmb_abcdef" in several.output
    assert all(row.revoked_at is None for row in tokens.tokens_of(user))


# --- demo (what it builds: tests/server/demo/) ----------------------------------------------

def test_demo_prints_the_logins_it_made(cli, app):
    result = cli("demo")
    assert result.exit_code == 0, result.output
    data = organisation_file()
    for person in data["people"]:
        assert f"{person['role']:<11} {person['email']:<32} {data['password']}" in result.output
    signed_in = app.test_client().post("/api/auth/login", json={"email": "quality@gemba.example", "password": data["password"]})
    assert signed_in.status_code == 200


def test_demo_if_empty_leaves_a_database_with_users_alone(cli, make):
    make.user("admin")
    result = cli("demo", "--if-empty")
    assert result.exit_code == 0 and "already has users" in result.output
    assert db.session.scalar(select(func.count()).select_from(Area)) == 0
