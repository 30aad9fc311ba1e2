"""The `gemba` command line: demo data, users, tokens, serving."""

import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from .errors import DomainError
from .extensions import db
from .models import Event, Role, TrailCheckpoint, User
from . import demo
from .services import accounts, checkpoints, invitations, org_csv, organisation, trail, worker as worker_service
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
@click.option("--invite", is_flag=True, help="Email them an invitation to choose their own password instead.")
@click.option("--base-url", default="", help="The register's address, for the invitation's link.")
def add_user(email, role, area, name, invite, base_url):
    """Add a user; the password is prompted twice, or read from stdin (or, with --invite, emailed for)."""
    password = None if invite else _read_password()
    try:
        home = organisation.find_area(area) if area else None
        user = accounts.create_user(email, role, password, name=name, home_area=home)
        link = invitations.issue(None, user, invitations.INVITATION) if invite else None
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Added {user.email} ({user.role}).")
    if link is not None:
        delivery = invitations.deliver([link], base=base_url or None)[0]
        if not delivery.sent:
            raise click.ClickException(f"The invitation could not be emailed: {delivery.problem} "
                                       f"Send it again from their page in the register.")
        click.echo(f"Invitation emailed to {user.email}; it works until {link.row.expires_at:%Y-%m-%d %H:%M} UTC.")


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
@click.option("--anchor", "anchors", multiple=True,
              help="A line `gemba trail checkpoint` printed and you kept elsewhere; may be given again.")
def verify_trail(anchors):
    """Check the hash chain and the signed checkpoints; exit 1 saying what was changed or removed."""
    try:
        given = [checkpoints.Anchor.parse(line) for line in anchors]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--anchor") from None
    problems = checkpoints.verify(given)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(1)
    count = db.session.scalar(select(func.count()).select_from(Event))
    known = db.session.scalar(select(func.count()).select_from(TrailCheckpoint))
    click.echo(f"Trail intact: {count} events, every hash chained to the one before; "
               f"it reaches all {known} signed checkpoint(s){' and the anchors given' if given else ''}.")


@trail_group.command("checkpoint")
def checkpoint_trail():
    """Sign the trail's head (count and newest hash) and print it, to keep outside the system.

    Run it periodically (cron, a systemd timer); keep the printed lines somewhere the
    database's administrators cannot edit, and give one to `gemba trail verify --anchor`.
    """
    anchor, written = checkpoints.checkpoint()
    db.session.commit()
    click.echo(anchor.line())
    if not written:
        click.echo("(no new events since the last checkpoint)", err=True)


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


@click.command("import")
@click.argument("kind", type=click.Choice(["areas", "users"]))
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Check every line and say what it would do; change nothing.")
@click.option("--no-invite", is_flag=True, help="Add people without emailing their invitations.")
@click.option("--base-url", default="", help="The register's address, for the links in invitations.")
def import_command(kind, file, dry_run, no_invite, base_url):
    """Import areas (and their sites) or people from a CSV file, all or nothing."""
    text = file.read()
    if dry_run:
        result = org_csv.check(kind, text)
        for number, problem in result.problems:
            click.echo(f"line {number}: {problem}")
        click.echo(result.summary())
        sys.exit(1 if result.problems else 0)
    try:
        applied = org_csv.apply(None, kind, text, invite=not no_invite)
    except DomainError as exc:
        db.session.rollback()
        for line in (exc.fields or {}).get("lines", []):
            click.echo(line, err=True)
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Imported. {applied.check.summary()}")
    if applied.invitations:
        deliveries = invitations.deliver(applied.invitations, base=base_url or None)
        failed = [d for d in deliveries if not d.sent]
        click.echo(f"{len(deliveries) - len(failed)} invitation(s) emailed.")
        for delivery in failed:
            click.echo(f"Not emailed to {delivery.link.user.email}: {delivery.problem}", err=True)


@click.command("export")
@click.argument("kind", type=click.Choice(["areas", "users"]))
def export_command(kind):
    """Print areas (with their sites) or people as CSV, in the shape `gemba import` reads."""
    click.echo(org_csv.export(None, kind), nl=False)


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


@click.command("data-migrate")
@with_appcontext
def data_migrate():
    """Run the data steps (`server/datamigrations.py`); `gemba db upgrade` runs them too."""
    _run_data_steps()


def _run_data_steps() -> None:
    from . import datamigrations
    for name, count in datamigrations.run_all():
        click.echo(f"data step: {name}: {count} moved" if count else f"data step: {name}: nothing to do")


def _db_group() -> click.Group:
    """Flask-Migrate's `db` group, with `upgrade` running the data steps after the schema migrations."""
    from flask_migrate.cli import db as alembic_group

    original = alembic_group.commands["upgrade"]

    @click.pass_context
    def upgrade_then_data(ctx, **options):
        ctx.invoke(original, **options)
        if not options.get("sql"):
            _run_data_steps()

    upgrade = click.Command("upgrade", callback=upgrade_then_data, params=original.params,
                            help=f"{original.help} Then run the data steps (server/datamigrations.py).")
    return click.Group("db", commands={**alembic_group.commands, "upgrade": upgrade},
                       callback=alembic_group.callback, params=alembic_group.params, help=alembic_group.help)


def init_app(app: Flask) -> None:
    app.cli.add_command(_db_group(), "db")
    app.cli.add_command(data_migrate)
    app.cli.add_command(users)
    app.cli.add_command(tokens)
    app.cli.add_command(demo_command)
    app.cli.add_command(trail_group)
    app.cli.add_command(photos_group)
    app.cli.add_command(remind)
    app.cli.add_command(import_command)
    app.cli.add_command(export_command)
    app.cli.add_command(worker)
    app.cli.add_command(serve)
