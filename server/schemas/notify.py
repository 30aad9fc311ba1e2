"""Notifications, webhooks, polled events and calendar feeds over JSON."""

import marshmallow as ma

from ..services.notify import CHANNELS, KINDS
from .shapes import Strict, text_field

KIND = ma.fields.String(validate=ma.validate.OneOf(sorted(KINDS) + ["*"]),
                        metadata={"description": "An event kind (or * for every kind): " + ", ".join(sorted(KINDS))})


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": sorted(KINDS)})
    title = ma.fields.String()
    body = ma.fields.String()
    link = ma.fields.String(metadata={"description": "A path in the register."})
    created_at = ma.fields.DateTime()
    read_at = ma.fields.DateTime(allow_none=True)
    email_state = ma.fields.String(metadata={"description": "pending, digest, sent, failed or none."})


class NotificationsSchema(ma.Schema):
    notifications = ma.fields.List(ma.fields.Nested(NotificationSchema), metadata={"description": "Newest first."})
    unread = ma.fields.Integer()


class NotificationQuerySchema(ma.Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


class ReadSchema(Strict):
    ids = ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**63 - 1)), load_default=None,
                         metadata={"description": "The notifications to mark read; all of yours when left out."})


class ReadResultSchema(ma.Schema):
    marked = ma.fields.Integer()
    unread = ma.fields.Integer()


class PreferenceSchema(Strict):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(KINDS)))
    channel = ma.fields.String(required=True, validate=ma.validate.OneOf(CHANNELS),
                               metadata={"description": "email: one mail each; digest: a daily mail; app: in-app only."})


class PreferencesSchema(ma.Schema):
    preferences = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                                 metadata={"description": "Each kind and its channel."})


class WebhookCreateSchema(Strict):
    url = text_field("url", required=True)
    events = ma.fields.List(KIND, required=True, validate=ma.validate.Length(min=1))


class WebhookSchema(ma.Schema):
    id = ma.fields.UUID()
    url = ma.fields.String()
    events = ma.fields.List(ma.fields.String())
    active = ma.fields.Boolean()
    created_at = ma.fields.DateTime()


class NewWebhookSchema(WebhookSchema):
    secret = ma.fields.String(metadata={"description": "Signs every delivery; shown here and on the webhook's page."})


class WebhooksSchema(ma.Schema):
    webhooks = ma.fields.List(ma.fields.Nested(WebhookSchema))


class DeliverySchema(ma.Schema):
    id = ma.fields.UUID(metadata={"description": "The idempotency key (X-Gemba-Delivery)."})
    event_id = ma.fields.UUID()
    kind = ma.fields.String(attribute="event.kind")
    state = ma.fields.String(metadata={"description": "pending, sent or failed."})
    attempts = ma.fields.Integer()
    last_status = ma.fields.Integer(allow_none=True)
    last_error = ma.fields.String()
    next_at = ma.fields.DateTime(allow_none=True)
    delivered_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class DeliveriesSchema(ma.Schema):
    deliveries = ma.fields.List(ma.fields.Nested(DeliverySchema))


class EventSchema(ma.Schema):
    seq = ma.fields.Integer(metadata={"description": "Pass the last one seen as ?after= to get the next."})
    id = ma.fields.UUID()
    kind = ma.fields.String()
    at = ma.fields.DateTime()
    data = ma.fields.Dict()


class EventsSchema(ma.Schema):
    events = ma.fields.List(ma.fields.Nested(EventSchema))
    last = ma.fields.Integer(metadata={"description": "The seq to pass as ?after= next time."})


class EventsQuerySchema(ma.Schema):
    after = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=2**63 - 1))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class CalendarSchema(ma.Schema):
    url = ma.fields.String(allow_none=True, metadata={"description": "The secret feed address; shown once."})
    active = ma.fields.Boolean()


class SendReportSchema(Strict):
    recipients = ma.fields.List(ma.fields.UUID(), load_default=list,
                                metadata={"description": "People who may see the audit."})
    note = text_field("comment", load_default="")


class SentReportSchema(ma.Schema):
    queued = ma.fields.Integer(metadata={"description": "How many people the worker will email it to."})
