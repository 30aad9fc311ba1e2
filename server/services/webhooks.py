"""Webhooks for integrations (admins register them), their delivery log, resending, and event polling."""

import secrets
from urllib.parse import urlsplit

from sqlalchemy import select

from ..errors import Invalid, NotFound
from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import Delivery, OutboxEvent, User, Webhook, WebhookDelivery, utcnow
from ..permissions import require
from . import notify, trail

MAX_EVENTS_PAGE = 500


def _clean(url, events) -> tuple[str, list[str]]:
    errors = FieldErrors()
    url = errors.text("url", url, "url", required=True, label="The address")
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        errors.add("url", "Give an http:// or https:// address.")
    events = list(dict.fromkeys(events or []))
    if not events:
        errors.add("events", "Choose at least one kind of event.")
    unknown = [kind for kind in events if kind not in notify.KINDS and kind != "*"]
    if unknown:
        errors.add("events", f"Unknown kinds: {', '.join(unknown)}.")
    errors.raise_if_any("The webhook is not valid.")
    return url, events


def create_webhook(user: User, url: str, events: list[str]) -> Webhook:
    """Register `url` for `events` with a new signing secret. :raise Invalid: on a bad address or kind."""
    require(user, "admin.webhooks")
    url, events = _clean(url, events)
    hook = Webhook(url=url, events=events, secret=secrets.token_hex(32), created_by_id=user.id)
    db.session.add(hook)
    db.session.flush()
    notify.forget_webhooks()
    trail.record(user, "webhook.created", "webhook", hook.id, {"url": url, "events": events})
    return hook


def get_webhook(user: User, webhook_id) -> Webhook:
    require(user, "admin.webhooks")
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound("There is no such webhook.")
    return hook


def webhooks(user: User) -> list[Webhook]:
    require(user, "admin.webhooks")
    return list(db.session.scalars(select(Webhook).order_by(Webhook.created_at)))


def switch(user: User, hook: Webhook, active: bool) -> Webhook:
    require(user, "admin.webhooks")
    hook.active = active
    notify.forget_webhooks()
    trail.record(user, "webhook.enabled" if active else "webhook.disabled", "webhook", hook.id)
    return hook


def deliveries(user: User, hook: Webhook, limit: int = 100) -> list[WebhookDelivery]:
    """The newest deliveries of `hook`, with their event."""
    require(user, "admin.webhooks")
    return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
                                   .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit)))


def resend(user: User, delivery_id) -> WebhookDelivery:
    """Send a delivery again, with the same idempotency key, starting a new retry window."""
    require(user, "admin.webhooks")
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("There is no such delivery.")
    now = utcnow()
    delivery.state, delivery.next_at, delivery.created_at, delivery.attempts = Delivery.PENDING, now, now, 0
    trail.record(user, "webhook.resent", "webhook", delivery.webhook_id, {"delivery": str(delivery.id)})
    return delivery


def events_after(user: User, after: int = 0, limit: int = 100) -> list[OutboxEvent]:
    """Events in server order after `after` (a `seq`), for systems that poll."""
    require(user, "admin.webhooks")
    if after < 0 or limit < 1:
        raise Invalid("Not a valid page.", {"after": ["Must be 0 or more."]})
    return list(db.session.scalars(select(OutboxEvent).where(OutboxEvent.seq > after)
                                   .order_by(OutboxEvent.seq).limit(min(limit, MAX_EVENTS_PAGE))))
