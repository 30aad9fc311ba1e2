"""The `gemba` command line: users, tokens and the demo organisation.

`gemba db upgrade` is Flask-Migrate's own command; tests/server/test_migrations.py runs
the same upgrade on an empty database of each kind.
"""

from datetime import date

import click.testing
import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from server.extensions import db
from server.models import (
    ActionStatus,
    Area,
    Audit,
    AuditStatus,
    Change,
    Comment,
    CorrectiveAction,
    Finding,
    Qualification,
    QuestionKind,
    Response,
    Role,
    Template,
    TemplateStatus,
    User,
)
from server.services import demo
from server.services.impartiality import conflict_of_interest

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


# --- demo ---------------------------------------------------------------------------------

def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


@pytest.fixture
def demo_loaded(cli):
    result = cli("demo")
    assert result.exit_code == 0, result.output
    return result


def test_demo_prints_the_logins(demo_loaded, app):
    for email, _, role, _ in demo.PEOPLE:
        assert email in demo_loaded.output and role in demo_loaded.output
    assert demo.DEMO_PASSWORD in demo_loaded.output
    signed_in = app.test_client().post("/api/auth/login", json={"email": "quality@gemba.example", "password": demo.DEMO_PASSWORD})
    assert signed_in.status_code == 200


def test_demo_twice_adds_nothing(cli, demo_loaded):
    first = row_counts()
    assert first["audit"] and first["response"] and first["change"] and first["event"]
    again = cli("demo")
    assert again.exit_code == 0, again.output
    assert row_counts() == first
    if_empty = cli("demo", "--if-empty")
    assert "already has users" in if_empty.output
    assert row_counts() == first


def test_demo_obeys_impartiality(demo_loaded):
    audits = db.session.scalars(select(Audit).where(Audit.auditor_id.is_not(None))).all()
    assert len(audits) > 15
    for audit in audits:
        assert conflict_of_interest(audit.auditor, audit.area) is None, (audit.auditor.email, audit.area.label)
    # The rule has teeth in the demo: some auditors are responsible for an area.
    responsible = {a.responsible_id for a in db.session.scalars(select(Area))}
    assert any(u.id in responsible for u in db.session.scalars(select(User).where(User.role == Role.AUDITOR)))


def test_demo_organisation_has_what_the_issue_asks_for(demo_loaded):
    areas = db.session.scalars(select(Area)).all()
    assert len({a.site for a in areas}) == 2 and len(areas) == 8
    assert {a.risk_level for a in areas} == {"low", "medium", "high"}
    users = db.session.scalars(select(User)).all()
    assert {u.role for u in users} == {r.value for r in Role}
    assert all(u.home_area_id for u in users)
    assert db.session.scalar(select(func.count()).select_from(Qualification)) >= 5

    templates = db.session.scalars(select(Template).where(Template.status == TemplateStatus.PUBLISHED)).all()
    by_standard = {t.standard: t for t in templates}
    assert set(by_standard) == {"ISO 9001:2015", "ISO 45001:2018"}
    assert 38 <= len(by_standard["ISO 9001:2015"].questions) <= 45
    assert 22 <= len(by_standard["ISO 45001:2018"].questions) <= 28
    for template in templates:
        assert {q.kind for q in template.questions} == {k.value for k in QuestionKind}
        assert all(q.clause for q in template.questions)
    assert {"4.1", "10.3"} <= {q.clause for q in by_standard["ISO 9001:2015"].questions}
    assert {"5.4", "6.1.2", "7.2", "8.1.2", "8.2"} <= {q.clause for q in by_standard["ISO 45001:2018"].questions}

    audits = db.session.scalars(select(Audit)).all()
    statuses = {a.status for a in audits}
    assert {AuditStatus.PLANNED, AuditStatus.SUBMITTED, AuditStatus.APPROVED, AuditStatus.RETURNED} <= statuses
    today = date.today()
    planned = [a for a in audits if a.status == AuditStatus.PLANNED]
    assert any(a.planned_date.month == today.month and a.planned_date.year == today.year for a in planned)
    assert len({(a.planned_date.year, a.planned_date.month) for a in planned if a.planned_date > today}) >= 4
    for audit in audits:
        if audit.status in (AuditStatus.SUBMITTED, AuditStatus.APPROVED, AuditStatus.RETURNED):
            answered = {r.question_id for r in audit.responses}
            assert answered == {q.id for q in audit.template.questions}
            assert audit.submitted_at and audit.score is not None
    returned = next(a for a in audits if a.status == AuditStatus.RETURNED)
    assert db.session.scalar(select(Comment).where(Comment.audit_id == returned.id)).author.role == Role.SUPERVISOR

    findings = db.session.scalars(select(Finding)).all()
    from_answers = [f for f in findings if f.question_id]
    assert from_answers and all(f.audit_id for f in from_answers)
    for finding in from_answers:
        response = db.session.scalar(select(Response).where(Response.audit_id == finding.audit_id,
                                                            Response.question_id == finding.question_id))
        assert response.value in db.session.get(type(response.question), finding.question_id).finding_answers
    assert any(f.audit_id is None and f.raised_by.role == Role.STAFF for f in findings)
    assert any(f.repeat_of_id for f in findings)

    actions = db.session.scalars(select(CorrectiveAction)).all()
    states = {a.status for a in actions}
    assert {ActionStatus.OPEN, ActionStatus.DONE, ActionStatus.EFFECTIVE} <= states
    assert any(a.status == ActionStatus.OPEN and a.due_date < today for a in actions), "an overdue action"
    assert any(a.status == ActionStatus.OPEN and a.due_date >= today for a in actions)
    assert all(a.whys and a.root_cause for a in actions)
    assert any(len(a.whys) == 5 for a in actions)


def test_demo_data_reaches_devices_through_the_feed(demo_loaded):
    entities = set(db.session.scalars(select(Change.entity).distinct()))
    assert {"template", "audit", "response", "finding", "action", "comment"} <= entities
    audit_ids = {str(i) for i in db.session.scalars(select(Audit.id))}
    fed = set(db.session.scalars(select(Change.entity_id).where(Change.entity == "audit")))
    assert audit_ids == fed
