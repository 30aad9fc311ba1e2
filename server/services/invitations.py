"""Invitations and password resets: single-use links, emailed, that let a person set a password.

A link's secret travels in the email alone; the server keeps its SHA-256. A link works
once, until it expires (GEMBA_INVITATION_DAYS for an invitation, GEMBA_RESET_HOURS for a
reset), and a newer link for the same person replaces the older ones. Emails go out over
the SMTP settings (GEMBA_SMTP_*) the worker uses too, after the request that made the link has committed.
"""

import hashlib
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app, request
from sqlalchemy import select, update

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import AccountLink, User, utcnow
from ..permissions import require
from . import accounts, trail

INVITATION = "invitation"
RESET = "reset"
PURPOSES = (INVITATION, RESET)
GONE = ("This link has already been used, has expired or was replaced by a newer one. "
        "Ask your administrator to send you a new one.")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class Link:
    """A link just made: the row, and the secret that goes in the email (never stored)."""

    row: AccountLink
    secret: str
    user: User

    @property
    def purpose(self) -> str:
        return self.row.purpose


def issue(actor: User | None, user: User, purpose: str | None = None) -> Link:
    """Make a new link for `user`, replacing any unused one.

    `purpose` None: an invitation for someone who has never set a password, else a reset.
    :raise 403: the actor is not an admin. :raise Invalid: the person is deactivated.
    """
    if actor is not None:
        require(actor, "admin.users")
    if not user.active:
        raise Invalid(f"{user.name} is deactivated; reactivate them first.", {"active": ["Deactivated."]})
    purpose = purpose or (RESET if user.has_password else INVITATION)
    now = utcnow()
    config = current_app.config
    lifetime = timedelta(days=config["INVITATION_DAYS"]) if purpose == INVITATION else \
        timedelta(hours=config["RESET_HOURS"])
    db.session.execute(update(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
                       .values(used_at=now))
    secret = secrets.token_urlsafe(32)
    row = AccountLink(user_id=user.id, purpose=purpose, token_hash=_digest(secret), created_at=now,
                      created_by_id=actor.id if actor else None, expires_at=now + lifetime)
    db.session.add(row)
    db.session.flush()
    trail.record(actor, f"user.{purpose}_sent", "user", user.id, {"link": row.id, "expires_at": row.expires_at})
    return Link(row, secret, user)


def find(secret: str) -> AccountLink:
    """The usable link with this secret. :raise NotFound: used, expired, replaced or never made."""
    row = db.session.scalar(select(AccountLink).where(AccountLink.token_hash == _digest(secret or "")))
    if row is None or row.used_at is not None or row.expires_at <= utcnow() or not row.user.active:
        raise NotFound(GONE)
    return row


def accept(secret: str, password: str, name: str | None = None) -> User:
    """Set the password of the person the link is for, and use the link up.

    :raise NotFound: the link is not usable. :raise Invalid: a weak password or a bad name.
    """
    row = find(secret)
    user = row.user
    if name is not None and name.strip() and name.strip() != user.name:
        if len(name.strip()) > 200:
            raise Invalid("Your name is too long.", {"name": ["At most 200 characters."]})
        trail.record(user, "user.changed", "user", user.id, {"name": [user.name, name.strip()]})
        user.name = name.strip()
    accounts.set_password(user, password, actor=user)
    row.used_at = utcnow()
    trail.record(user, f"user.{row.purpose}_accepted", "user", user.id, {"link": row.id})
    return user


def base_url() -> str:
    """The register's address for links: GEMBA_BASE_URL, else the address of this request."""
    configured = current_app.config.get("BASE_URL")
    if configured:
        return configured.rstrip("/")
    try:
        return request.host_url.rstrip("/")
    except RuntimeError:  # outside a request (the command line) with no base URL set
        return "http://127.0.0.1:5000"


def link_url(link: Link, base: str | None = None) -> str:
    return f"{base or base_url()}/welcome/{link.secret}"


def compose(link: Link, base: str, sender: str, inviter: str | None = None) -> EmailMessage:
    user, url = link.user, link_url(link, base)
    expires = link.row.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = user.email
    if link.purpose == INVITATION:
        message["Subject"] = "You are invited to Gemba"
        lines = [f"Hello {user.name},", "",
                 f"{inviter or 'Your administrator'} has added you to Gemba as {user.role}.",
                 "Choose your password here to sign in:", "", f"  {url}", "",
                 f"The link works once, until {expires}."]
    else:
        message["Subject"] = "Reset your Gemba password"
        lines = [f"Hello {user.name},", "", "Choose a new password for Gemba here:", "", f"  {url}", "",
                 f"The link works once, until {expires}. If you did not expect it, tell your administrator."]
    message.set_content("\n".join(lines) + "\n")
    return message


@dataclass
class Delivery:
    link: Link
    sent: bool
    problem: str | None = None


def deliver(links: list[Link], inviter: User | None = None, base: str | None = None) -> list[Delivery]:
    """Email each link (one SMTP connection); call after the links are committed.

    A refused recipient or an unreachable server is reported per link, never raised: the
    person exists either way, and the admin can send the link again.
    """
    if not links:
        return []
    config = current_app.config
    base = base or base_url()
    results = []
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
            for link in links:
                try:
                    smtp.send_message(compose(link, base, config["SMTP_FROM"], inviter.name if inviter else None))
                except smtplib.SMTPException as exc:
                    results.append(Delivery(link, False, f"The mail server refused it: {exc}"))
                    continue
                results.append(Delivery(link, True))
    except OSError as exc:  # refused connection, DNS, timeout; smtplib's errors are OSErrors too
        done = {id(d.link) for d in results}
        results += [Delivery(link, False, f"Could not reach the mail server: {exc}")
                    for link in links if id(link) not in done]
    return results

