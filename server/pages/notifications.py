"""Notifications in the register: a person's list and preferences, their calendar address,
and (admins) webhooks with their delivery log. The calendar feed itself is public behind its secret."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from ..access import PUBLIC, SIGNED_IN, allow
from ..errors import DomainError
from ..extensions import db
from ..fieldrules import LIMITS
from ..services import calendars, inbox, notify, webhooks
from ..services.audits import get_audit
from ..services.notify import CHANNELS, KINDS
from .blueprint import bp
from .submission import show_errors


class WebhookForm(FlaskForm):
    url = StringField("Address (URL)", validators=[DataRequired(), Length(max=LIMITS["url"])])
    events = SelectMultipleField("Event kinds", choices=[SelectChoice(kind, kind) for kind in sorted(KINDS)],
                                 validators=[DataRequired()])


@bp.route("/notifications")
@allow(SIGNED_IN)
def notifications():
    return render_template("notifications.html", items=inbox.notifications_of(current_user, 100),
                           unread=inbox.unread_count(current_user), preferences=inbox.preferences(current_user),
                           kinds=KINDS, channels=CHANNELS, has_calendar=calendars.has_feed(current_user),
                           calendar_url=request.args.get("calendar"))


@bp.route("/notifications/read", methods=["POST"])
@allow(SIGNED_IN)
def notifications_read():
    inbox.mark_read(current_user)
    db.session.commit()
    return redirect(url_for("pages.notifications"))


@bp.route("/notifications/preferences", methods=["POST"])
@allow(SIGNED_IN)
def notifications_preferences():
    try:
        for kind in KINDS:
            if f"channel-{kind}" in request.form:
                inbox.set_preference(current_user, kind, request.form[f"channel-{kind}"])
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message)
        return redirect(url_for("pages.notifications"))
    db.session.commit()
    flash("Your notification choices are saved.")
    return redirect(url_for("pages.notifications"))


@bp.route("/notifications/calendar", methods=["POST"])
@allow(SIGNED_IN)
def notifications_calendar():
    if request.form.get("revoke"):
        calendars.revoke_feeds(current_user)
        db.session.commit()
        flash("Your calendar address is revoked; calendar apps get nothing more from it.")
        return redirect(url_for("pages.notifications"))
    token = calendars.new_feed(current_user)
    db.session.commit()
    flash("Subscribe to this address in your calendar app. It is shown once; keep it private.")
    return render_template("notifications.html", items=inbox.notifications_of(current_user, 100),
                           unread=inbox.unread_count(current_user), preferences=inbox.preferences(current_user),
                           kinds=KINDS, channels=CHANNELS, has_calendar=True,
                           calendar_url=url_for("pages.calendar_feed", token=token, _external=True))


@bp.route("/calendar/<token>.ics")
@allow(PUBLIC)
def calendar_feed(token):
    user = calendars.user_for_token(token)
    if user is None:
        abort(404)
    return Response(calendars.feed_for(user), mimetype="text/calendar",
                    headers={"Cache-Control": "private, max-age=300"})


@bp.route("/audits/<uuid:audit_id>/send-report", methods=["POST"])
@allow(SIGNED_IN)
def audit_send_report(audit_id):
    audit = get_audit(current_user, audit_id)
    try:
        count = notify.send_report(current_user, audit, request.form.getlist("recipients"), request.form.get("note", ""))
    except DomainError as exc:
        db.session.rollback()
        flash(f"{exc.message} " + " ".join(m for msgs in (exc.fields or {}).values() for m in msgs))
        return redirect(url_for("pages.audit", audit_id=audit_id))
    db.session.commit()
    flash(f"The report is on its way to {count} {'person' if count == 1 else 'people'}.")
    return redirect(url_for("pages.audit", audit_id=audit_id))


@bp.route("/webhooks", methods=["GET", "POST"])
@allow("admin.webhooks")
def webhooks_list():
    form = WebhookForm()
    status = 200
    if form.validate_on_submit():
        try:
            hook = webhooks.create_webhook(current_user, form.url.data, form.events.data)
        except DomainError as exc:
            db.session.rollback()
            show_errors(form, exc)
            status = exc.status
        else:
            db.session.commit()
            flash("Webhook registered. Its secret signs every delivery (see below).")
            return redirect(url_for("pages.webhook_page", webhook_id=hook.id))
    elif form.is_submitted():
        status = 422
    return render_template("webhooks.html", form=form, hooks=webhooks.webhooks(current_user)), status


@bp.route("/webhooks/<uuid:webhook_id>")
@allow("admin.webhooks")
def webhook_page(webhook_id):
    hook = webhooks.get_webhook(current_user, webhook_id)
    return render_template("webhook.html", hook=hook, deliveries=webhooks.deliveries(current_user, hook))


@bp.route("/webhooks/<uuid:webhook_id>/switch", methods=["POST"])
@allow("admin.webhooks")
def webhook_switch(webhook_id):
    hook = webhooks.get_webhook(current_user, webhook_id)
    webhooks.switch(current_user, hook, not hook.active)
    db.session.commit()
    return redirect(url_for("pages.webhook_page", webhook_id=hook.id))


@bp.route("/webhooks/deliveries/<uuid:delivery_id>/resend", methods=["POST"])
@allow("admin.webhooks")
def webhook_resend(delivery_id):
    delivery = webhooks.resend(current_user, delivery_id)
    db.session.commit()
    flash("The delivery is queued again with the same idempotency key.")
    return redirect(url_for("pages.webhook_page", webhook_id=delivery.webhook_id))
