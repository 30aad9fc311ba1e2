"""The append-only audit trail. Each event carries the hash of the one before it."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .base import BigId, UTCDateTime, utcnow


class Event(db.Model):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_entity", "entity", "entity_id"), Index("ix_event_at", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    device_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(60))  # "finding.raised", "audit.approved", ...
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    actor: Mapped[User | None] = relationship()


class TrailCheckpoint(db.Model):
    """A signed note of the trail's head: how many events it held and the newest one's hash.

    The signature (HMAC-SHA256) is keyed by a secret that is not in the database
    (GEMBA_TRAIL_KEY, or the instance folder's trail_key file), so someone with only
    database access can delete the newest events but cannot write a checkpoint that
    agrees with what is left (`gemba trail verify`).
    """

    __tablename__ = "trail_checkpoint"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event_count: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class TrailVerified(db.Model):
    """How far the trail's hash chain was last verified: the event it held up to, and that event's hash.

    Readiness verifies only the events after it (and that the checkpoint event still
    hashes as it did), so the check costs what the trail grew since; `gemba trail verify`
    and the evidence pack still walk the whole chain.
    """

    __tablename__ = "trail_verified"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
