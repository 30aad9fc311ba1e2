"""Objectives, readiness and management reviews: keeping the system alive between audits."""

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from ..access import SIGNED_IN, allow
from ..extensions import db
from ..ids import uuid_or_none
from ..models import Area, Site, User
from ..permissions import can
from ..services import coverage, management_reviews, objectives, readiness
from .blueprint import bp
from .forms import record_options
from .params import areas_in_order
from .programme_forms import ConfirmForm
from .submission import submit
from .upkeep_forms import (
    MeasurementForm,
    ObjectiveFilterForm,
    ObjectiveForm,
    ReadinessFilterForm,
    ReviewActionForm,
    ReviewOpenForm,
    ReviewRecordForm,
    SignOffForm,
)


def _sites():
    return db.session.scalars(select(Site).where(Site.retired_at.is_(None)).order_by(Site.name)).all()


def _place_options():
    options = [SelectChoice("", "The whole organisation")]
    options += [SelectChoice(f"site:{s.id}", s.name) for s in _sites()]
    options += [SelectChoice(f"area:{a.id}", a.label) for a in areas_in_order()]
    return options


def _objective_form(formdata=None) -> ObjectiveForm:
    form = ObjectiveForm(formdata=formdata) if formdata is not None else ObjectiveForm()
    people = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    form.owner.choices = record_options("Choose an owner", people, label=lambda u: f"{u.name} ({u.role})")
    form.source.choices = [SelectChoice("manual", "Entered by the owner")] + [
        SelectChoice(m.key, f"Computed: {m.label} ({m.unit})") for m in objectives.METRICS.values()]
    form.area.choices = _place_options()
    return form


@bp.route("/objectives")
@allow("objective.list")
def objectives_list():
    form = ObjectiveFilterForm(request.args)
    form.site.choices = record_options("Every site", _sites())
    filters = {}
    if form.validate():
        filters = {"site_id": uuid_or_none(form.site.data), "standard": (form.standard.data or "").strip() or None}
    rows = db.session.scalars(objectives.objective_query(current_user, **filters)).all()
    today = date.today()
    return render_template("objectives.html", form=form, rows=[(o, objectives.summary(o, today)) for o in rows],
                           labels=objectives.STATUS_LABELS, metrics=objectives.METRICS)


@bp.route("/objectives/new", methods=["GET", "POST"])
@allow("objective.manage")
def objective_create():
    form = _objective_form(request.form if request.method == "POST" else None)

    def create():
        place = form.area.data or ""
        kind, _, place_id = place.partition(":")
        data = {
            "title": form.title.data, "standard": form.standard.data, "clause": form.clause.data,
            "owner_id": form.owner.data, "target_value": float(form.target_value.data), "unit": form.unit.data,
            "direction": form.direction.data, "every_months": form.every_months.data, "due_date": form.due_date.data,
            "source": form.source.data, "source_days": form.source_days.data,
            "site_id": place_id if kind == "site" else None, "area_id": place_id if kind == "area" else None,
        }
        return objectives.create_objective(current_user, data)

    done = submit(form, create)
    if done.saved:
        return redirect(url_for("pages.objective_page", objective_id=done.result.id))
    return render_template("objective_new.html", form=form), (done.status if request.method == "POST" else 200)


@bp.route("/objectives/<uuid:objective_id>", methods=["GET", "POST"])
@allow("objective.list")
def objective_page(objective_id):
    objective = objectives.get_objective(current_user, objective_id)
    may_measure = can(current_user, "objective.measure", objective)
    form = MeasurementForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.measured_on.data = date.today()
    status = 200
    if request.method == "POST":
        objective = objectives.get_objective(current_user, objective_id, "objective.measure")
        done = submit(form, lambda: objectives.record_measurement(
            current_user, objective, float(form.value.data), form.measured_on.data, form.note.data or ""))
        if done.saved:
            return redirect(url_for("pages.objective_page", objective_id=objective.id))
        status = done.status
    return render_template("objective.html", objective=objective, summary=objectives.summary(objective),
                           chart=objectives.trend_chart(objective), form=form, may_measure=may_measure,
                           labels=objectives.STATUS_LABELS, metric=objectives.METRICS.get(objective.source),
                           compute_form=ConfirmForm(),
                           may_retire=objective.retired_at is None and can(current_user, "objective.manage", objective)), status


@bp.route("/objectives/<uuid:objective_id>/retire", methods=["POST"])
@allow("objective.manage")
def objective_retire(objective_id):
    objective = objectives.get_objective(current_user, objective_id, "objective.manage")
    done = submit(ConfirmForm(), lambda: objectives.retire_objective(current_user, objective))
    if done.saved:
        flash(f"Retired: {objective.title}. Its measurements stay in the trail and the evidence packs.")
    return redirect(url_for("pages.objectives_list"))


@bp.route("/objectives/<uuid:objective_id>/compute", methods=["POST"])
@allow("objective.list")
def objective_compute(objective_id):
    objective = objectives.get_objective(current_user, objective_id, "objective.measure")
    submit(ConfirmForm(), lambda: objectives.measure_now(current_user, objective))
    return redirect(url_for("pages.objective_page", objective_id=objective.id))


