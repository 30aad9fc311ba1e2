"""What the sync engine keeps: devices, the ops they pushed, the change feed, conflicts."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .base import BigId, UTCDateTime, new_id, utcnow


class OpStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class Device(db.Model):
    __tablename__ = "device"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # generated on the device
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    # The highest seq processed for this device; the next op must be last_seq + 1.
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class SyncOp(db.Model):
    """One processed op and the result it got, returned again on a replay."""

    __tablename__ = "sync_op"
    __table_args__ = (UniqueConstraint("device_id", "op_id"), UniqueConstraint("device_id", "seq"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    op_id: Mapped[uuid.UUID] = mapped_column()
    seq: Mapped[int] = mapped_column(BigInteger)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    result: Mapped[dict] = mapped_column(JSON)
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Change(db.Model):
    """The change feed devices pull from, ordered by a server-side sequence.

    `area_id` and `user_id` say who the change concerns so that a pull can skip rows a
    user may not see without loading every record.
    """

    __tablename__ = "change"
    # (entity, entity_id, seq): a record's latest change (and the audiences it went to) in one probe.
    __table_args__ = (Index("ix_change_entity", "entity", "entity_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    area_id: Mapped[uuid.UUID | None] = mapped_column()
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChangeAudience(db.Model):
    """Who a change is addressed to: one row per audience (`user:<id>`, `area:<id>`,
    `site:<id>`, `org`, `all`), written with the change.

    A pull reads `(audience, seq > cursor)` ranges of this primary key for the person's
    audiences only, so it costs what is addressed to them, not what everyone else did.
    """

    __tablename__ = "change_audience"

    audience: Mapped[str] = mapped_column(String(48), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Addressed only because it was an audience of the record's previous change.
    former: Mapped[bool] = mapped_column(Boolean, default=False)


class ConflictStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Conflict(db.Model):
    """A device's value for a field that had changed on the server meanwhile."""

    __tablename__ = "conflict"
    __table_args__ = (Index("ix_conflict_status_created", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(60))
    server_value: Mapped[object | None] = mapped_column(JSON)
    device_value: Mapped[object | None] = mapped_column(JSON)
    base_version: Mapped[int] = mapped_column(Integer)
    server_version: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"))
    op_id: Mapped[uuid.UUID | None] = mapped_column()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    # The area of the record, so a supervisor limited to some sites sees only theirs.
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("area.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default=ConflictStatus.OPEN)
    resolution: Mapped[str | None] = mapped_column(String(10))  # "server" or "device"
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
