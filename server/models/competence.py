"""Competence (ISO 9001 7.2, ISO 45001 7.2): what people must be able to do, who can, until when.

A `Competence` is a named ability ("Forklift licence", "LOTO") with an optional validity.
One that names `audits_standard` ("ISO 9001 internal auditor") qualifies its holders to
audit against that standard: the programme's "qualified on the day" rule reads those
records (they replaced the auditor qualification table; `server/datamigrations.py`).
A person's `CompetenceRecord` says when they gained it, when it expires, who assessed it
and the evidence (a certificate in the file store, or the `TrainingSession` that granted
it); one record per person and competence, renewed in place. `CompetenceRequirement`s say
which roles and which areas need a competence; the matrix compares the two.
"""

import uuid
from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Area, User
from .base import UTCDateTime, new_id, utcnow


class Competence(db.Model):
    __tablename__ = "competence"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    validity_months: Mapped[int | None] = mapped_column(Integer)  # None: does not expire
    # The standard family ("ISO 9001") its holders may audit against; None: not an auditor competence.
    audits_standard: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompetenceRecord(db.Model):
    """That a person holds a competence: gained, until when, on what evidence, assessed by whom."""

    __tablename__ = "competence_record"
    __table_args__ = (UniqueConstraint("user_id", "competence_id"),
                      Index("ix_competence_record_competence", "competence_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    competence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("competence.id", ondelete="CASCADE"))
    # None: not known (an auditor qualification recorded without a date, before competences).
    gained_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    assessed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # A certificate kept in the file store as `evidence/<sha256>`, or the session that granted it.
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_content_type: Mapped[str | None] = mapped_column(String(100))
    evidence_file_name: Mapped[str | None] = mapped_column(String(255))
    training_session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("training_session.id",
                                                                             ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    competence: Mapped[Competence] = relationship()
    assessed_by: Mapped[User | None] = relationship(foreign_keys=[assessed_by_id])


class CompetenceRequirement(db.Model):
    """People with `role` (anywhere), in `area` (any role), or both, need the competence."""

    __tablename__ = "competence_requirement"
    __table_args__ = (UniqueConstraint("competence_id", "role", "area_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    competence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("competence.id", ondelete="CASCADE"), index=True)
    role: Mapped[str | None] = mapped_column(String(20))
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)

    competence: Mapped[Competence] = relationship()
    area: Mapped[Area | None] = relationship()


training_attendee = Table(
    "training_attendee", db.metadata,
    Column("training_session_id", ForeignKey("training_session.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)

training_competence = Table(
    "training_competence", db.metadata,
    Column("training_session_id", ForeignKey("training_session.id", ondelete="CASCADE"), primary_key=True),
    Column("competence_id", ForeignKey("competence.id", ondelete="CASCADE"), primary_key=True),
)


class TrainingSession(db.Model):
    """A training held on a day by a trainer; its attendees gain its competences together."""

    __tablename__ = "training_session"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    trainer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id])
    attendees: Mapped[list[User]] = relationship(secondary=training_attendee, order_by=User.name)
    competences: Mapped[list[Competence]] = relationship(secondary=training_competence, order_by=Competence.name)
