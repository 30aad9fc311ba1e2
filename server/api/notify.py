"""Notifications, webhooks, polled events and calendar feeds over JSON."""

from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint

from ..access import SIGNED_IN, allow
from ..extensions import db
from ..schemas.notify import (
    CalendarSchema,
    DeliveriesSchema,
    DeliverySchema,
    EventsQuerySchema,
    EventsSchema,
    NewWebhookSchema,
    NotificationQuerySchema,
    NotificationsSchema,
    PreferenceSchema,
    PreferencesSchema,
    ReadResultSchema,
    ReadSchema,
    SendReportSchema,
    SentReportSchema,
    WebhookCreateSchema,
    WebhookSchema,
    WebhooksSchema,
)
from ..services import audits, calendars, inbox, notify, webhooks

blp = Blueprint("notify", __name__, url_prefix="/api", description="Notifications, webhooks, events, calendars")


@blp.route("/notifications")
@allow(SIGNED_IN)
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationsSchema)
@blp.alt_response(401, description="Not signed in")
def list_notifications(query):
    """Your notifications, newest first, and how many are unread."""
    return {"notifications": inbox.notifications_of(current_user, query["limit"]),
            "unread": inbox.unread_count(current_user)}


@blp.route("/notifications/read", methods=["POST"])
@allow(SIGNED_IN)
@blp.arguments(ReadSchema)
@blp.response(200, ReadResultSchema)
@blp.alt_response(401, description="Not signed in")
def mark_read(data):
    """Mark your notifications read: those named by `ids`, or all of them."""
    marked = inbox.mark_read(current_user, data.get("ids"))
    db.session.commit()
    return {"marked": marked, "unread": inbox.unread_count(current_user)}


@blp.route("/notifications/preferences")
@allow(SIGNED_IN)
@blp.response(200, PreferencesSchema)
@blp.alt_response(401, description="Not signed in")
def get_preferences():
    """How you hear of each kind: email (one mail each), digest (a daily mail) or app (in-app only)."""
    return {"preferences": inbox.preferences(current_user)}


@blp.route("/notifications/preferences", methods=["PUT"])
@allow(SIGNED_IN)
@blp.arguments(PreferenceSchema)
@blp.response(200, PreferencesSchema)
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(422, description="A field is not valid")
def set_preference(data):
    """Choose how you hear of one kind."""
    inbox.set_preference(current_user, data["kind"], data["channel"])
    db.session.commit()
    return {"preferences": inbox.preferences(current_user)}


@blp.route("/webhooks")
@allow("admin.webhooks")
@blp.response(200, WebhooksSchema)
@blp.alt_response(403, description="Not an admin")
def list_webhooks():
    """The registered webhooks (without their secrets)."""
    return {"webhooks": webhooks.webhooks(current_user)}


@blp.route("/webhooks", methods=["POST"])
@allow("admin.webhooks")
@blp.arguments(WebhookCreateSchema)
@blp.response(201, NewWebhookSchema)
@blp.alt_response(403, description="Not an admin")
@blp.alt_response(422, description="A field is not valid")
def create_webhook(data):
    """Register a URL for event kinds; each delivery is signed with the `secret` in this answer."""
    hook = webhooks.create_webhook(current_user, data["url"], data["events"])
    db.session.commit()
    return hook


@blp.route("/webhooks/<uuid:webhook_id>")
@allow("admin.webhooks")
@blp.response(200, WebhookSchema)
@blp.alt_response(404, description="No such webhook")
def get_webhook(webhook_id):
    return webhooks.get_webhook(current_user, webhook_id)


@blp.route("/webhooks/<uuid:webhook_id>/deliveries")
@allow("admin.webhooks")
@blp.response(200, DeliveriesSchema)
@blp.alt_response(404, description="No such webhook")
def list_deliveries(webhook_id):
    """The webhook's newest deliveries: state, attempts, last status and error."""
    hook = webhooks.get_webhook(current_user, webhook_id)
    return {"deliveries": webhooks.deliveries(current_user, hook)}


@blp.route("/webhooks/deliveries/<uuid:delivery_id>/resend", methods=["POST"])
@allow("admin.webhooks")
@blp.response(200, DeliverySchema)
@blp.alt_response(404, description="No such delivery")
def resend_delivery(delivery_id):
    """Send a delivery again (same idempotency key), now and with a new retry window."""
    delivery = webhooks.resend(current_user, delivery_id)
    db.session.commit()
    return delivery


@blp.route("/events")
@allow("admin.webhooks")
@blp.arguments(EventsQuerySchema, location="query")
@blp.response(200, EventsSchema)
@blp.alt_response(403, description="Not an admin")
def list_events(query):
    """Events in server order after `after`, for systems that poll instead of receiving webhooks."""
    events = webhooks.events_after(current_user, query["after"], query["limit"])
    return {"events": events, "last": events[-1].seq if events else query["after"]}


@blp.route("/me/calendar", methods=["POST"])
@allow(SIGNED_IN)
@blp.response(201, CalendarSchema)
def new_calendar():
    """A new secret iCalendar address for your audits, action due dates and checks (the old one stops)."""
    token = calendars.new_feed(current_user)
    db.session.commit()
    return {"url": url_for("pages.calendar_feed", token=token, _external=True), "active": True}


@blp.route("/me/calendar", methods=["DELETE"])
@allow(SIGNED_IN)
@blp.response(204)
def revoke_calendar():
    """Revoke your calendar address; calendar apps subscribed to it get nothing more."""
    calendars.revoke_feeds(current_user)
    db.session.commit()


@blp.route("/audits/<uuid:audit_id>/send-report", methods=["POST"])
@allow(SIGNED_IN)
@blp.arguments(SendReportSchema)
@blp.response(202, SentReportSchema)
@blp.alt_response(404, description="No such audit")
@blp.alt_response(422, description="No recipients, or one who may not see the audit")
def send_report(data, audit_id):
    """Email the audit's PDF report to chosen people (the worker renders and sends it)."""
    audit = audits.get_audit(current_user, audit_id)
    count = notify.send_report(current_user, audit, data["recipients"], data["note"])
    db.session.commit()
    return {"queued": count}
