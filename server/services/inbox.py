"""A person's own notifications: the list with its unread count, marking read, their preferences."""

from sqlalchemy import func, select, update

from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import Notification, NotificationPreference, User, utcnow
from .notify import CHANNELS, KINDS


def notifications_of(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def mark_read(user: User, ids: list[int] | None = None) -> int:
    """Mark the person's notifications (these `ids`, or all) read; return how many changed."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    return db.session.execute(query.values(read_at=utcnow())).rowcount


def preferences(user: User) -> dict[str, str]:
    chosen = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.channel)
                                     .where(NotificationPreference.user_id == user.id)).all())
    return {kind: chosen.get(kind, "email") for kind in KINDS}


def set_preference(user: User, kind: str, channel: str) -> None:
    errors = FieldErrors()
    errors.one_of("kind", kind, list(KINDS))
    errors.one_of("channel", channel, list(CHANNELS))
    errors.raise_if_any("The preference is not valid.")
    row = db.session.get(NotificationPreference, (user.id, kind))
    if row is None:
        db.session.add(NotificationPreference(user_id=user.id, kind=kind, channel=channel))
    else:
        row.channel = channel
