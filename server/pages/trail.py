"""The audit trail page: who did what, when, from which device, filtered and paginated."""

from datetime import UTC, datetime, time, timedelta

from flask import current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..access import allow
from ..extensions import db
from ..ids import uuid_or_none
from ..models import Event, User
from ..services import trail as trail_service
from .blueprint import bp
from .forms import record_options
from .params import page_number
from .review_forms import TrailFilterForm


def _start(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@bp.route("/trail")
@allow("trail.view")
def trail():
    form = TrailFilterForm(request.args)
    form.actor.choices = record_options("Anyone", db.session.scalars(select(User).order_by(User.name)))
    filters = {}
    if form.validate():
        filters = {
            "actor_id": uuid_or_none(form.actor.data),
            "entity": form.entity.data or None,
            "entity_id": (form.entity_id.data or "").strip() or None,
            "action": (form.action.data or "").strip() or None,
            "since": _start(form.since.data) if form.since.data else None,
            "until": _start(form.until.data + timedelta(days=1)) if form.until.data else None,
        }
    query = trail_service.event_query(**filters).options(joinedload(Event.actor))
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"] * 2, error_out=False)
    return render_template("trail.html", form=form, page=page)
