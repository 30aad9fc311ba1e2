"""iCalendar: an invitation for a planned audit, and a person's feed behind a secret, revocable address.

Written by hand (RFC 5545 is lines of text): all-day events for planned audits, action
due dates and effectiveness checks, each with a stable UID so calendar apps update
rather than duplicate them.
"""

import hashlib
import secrets
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import ActionStatus, Area, Audit, AuditStatus, CalendarFeed, CorrectiveAction, User, utcnow
from ..permissions import is_reviewer, scope_actions
from . import trail


def _escape(text: str) -> str:
    return (text or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    out, raw = [], line.encode()
    while len(raw) > 75:
        cut = 75
        while cut and (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        out.append(raw[:cut].decode())
        raw = b" " + raw[cut:]
    out.append(raw.decode())
    return "\r\n".join(out)


def _event(uid: str, day: date, summary: str, description: str = "", url: str = "") -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{uid}@gemba", f"DTSTAMP:{utcnow():%Y%m%dT%H%M%SZ}",
             f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
             f"SUMMARY:{_escape(summary)}"]
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    if url:
        lines.append(f"URL:{url}")
    return lines + ["END:VEVENT"]


def _calendar(events: list[list[str]], method: str | None = None) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Gemba//Audits//EN", "CALSCALE:GREGORIAN"]
    if method:
        lines.append(f"METHOD:{method}")
    for event in events:
        lines += event
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _url(path: str) -> str:
    base = current_app.config.get("BASE_URL", "")
    return f"{base.rstrip('/')}{path}" if base else ""


def _audit_event(audit: Audit) -> list[str]:
    area = db.session.get(Area, audit.area_id)
    return _event(f"audit-{audit.id}", audit.planned_date, f"Audit: {area.label if area else ''}",
                  "Planned audit", _url(f"/audits/{audit.id}"))


def audit_invitation(audit: Audit) -> str | None:
    """The calendar file mailed with an audit.planned notification."""
    if audit.planned_date is None:
        return None
    return _calendar([_audit_event(audit)], method="PUBLISH")


def feed_for(user: User) -> str:
    """The person's planned audits, the due dates of their actions and the checks they make."""
    events = []
    audits = db.session.scalars(select(Audit).where(
        Audit.auditor_id == user.id, Audit.status.in_((AuditStatus.PLANNED, AuditStatus.IN_PROGRESS)),
        Audit.planned_date.is_not(None)))
    events += [_audit_event(audit) for audit in audits]
    actions = db.session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.owner_id == user.id, CorrectiveAction.status == ActionStatus.OPEN,
        CorrectiveAction.due_date.is_not(None)))
    events += [_event(f"action-{a.id}", a.due_date, f"Action due: {a.finding.title}", a.plan,
                      _url(f"/findings/{a.finding_id}")) for a in actions]
    if is_reviewer(user):
        checks = db.session.scalars(select(CorrectiveAction).where(
            scope_actions(user), CorrectiveAction.status == ActionStatus.DONE,
            CorrectiveAction.effectiveness_due.is_not(None)))
        events += [_event(f"check-{a.id}", a.effectiveness_due, f"Effectiveness check: {a.finding.title}",
                          a.plan, _url(f"/findings/{a.finding_id}")) for a in checks]
    return _calendar(events)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed(user: User) -> str:
    """Revoke the person's feed address, if any, and return a new secret token."""
    revoke_feeds(user)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(user_id=user.id, token_hash=_hash(token)))
    trail.record(user, "calendar.created", "user", user.id)
    return token


def revoke_feeds(user: User) -> int:
    feeds = db.session.scalars(select(CalendarFeed).where(
        CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))).all()
    for feed in feeds:
        feed.revoked_at = utcnow()
    if feeds:
        trail.record(user, "calendar.revoked", "user", user.id)
    return len(feeds)


def has_feed(user: User) -> bool:
    return db.session.scalar(select(CalendarFeed.id).where(
        CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))) is not None


def user_for_token(token: str) -> User | None:
    feed = db.session.scalar(select(CalendarFeed).where(
        CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None)))
    if feed is None:
        return None
    user = db.session.get(User, feed.user_id)
    return user if user is not None and user.active else None
