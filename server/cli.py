"""The `gemba` command line: demo data, users, tokens, serving."""

import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from .errors import DomainError
from .extensions import db
from .models import Event, Role, User
from . import demo
from .services import accounts, organisation, reminders, trail
from .services import tokens as tokens_service

users = AppGroup("users", help="Manage users.")
tokens = AppGroup("tokens", help="Manage API tokens.")
trail_group = AppGroup("trail", help="The append-only audit trail.")
photos_group = AppGroup("photos", help="The photo store.")


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


@photos_group.command("reconcile")
@click.option("--stale-minutes", default=60, show_default=True, type=click.IntRange(0),
              help="Only touch leftovers older than this (an upload in progress is younger).")
@click.option("--dry-run", is_flag=True, help="Say what would be done, change nothing.")
def reconcile_photos(stale_minutes, dry_run):
    """After a crash: remove temporary files, finish or remove originals the register does not hold."""
    from .services import photo_upkeep
    done = photo_upkeep.reconcile(stale=stale_minutes * 60, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    if not done.walkable:
        click.echo("This photo store keeps no temporary files to walk; nothing to do.")
    would = "would be " if dry_run else ""
    click.echo(f"{len(done.temporary_removed)} temporary file(s) {would}removed; "
               f"{len(done.finished)} original(s) {would}taken in for expected photos; "
               f"{len(done.removed)} original(s) nobody expects or that were damaged {would}removed; "
               f"{done.partial_removed} abandoned upload part(s) {would}removed.")
    for sha in done.missing:
        click.echo(f"MISSING: photo {sha} is recorded as stored but its original is not in the store.", err=True)
    if done.missing:
        sys.exit(1)


@click.command("remind")
@click.option("--days", default=3, show_default=True, type=int, help="Also remind of actions due within this many days.")
@click.option("--base-url", default="", help="The register's address, to put links in the emails.")
def remind(days, base_url):
    """Email the owners of overdue corrective actions and of those due soon (SMTP settings)."""
    try:
        sent = reminders.send_reminders(within_days=days, base_url=base_url)
    except OSError as exc:  # refused connection, DNS, timeout; smtplib errors are OSErrors too
        raise click.ClickException(f"Could not send reminders: {exc}") from exc
    for item in sent:
        click.echo(f"Reminded {item.owner.email} of {len(item.actions)} action(s).")
    click.echo(f"{len(sent)} reminder(s) sent.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1),
              help="Processes sharing the port (photo decoding uses one core each).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1),
              help="Requests each process runs at once (bodies are read before a thread is used).")
@click.option("--connections", default=1000, show_default=True, type=click.IntRange(1),
              help="Open connections each process holds, slow ones included.")
def serve(host, port, workers, threads, connections):
    """Serve Gemba with waitress: slow clients hold a socket, never a worker (server/serving.py)."""
    from . import serving
    serving.serve(host, port, workers=workers, threads=threads, connections=connections)


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(tokens)
    app.cli.add_command(demo_command)
    app.cli.add_command(trail_group)
    app.cli.add_command(photos_group)
    app.cli.add_command(remind)
    app.cli.add_command(serve)
