"""Objectives, readiness and management reviews: keeping the system alive between audits."""

from datetime import date

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from ..access import allow
from ..extensions import db
from ..ids import uuid_or_none
from ..models import Area, Site, User
from ..permissions import can
from ..services import coverage, objectives, readiness
from .blueprint import bp
from .forms import record_options
from .params import areas_in_order
from .programme_forms import ConfirmForm
from .submission import submit
from .upkeep_forms import MeasurementForm, ObjectiveFilterForm, ObjectiveForm, ReadinessFilterForm


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
                           compute_form=ConfirmForm()), status


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
    return render_template("readiness.html", form=form, result=result)
