"""Notifications and webhooks: the outbox written with the change that causes it, and what the worker sends.

An `OutboxEvent` is written in the same transaction as the change it reports. An event a service records is one row in the change's transaction; the
worker then expands it (once, in one transaction) into the `Notification` rows of the
people it concerns and the `WebhookDelivery` rows of the webhooks subscribed to its kind,
and sends those.
"""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .base import BigId, UTCDateTime, new_id, utcnow


class Delivery:
    """States of an email or a webhook delivery."""

    PENDING = "pending"   # due at next_at
    DIGEST = "digest"     # waits for the person's daily digest
    SENT = "sent"
    FAILED = "failed"     # gave up after the retry window
    NONE = "none"         # the person chose in-app only for this kind


class OutboxEvent(db.Model):
    """Something that happened and that people or systems hear about, in server order."""

    __tablename__ = "outbox_event"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # "finding.raised", "action.overdue", ...
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[uuid.UUID | None] = mapped_column()
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    # Set for events the worker computes (due soon, overdue, escalations): at most one each.
    dedupe: Mapped[str | None] = mapped_column(String(160), unique=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column()  # who caused it (never told of it)
    # False until the worker has written who hears of it and the webhook deliveries.
    expanded: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class Notification(db.Model):
    """One event told to one person: in the register and the field app, and by email unless they opted out."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "event_id"),  # idempotent per recipient and event
        Index("ix_notification_user", "user_id", "id"),
        Index("ix_notification_email_due", "email_state", "email_next_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_event.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")  # a path in the register
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_state: Mapped[str] = mapped_column(String(10), default=Delivery.PENDING)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_error: Mapped[str] = mapped_column(String(300), default="")
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attachment: Mapped[str | None] = mapped_column(Text)  # an iCalendar text for audit.planned

    user: Mapped[User] = relationship()
    # Also tells the unit of work to insert the event first.
    event: Mapped[OutboxEvent] = relationship(primaryjoin="Notification.event_id == OutboxEvent.id")


class NotificationPreference(db.Model):
    """How a person wants to hear of one kind: email each, a daily digest, or in-app only."""

    __tablename__ = "notification_preference"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # email, digest, app


class Webhook(db.Model):
    __tablename__ = "webhook"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One event for one webhook. Its id is the idempotency key, the same on every retry."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_delivery_due", "state", "next_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_event.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10), default=Delivery.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    webhook: Mapped[Webhook] = relationship()
    event: Mapped[OutboxEvent] = relationship(primaryjoin="WebhookDelivery.event_id == OutboxEvent.id")


class CalendarFeed(db.Model):
    """A person's secret iCalendar address. Only its SHA-256 is stored; revoking ends it."""

    __tablename__ = "calendar_feed"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
