"""The `gemba` command line: demo data, users, tokens, serving."""

import os
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from .errors import DomainError
from .extensions import db
from .models import Role, User
from .services import accounts, demo

users = AppGroup("users", help="Manage users.")
tokens = AppGroup("tokens", help="Manage API tokens.")


def _fail(exc: DomainError) -> None:
    db.session.rollback()
    details = "".join(f"\n  {name}: {' '.join(msgs)}" for name, msgs in (exc.fields or {}).items())
    raise click.ClickException(exc.message + details)


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


@users.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--area", help="Home area: its name, or 'site / name'.")
@click.option("--name", help="Full name (defaults to the part of the email before @).")
def add_user(email, role, area, name):
    """Add a user; the password is prompted twice, or read from stdin."""
    password = _read_password()
    try:
        home = accounts.find_area(area) if area else None
        user = accounts.create_user(email, role, password, name=name, home_area=home)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Added {user.email} ({user.role}).")


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="cli", help="What the token is for.")
def create_token(email, name):
    """Create an API token for EMAIL and print it on the last line."""
    user = db.session.scalar(select(User).where(User.email == accounts.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No user {email}.")
    token = accounts.create_token(user, name)
    db.session.commit()
    click.echo("Store this token now; it is not shown again.", err=True)
    click.echo(token)


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
def demo_command(if_empty):
    """Load a realistic demo organisation (running it again adds nothing) and print its logins."""
    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        click.echo("The database already has users; demo data not loaded.")
        return
    logins = demo.build()
    db.session.commit()
    click.echo("Demo organisation ready. Sign in at http://127.0.0.1:5000/ with:")
    for email, role, password in logins:
        click.echo(f"  {role:<11} {email:<32} {password}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host, port, workers):
    """Serve Gemba with gunicorn."""
    argv = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--access-logfile", "-",
        "--forwarded-allow-ips", os.environ.get("GEMBA_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        "server:create_app()",
    ]
    os.execv(sys.executable, argv)


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(tokens)
    app.cli.add_command(demo_command)
    app.cli.add_command(serve)
