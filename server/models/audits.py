"""Audits and the answers given in them."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Area, User
from .base import UTCDateTime, Versioned, new_id, utcnow
from .checklists import Question, Template
from .photos import Photo


class AuditStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"


# Work not handed in yet (the programme's OPEN_WORK), and the predicate of the partial index on it.
OPEN_AUDIT_STATUSES = (AuditStatus.PLANNED, AuditStatus.IN_PROGRESS, AuditStatus.RETURNED)
_OPEN_WORK_SQL = "status IN ({})".format(", ".join(f"'{status.value}'" for status in OPEN_AUDIT_STATUSES))


class SignatureRole(StrEnum):
    AUDITOR = "auditor"
    AUDITEE = "auditee"


class Audit(Versioned, db.Model):
    __tablename__ = "audit"
    __table_args__ = (
        Index("ix_audit_status_planned", "status", "planned_date"),
        Index("ix_audit_auditor_status", "auditor_id", "status"),
        Index("ix_audit_area_planned", "area_id", "planned_date"),
        # The programme's overdue audits, most overdue first (the dashboard's ten and count):
        # read in order from the few audits not handed in yet, stopping after the page's rows.
        Index("ix_audit_open_planned", "planned_date", "created_at",
              postgresql_where=text(_OPEN_WORK_SQL), sqlite_where=text(_OPEN_WORK_SQL)),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("template.id"))
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("area.id"))
    auditor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    planned_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=AuditStatus.PLANNED)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    score: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text, default="")
    # Why the auditee did not sign at submission ("left before the close-out"), if they did not.
    unsigned_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template: Mapped[Template] = relationship()
    area: Mapped[Area] = relationship()
    auditor: Mapped[User | None] = relationship(foreign_keys=[auditor_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    responses: Mapped[list["Response"]] = relationship(back_populates="audit", cascade="all, delete-orphan")
    signatures: Mapped[list["AuditSignature"]] = relationship(
        back_populates="audit", cascade="all, delete-orphan", order_by="desc(AuditSignature.role)")  # auditor, auditee


class Response(Versioned, db.Model):
    __tablename__ = "response"
    __table_args__ = (UniqueConstraint("audit_id", "question_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit.id", ondelete="CASCADE"))
    question_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("question.id"))
    # The answer as the device sent it: "yes", "fail", 3, "2026-01-31", ...
    value: Mapped[object | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))

    audit: Mapped[Audit] = relationship(back_populates="responses")
    question: Mapped[Question] = relationship()


class AuditSignature(db.Model):
    """A sign-off drawn on the device at submission: who signed, as what, when.

    The drawing is a PNG photo linked to this row (`PhotoLink`, subject "signature"), so its
    bytes travel, are stored and are shown under the same rules as any photo evidence.
    """

    __tablename__ = "audit_signature"
    __table_args__ = (UniqueConstraint("audit_id", "role"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))
    signer_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    photo_sha256: Mapped[str] = mapped_column(ForeignKey("photo.sha256"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    audit: Mapped[Audit] = relationship(back_populates="signatures")
    photo: Mapped["Photo"] = relationship()
