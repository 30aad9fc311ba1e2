"""Signed-in sessions, kept on the server so that ending one ends it everywhere.

The signed cookie only names a `UserSession`; the row says whether it is still live. A
session ends when its person signs out or revokes it, when their password changes (all
their other sessions) or they are deactivated, after GEMBA_SESSION_IDLE_DAYS without a
request, and GEMBA_SESSION_MAX_DAYS after it began whatever happens.
"""

import uuid
from datetime import timedelta

from flask import current_app, g
from sqlalchemy import select, update

from ..errors import NotFound
from ..extensions import db
from ..models import User, UserSession, utcnow
from . import trail
from .throttle import Client


def start_session(user: User, client: Client) -> UserSession:
    """Open a session for `user` signing in from `client`."""
    now = utcnow()
    row = UserSession(
        user_id=user.id, created_at=now, last_seen_at=now,
        expires_at=now + timedelta(days=current_app.config["SESSION_MAX_DAYS"]),
        user_agent=client.user_agent[:255], address=client.address[:64],
    )
    db.session.add(row)
    db.session.flush()
    trail.record(user, "user.signed_in", "user", user.id,
                 {"session": row.id, "address": row.address, "user_agent": row.user_agent})
    return row


def _live(now):
    idle_since = now - timedelta(days=current_app.config["SESSION_IDLE_DAYS"])
    return (UserSession.ended_at.is_(None), UserSession.expires_at > now, UserSession.last_seen_at > idle_since)


def find_session(session_id) -> UserSession | None:
    """The session a cookie names, live or not; None for an id that names none."""
    try:
        return db.session.get(UserSession, uuid.UUID(str(session_id)))
    except ValueError:
        return None


def is_live(row: UserSession) -> bool:
    now = utcnow()
    idle_since = now - timedelta(days=current_app.config["SESSION_IDLE_DAYS"])
    return row.ended_at is None and row.expires_at > now and row.last_seen_at > idle_since


def touch(row: UserSession) -> bool:
    """Note that the session was just used, at most once per SESSION_TOUCH_SECONDS; True when written.

    A conditional UPDATE, so parallel requests of one session write once between them.
    """
    now = utcnow()
    cutoff = now - timedelta(seconds=current_app.config["SESSION_TOUCH_SECONDS"])
    if row.last_seen_at > cutoff:
        return False
    result = db.session.execute(update(UserSession).where(UserSession.id == row.id, UserSession.last_seen_at <= cutoff)
                                .values(last_seen_at=now).execution_options(synchronize_session=False))
    row.last_seen_at = now
    return result.rowcount > 0


def current_session_id() -> uuid.UUID | None:
    """The session the request in progress was made in (set by server/security.py), if any."""
    return g.get("user_session_id")


def sessions_of(user: User) -> list[UserSession]:
    """`user`'s live sessions, the most recently used first."""
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, *_live(utcnow()))
        .order_by(UserSession.last_seen_at.desc(), UserSession.created_at.desc())
    ))


def get_session(user: User, session_id) -> UserSession:
    """Load one of `user`'s own live sessions.

    :raise 404: no such live session of theirs (another person's is not theirs to see).
    """
    row = find_session(session_id)
    if row is None or row.user_id != user.id or not is_live(row):
        raise NotFound("No such signed-in session.")
    return row


def end_session(actor: User | None, row: UserSession, because: str = "revoked") -> None:
    """End one session: signed out (its own request) or revoked (from the list of sessions)."""
    if row.ended_at is not None:
        return
    row.ended_at = utcnow()
    row.ended_because = because
    action = "user.signed_out" if because == "signed_out" else "user.session_revoked"
    trail.record(actor, action, "user", row.user_id, {"session": row.id})


def end_sessions(user: User, except_current: bool = False, actor: User | None = None,
                 because: str = "revoked") -> int:
    """End every live session of `user` (but the request's own one, if asked); return how many.

    `because` is kept on each session: revoked, password_changed, deactivated.
    """
    now = utcnow()
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    current = current_session_id()
    if except_current and current is not None:
        query = query.where(UserSession.id != current)
    ended = db.session.execute(query.values(ended_at=now, ended_because=because)
                               .execution_options(synchronize_session="fetch")).rowcount
    if ended:
        trail.record(actor, "user.sessions_ended", "user", user.id, {"count": ended, "because": because})
    return ended

