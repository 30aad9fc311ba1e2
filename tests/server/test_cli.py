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
from server.models import Area, Role, User

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
