"""Keeping the system alive between audits: objectives with their measurements, and management reviews."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Area, Site, User
from .base import UTCDateTime, new_id, utcnow


class Direction(StrEnum):
    AT_LEAST = "at_least"  # the value should be this much or more (e.g. 95 % on time)
    AT_MOST = "at_most"  # the value should be this much or less (e.g. 0 open major NCs)


class Objective(db.Model):
    """A measurable objective (ISO 9001/14001/45001 clause 6.2) with a target and an owner.

    `source` is "manual" when the owner enters the value, else the key of a measure Gemba
    computes from its own data (`services/objectives.METRICS`), with `source_days` for
    the measures that take a number of days (NCs older than N days).
    """

    __tablename__ = "objective"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    standard: Mapped[str] = mapped_column(String(40), default="")
    clause: Mapped[str] = mapped_column(String(40), default="")
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"), index=True)
    target_value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40), default="")
    direction: Mapped[str] = mapped_column(String(10), default=Direction.AT_LEAST)
    # How often it is measured, in months (1 monthly, 3 quarterly, 12 yearly).
    every_months: Mapped[int] = mapped_column(Integer, default=1)
    due_date: Mapped[date | None] = mapped_column(Date)
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("site.id"), index=True)
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("area.id"))
    source: Mapped[str] = mapped_column(String(40), default="manual")
    source_days: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    site: Mapped[Site | None] = relationship()
    area: Mapped[Area | None] = relationship()
    measurements: Mapped[list["Measurement"]] = relationship(
        back_populates="objective", order_by="Measurement.measured_on", cascade="all, delete-orphan"
    )


class Measurement(db.Model):
    """One value of an objective on a day; a second value for the same day replaces the first."""

    __tablename__ = "objective_measurement"
    __table_args__ = (UniqueConstraint("objective_id", "measured_on"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    objective_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("objective.id", ondelete="CASCADE"))
    value: Mapped[float] = mapped_column(Float)
    measured_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    computed: Mapped[bool] = mapped_column(default=False)
    entered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    objective: Mapped[Objective] = relationship(back_populates="measurements")


class ManagementReviewStatus(StrEnum):
    DRAFT = "draft"
    SIGNED_OFF = "signed_off"


class ManagementReview(db.Model):
    """A management review (clause 9.3) of a period, with its inputs frozen as they were assembled.

    `inputs` holds what Gemba assembled from its own data on the day the review was opened
    (a later change to a finding does not rewrite it); `notes` the inputs the chair writes
    (context changes, customer feedback, ...). Signing off locks the record.
    """

    __tablename__ = "management_review"
    __table_args__ = (Index("ix_management_review_period", "period_end", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    held_on: Mapped[date | None] = mapped_column(Date)
    standard: Mapped[str] = mapped_column(String(40), default="")
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("site.id"))
    chair_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id"))
    attendees: Mapped[list] = mapped_column(JSON, default=list)
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)
    assembled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notes: Mapped[dict] = mapped_column(JSON, default=dict)
    decisions: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ManagementReviewStatus.DRAFT)
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    chair: Mapped[User] = relationship(foreign_keys=[chair_id])
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])
    site: Mapped[Site | None] = relationship()
    actions: Mapped[list["ReviewAction"]] = relationship(
        back_populates="review", order_by="ReviewAction.created_at", cascade="all, delete-orphan"
    )


class ReviewAction(db.Model):
    """An output of a management review: something to do, by whom, by when.

    Tracked like a corrective action (it shows in its owner's actions, goes overdue) and
    comes back as the first input of the next review.
    """

    __tablename__ = "review_action"
    __table_args__ = (Index("ix_review_action_owner_status", "owner_id", "status", "due_date"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("management_review.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id"))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    review: Mapped[ManagementReview] = relationship(back_populates="actions")
    owner: Mapped[User] = relationship()