@bp.route("/readiness")
@allow("readiness.view")
def readiness_page():
    form = ReadinessFilterForm(request.args)
    form.standard.choices = [SelectChoice("", "Every standard")] + [SelectChoice(s) for s in coverage.standards()]
    form.site.choices = record_options("Every site", _sites())
    filters = {}
    if form.validate():
        filters = {"standard": form.standard.data or None, "site_id": uuid_or_none(form.site.data)}
    result = readiness.readiness(current_user, **filters)
    db.session.commit()  # the trail checkpoint moves on when the chain held
    today = date.today()
    return render_template("readiness.html", form=form, result=result, pack_to=today.isoformat(),
                           pack_from=today.replace(year=today.year - 1).isoformat() if not (today.month == 2 and today.day == 29)
                           else today.replace(year=today.year - 1, day=28).isoformat())


def _open_form(formdata=None) -> ReviewOpenForm:
    form = ReviewOpenForm(formdata=formdata) if formdata is not None else ReviewOpenForm()
    form.standard.choices = [SelectChoice("", "Every standard")] + [SelectChoice(s) for s in coverage.standards()]
    form.site.choices = record_options("The whole organisation", _sites())
    return form


@bp.route("/management-reviews", methods=["GET", "POST"])
@allow("management_review.manage")
def management_reviews_list():
    form = _open_form(request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        done = submit(form, lambda: management_reviews.open_review(
            current_user, form.period_start.data, form.period_end.data, form.standard.data or "", form.site.data or None))
        if done.saved:
            return redirect(url_for("pages.management_review_page", review_id=done.result.id))
        status = done.status
    rows = management_reviews.visible(current_user, db.session.scalars(management_reviews.review_query(current_user)))
    return render_template("management_reviews.html", form=form, rows=rows, today=date.today()), status


def _record_form(review, formdata=None) -> ReviewRecordForm:
    form = ReviewRecordForm(formdata=formdata) if formdata is not None else ReviewRecordForm()
    if formdata is None:
        form.held_on.data = review.held_on
        form.attendees.data = "\n".join(review.attendees or [])
        form.decisions.data = review.decisions
        for key in management_reviews.NOTE_FIELDS:
            getattr(form, key).data = (review.notes or {}).get(key, "")
    return form


def _action_form(formdata=None) -> ReviewActionForm:
    form = ReviewActionForm(formdata=formdata) if formdata is not None else ReviewActionForm()
    people = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    form.owner.choices = record_options("Choose an owner", people, label=lambda u: f"{u.name} ({u.role})")
    return form


def _review_page(review, status=200, **forms):
    forms.setdefault("record_form", _record_form(review))
    forms.setdefault("action_form", _action_form())
    forms.setdefault("sign_off_form", SignOffForm())
    return render_template("management_review.html", review=review, inputs=review.inputs or {},
                           note_labels=management_reviews.NOTE_FIELDS, today=date.today(),
                           may_sign_off=can(current_user, "management_review.sign_off", review),
                           labels=objectives.STATUS_LABELS, **forms), status


@bp.route("/management-reviews/<uuid:review_id>", methods=["GET", "POST"])
@allow("management_review.manage")
def management_review_page(review_id):
    review = management_reviews.get_review(current_user, review_id)
    if request.method == "GET":
        return _review_page(review)
    form = _record_form(review, request.form)
    notes = {key: getattr(form, key).data or "" for key in management_reviews.NOTE_FIELDS}
    done = submit(form, lambda: management_reviews.update_review(current_user, review, {
        "held_on": form.held_on.data, "attendees": form.attendees.data or "", "notes": notes,
        "decisions": form.decisions.data or ""}))
    if done.saved:
        return redirect(url_for("pages.management_review_page", review_id=review.id))
    return _review_page(review, done.status, record_form=form)


@bp.route("/management-reviews/<uuid:review_id>/actions", methods=["POST"])
@allow("management_review.manage")
def management_review_action(review_id):
    review = management_reviews.get_review(current_user, review_id)
    form = _action_form(request.form)
    done = submit(form, lambda: management_reviews.add_action(current_user, review, {
        "title": form.title.data, "owner_id": form.owner.data, "due_date": form.due_date.data}))
    if done.saved:
        return redirect(url_for("pages.management_review_page", review_id=review.id) + "#outputs")
    return _review_page(review, done.status, action_form=form)


@bp.route("/management-reviews/<uuid:review_id>/sign-off", methods=["POST"])
@allow("management_review.manage")
def management_review_sign_off(review_id):
    review = management_reviews.get_review(current_user, review_id)
    form = SignOffForm(request.form)
    done = submit(form, lambda: management_reviews.sign_off(current_user, review, form.no_outputs_confirmed.data))
    if done.saved:
        return redirect(url_for("pages.management_review_page", review_id=review.id))
    return _review_page(review, done.status, sign_off_form=form)


@bp.route("/review-actions/<uuid:review_action_id>/done", methods=["POST"])
@allow(SIGNED_IN)
def review_action_done(review_action_id):
    action = management_reviews.get_action(current_user, review_action_id)
    submit(ConfirmForm(), lambda: management_reviews.mark_action_done(current_user, action))
    return redirect(url_for("pages.actions_list", owner="me", status="open"))
