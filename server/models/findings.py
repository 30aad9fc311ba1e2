"""Findings, the corrective actions that close them, and the review conversation."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Area, User
from .audits import Audit
from .base import UTCDateTime, Versioned, new_id, utcnow


class FindingKind(StrEnum):
    MAJOR_NC = "major_nc"
    MINOR_NC = "minor_nc"
    OBSERVATION = "observation"
    IMPROVEMENT = "improvement"


class FindingStatus(StrEnum):
    OPEN = "open"
    ACTION_PLANNED = "action_planned"
    ACTION_DONE = "action_done"
    VERIFIED = "verified"
    CLOSED = "closed"
    REJECTED = "rejected"


OPEN_FINDING_STATUSES = (
    FindingStatus.OPEN,
    FindingStatus.ACTION_PLANNED,
    FindingStatus.ACTION_DONE,
    FindingStatus.VERIFIED,
)
# The predicate of the partial indexes over open findings (the dashboard's counts).
_OPEN_SQL = "status IN ({})".format(", ".join(f"'{status.value}'" for status in OPEN_FINDING_STATUSES))
_OPEN_REPEAT_SQL = f"{_OPEN_SQL} AND repeat_of_id IS NOT NULL"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    EFFECTIVE = "effective"
    NOT_EFFECTIVE = "not_effective"


class Finding(Versioned, db.Model):
    __tablename__ = "finding"
    __table_args__ = (
        # Covering indexes: the dashboard's counts and charts read them without the table.
        Index("ix_finding_status_kind_area", "status", "kind", "area_id"),
        # Partial indexes over the open findings only (about one in seven at a million): the
        # dashboard's open counts by kind and area read one in index order and group as it
        # goes; its open repeats count reads the other, a few thousand entries.
        Index("ix_finding_open_kind_area", "kind", "area_id",
              postgresql_where=text(_OPEN_SQL), sqlite_where=text(_OPEN_SQL)),
        Index("ix_finding_open_repeat", "repeat_of_id",
              postgresql_where=text(_OPEN_REPEAT_SQL), sqlite_where=text(_OPEN_REPEAT_SQL)),
        Index("ix_finding_area_clause", "area_id", "clause"),
        Index("ix_finding_raised_by", "raised_by_id", "received_at"),
        Index("ix_finding_received_clause_area", "received_at", "clause", "area_id"),
        # (Repeat suggestions use ix_finding_area_lower_clause_received, an expression
        # index written as SQL in migrations/env.py.)
        # The register's text search (title ILIKE '%...%'): a trigram index on PostgreSQL.
        Index("ix_finding_title_trgm", "title", postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"}),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))
    clause: Mapped[str] = mapped_column(String(40), default="")
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("area.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    raised_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id"))
    # When the person saw it (device clock) and when the register first heard of it.
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    audit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("audit.id", ondelete="SET NULL"), index=True)
    question_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("question.id"))
    repeat_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("finding.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=FindingStatus.OPEN)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # Set when a supervisor has taken the finding up (accepted or rejected it); until
    # then it waits in the review queue.
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triaged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The controlled document revision the finding cites ("not as WI-014 rev 3 says"), and
    # whether the finding is that the document itself is out of date (then planning its
    # corrective action, or closing it, starts the document's next revision).
    document_revision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("document_revision.id", ondelete="SET NULL"), index=True)
    document_outdated: Mapped[bool] = mapped_column(Boolean, default=False)

    area: Mapped[Area] = relationship()
    document_revision: Mapped["DocumentRevision | None"] = relationship(foreign_keys=[document_revision_id])  # noqa: F821
    raised_by: Mapped[User] = relationship(foreign_keys=[raised_by_id])
    triaged_by: Mapped[User | None] = relationship(foreign_keys=[triaged_by_id])
    audit: Mapped[Audit | None] = relationship()
    repeat_of: Mapped["Finding | None"] = relationship(remote_side=[id])
    actions: Mapped[list["CorrectiveAction"]] = relationship(
        back_populates="finding", order_by="CorrectiveAction.created_at"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_FINDING_STATUSES


class CorrectiveAction(Versioned, db.Model):
    """React, find the cause, act, check effectiveness (ISO 9001 clause 10.2)."""

    __tablename__ = "corrective_action"
    __table_args__ = (
        Index("ix_action_owner_due", "owner_id", "due_date"),
        Index("ix_action_status_due", "status", "due_date"),
        # Covers the dashboard's action charts (opened, completed, overdue per month).
        Index("ix_action_created_done_due", "created_at", "done_at", "due_date", "status"),
        Index("ix_action_done_at", "done_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"), index=True)
    containment: Mapped[str] = mapped_column(Text, default="")
    # [{"why": "...", "because": "..."}, ...] - at most five steps to the root cause.
    whys: Mapped[list] = mapped_column(JSON, default=list)
    root_cause: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ActionStatus.OPEN)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_note: Mapped[str] = mapped_column(Text, default="")
    effectiveness_due: Mapped[date | None] = mapped_column(Date)
    effectiveness_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    effectiveness_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effectiveness_result: Mapped[str | None] = mapped_column(String(20))
    effectiveness_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="actions")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    effectiveness_by: Mapped[User | None] = relationship(foreign_keys=[effectiveness_by_id])


class Comment(db.Model):
    """One message in the review conversation on an audit or a finding."""

    __tablename__ = "comment"
    __table_args__ = (
        CheckConstraint("(audit_id IS NULL) <> (finding_id IS NULL)", name="one_subject"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    audit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("audit.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    author: Mapped[User] = relationship()
