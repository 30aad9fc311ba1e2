"""The `gemba` command line: demo data, users, tokens, serving."""

import os
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from .errors import DomainError
from .extensions import db
from .models import Event, Role, User
from . import demo
from .services import accounts, organisation, trail, worker as worker_service
from .services import tokens as tokens_service

users = AppGroup("users", help="Manage users.")
tokens = AppGroup("tokens", help="Manage API tokens.")
trail_group = AppGroup("trail", help="The append-only audit trail.")


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
        home = organisation.find_area(area) if area else None
        user = accounts.create_user(email, role, password, name=name, home_area=home)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Added {user.email} ({user.role}).")


def _user_named(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == accounts.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No user {email}.")
    return user


def _when(moment, never: str = "never") -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else never


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="cli", help="What the token is for.")
@click.option("--days", type=click.IntRange(1, tokens_service.MAX_DAYS),
              help="Days until it expires (default: GEMBA_TOKEN_DAYS, 365; 0 there means never).")
def create_token(email, name, days):
    """Create an API token for EMAIL and print it on the last line."""
    try:
        token, secret = tokens_service.issue_token(_user_named(email), name, days)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Store this token now; it is not shown again. It expires: {_when(token.expires_at)}.", err=True)
    click.echo(secret)


@tokens.command("list")
@click.argument("email", required=False)
def list_tokens(email):
    """List API tokens (of EMAIL, or everyone's): id, prefix, owner, state, last use."""
    rows = tokens_service.tokens_of(_user_named(email) if email else None)
    if not rows:
        click.echo("No API tokens.")
        return
    for token in rows:
        state = f"revoked {_when(token.revoked_at)}" if token.revoked_at else \
            "expired" if not tokens_service.is_usable(token) else f"expires {_when(token.expires_at)}"
        click.echo(f"{token.id}  {token.prefix}…  {token.user.email:<32} {token.name!r:<20} "
                   f"created {_when(token.created_at)}  {state}  last used {_when(token.last_used_at)}")


@tokens.command("revoke")
@click.argument("id_or_prefix")
def revoke_token(id_or_prefix):
    """Revoke the token with this id, or whose prefix (as `tokens list` shows it) starts so."""
    try:
        found = tokens_service.find_tokens(id_or_prefix.rstrip("…"))
    except DomainError as exc:
        _fail(exc)
    if not found:
        raise click.ClickException(f"No token {id_or_prefix}.")
    if len(found) > 1:
        raise click.ClickException(f"{len(found)} tokens start with {id_or_prefix}; give its id: "
                                   + ", ".join(str(t.id) for t in found))
    token = found[0]
    tokens_service.revoke_token(None, token)
    db.session.commit()
    click.echo(f"Revoked {token.prefix}… of {token.user.email} ({token.name!r}).")


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


@trail_group.command("verify")
def verify_trail():
    """Check the trail's hash chain; exit 1 naming the first event that was changed or removed."""
    bad = trail.verify_chain()
    if bad is not None:
        click.echo(
            f"Trail broken at event {bad.id} ({bad.action} on {bad.entity} {bad.entity_id}, {bad.at.isoformat()}): "
            "its content or its link to the event before it was changed, or an event before it was removed.",
            err=True,
        )
        sys.exit(1)
    count = db.session.scalar(select(func.count()).select_from(Event))
    click.echo(f"Trail intact: {count} events, every hash chained to the one before.")


def _report(result) -> None:
    click.echo(f"{result.events} new event(s); sent {result.emails} email(s), {result.digests} digest(s), "
               f"{result.webhooks} webhook delivery(ies); {result.failed} gave up.")
    for error in dict.fromkeys(result.errors):
        click.echo(f"Will retry: {error}", err=True)


@click.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--interval", default=5.0, show_default=True, type=float, help="Seconds between rounds.")
def worker(once, interval):
    """Send notifications (email, digests) and webhook deliveries from the outbox; compute due and overdue events."""
    if once:
        _report(worker_service.run_once())
        return
    click.echo(f"Gemba worker: sending every {interval:g} s (Ctrl-C stops).")
    try:
        worker_service.run_forever(interval)
    except KeyboardInterrupt:
        pass


@click.command("remind")
def remind():
    """Email what is due now: due-soon, overdue and escalated actions and all other notifications (`worker --once`)."""
    _report(worker_service.run_once())


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
    app.cli.add_command(trail_group)
    app.cli.add_command(remind)
    app.cli.add_command(worker)
    app.cli.add_command(serve)
