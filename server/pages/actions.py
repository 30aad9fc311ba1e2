"""The finding page's workflow (triage, repeats, corrective actions) and the actions list."""

from datetime import date

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from ..access import SIGNED_IN, allow
from ..errors import Invalid, StateError
from ..extensions import db
from ..ids import uuid_or_none
from ..models import ActionStatus, Finding, FindingStatus, User
from ..permissions import can, require
from ..services import actions, audit_review, findings, listings, management_reviews, repeats
from .blueprint import bp
from .forms import record_options
from .params import page_number
from .review_forms import ActionFilterForm, ActionForm, DoneForm, EffectivenessForm, RepeatForm, TriageForm


def _people():
    return db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)).all()


def _action_form(action=None, formdata=None) -> ActionForm:
    form = ActionForm(formdata=formdata) if formdata is not None else ActionForm(formdata=None)
    form.owner.choices = record_options("Choose an owner", _people(), label=lambda u: f"{u.name} ({u.role})")
    if action is not None and formdata is None:
        form.containment.data = action.containment
        form.root_cause.data = action.root_cause
        form.plan.data = action.plan
        form.owner.data = str(action.owner_id) if action.owner_id else ""
        form.due_date.data = action.due_date
        form.effectiveness_due.data = action.effectiveness_due
        for entry, step in zip(form.whys, (action.whys or []), strict=False):
            entry.why.data, entry.because.data = step.get("why", ""), step.get("because", "")
    return form


def _repeat_form(suggestions, formdata=None) -> RepeatForm:
    form = RepeatForm(formdata=formdata) if formdata is not None else RepeatForm(formdata=None)
    form.repeat_of.choices = [SelectChoice("", "Choose an earlier finding")] + [
        SelectChoice(str(s.finding.id), f"{s.finding.title} ({s.finding.received_at:%Y-%m-%d}, {s.percent}% alike)")
        for s in suggestions
    ]
    return form


def finding_forms(finding: Finding, bound: dict | None = None) -> dict:
    """The workflow forms the finding page shows, for who is looking and the finding's status."""
    bound = bound or {}
    forms: dict = {"done_forms": {}, "effectiveness_forms": {}, "suggestions": []}
    reviewer = can(current_user, "finding.triage")
    if reviewer and finding.status == FindingStatus.OPEN and finding.triaged_at is None:
        forms["triage_form"] = bound.get("triage_form") or TriageForm(formdata=None)
    if reviewer and finding.is_open:
        forms["suggestions"] = repeats.suggest(current_user, finding)
        forms["repeat_form"] = bound.get("repeat_form") or _repeat_form(forms["suggestions"])
        forms["action_form"] = bound.get("action_form") or _action_form()
    for action in finding.actions:
        if action.status == ActionStatus.OPEN and can(current_user, "action.work", action):
            forms["done_forms"][action.id] = bound.get(("done", action.id)) or DoneForm(formdata=None, prefix=_prefix("done", action))
        if action.status == ActionStatus.DONE and reviewer:
            forms["effectiveness_forms"][action.id] = (
                bound.get(("check", action.id)) or EffectivenessForm(formdata=None, prefix=_prefix("check", action)))
    forms["today"] = date.today()
    return forms


def _prefix(kind: str, action) -> str:
    # Several actions' forms share one page: prefixes keep their field ids apart.
    return f"{kind}-{action.id.hex[:8]}"


def _render_finding(finding, status: int, bound: dict):
    return render_template("finding.html", finding=finding, **listings.finding_detail(finding),
                           **finding_forms(finding, bound)), status


def _run(finding_id, form, key, call, message: str, permission: str, subject=None):
    """Check `permission`, validate `form`, call the service, commit and go back to the finding.

    The permission comes first, so a refused user learns nothing about the form; the
    service checks it again with everything else.
    """
    finding = findings.get_finding(current_user, finding_id)
    require(current_user, permission, subject if subject is not None else finding)
    if not form.validate_on_submit():
        return _render_finding(finding, 422, {key: form})
    try:
        call(finding, form)
    except (Invalid, StateError) as exc:
        db.session.rollback()
        finding = findings.get_finding(current_user, finding_id)
        form.form_errors.append(exc.message)
        for name, messages in (exc.fields or {}).items():
            target = getattr(form, name.removesuffix("_id"), None) or getattr(form, name, None)
            if target is not None and hasattr(target, "errors") and isinstance(target.errors, list):
                target.errors.extend(messages)
        return _render_finding(finding, exc.status, {key: form})
    db.session.commit()
    flash(message)
    return redirect(url_for("pages.finding", finding_id=finding_id))


@bp.route("/findings/<uuid:finding_id>/triage", methods=["POST"])
@allow("finding.triage")
def triage_finding(finding_id):
    def call(finding, form):
        if form.decision.data == "accept":
            audit_review.accept_finding(current_user, finding, form.reason.data)
        else:
            audit_review.reject_finding(current_user, finding, form.reason.data)
    form = TriageForm()
    done = "Finding accepted; plan a corrective action below." if form.decision.data == "accept" else "Finding rejected."
    return _run(finding_id, form, "triage_form", call, done, "finding.triage")


@bp.route("/findings/<uuid:finding_id>/repeat", methods=["POST"])
@allow("finding.triage")
def link_repeat(finding_id):
    finding = findings.get_finding(current_user, finding_id)
    form = _repeat_form(repeats.suggest(current_user, finding), formdata=request.form)
    # Any earlier finding may be chosen, not only the suggestions (the service checks it).
    form.repeat_of.validate_choice = False

    def call(finding, form):
        earlier = findings.get_finding(current_user, form.repeat_of.data)
        repeats.link_repeat(current_user, finding, earlier)
    return _run(finding_id, form, "repeat_form", call, "Linked as a repeat finding.", "finding.triage")


@bp.route("/findings/<uuid:finding_id>/actions", methods=["POST"])
@allow("action.assign")
def plan_action(finding_id):
    form = _action_form(formdata=request.form)
    return _run(finding_id, form, "action_form",
                lambda finding, f: actions.plan_action(current_user, finding, f.plan_data()),
                "Corrective action planned; the owner sees it in their actions.", "action.assign")


@bp.route("/actions/<uuid:action_id>/edit", methods=["GET", "POST"])
@allow("action.assign")
def edit_action(action_id):
    action = actions.get_action(current_user, action_id, "action.assign")
    form = _action_form(action, formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                actions.update_plan(current_user, action, form.plan_data())
            except (Invalid, StateError) as exc:
                db.session.rollback()
                form.form_errors.append(exc.message)
                status = exc.status
            else:
                db.session.commit()
                flash("Corrective action updated.")
                return redirect(url_for("pages.finding", finding_id=action.finding_id))
        else:
            status = 422
        action = actions.get_action(current_user, action_id)
    return render_template("action_edit.html", action=action, form=form), status


@bp.route("/actions/<uuid:action_id>/done", methods=["POST"])
@allow(SIGNED_IN)
def action_done(action_id):
    action = actions.get_action(current_user, action_id)
    form = DoneForm(prefix=_prefix("done", action))
    return _run(action.finding_id, form, ("done", action.id),
                lambda finding, f: actions.mark_done(current_user, actions.get_action(current_user, action_id), f.note.data),
                "Action marked done. A supervisor checks its effectiveness when the date comes.",
                "action.work", action)


@bp.route("/actions/<uuid:action_id>/effectiveness", methods=["POST"])
@allow("action.assign")
def action_effectiveness(action_id):
    action = actions.get_action(current_user, action_id)
    form = EffectivenessForm(prefix=_prefix("check", action))

    def call(finding, f):
        effective = f.result.data == "effective"
        new_plan = {"plan": f.next_plan.data, "due_date": f.next_due_date.data}
        actions.check_effectiveness(current_user, actions.get_action(current_user, action_id), effective,
                                    f.note.data, new_plan)
    message = ("Effectiveness recorded." if form.result.data == "effective"
               else "Recorded as not effective; a new corrective action is open.")
    return _run(action.finding_id, form, ("check", action.id), call, message, "action.assign", action)


@bp.route("/actions")
@allow("finding.list")
def actions_list():
    form = ActionFilterForm(request.args)
    form.owner.choices = [SelectChoice("", "Anyone"), SelectChoice("me", "Me")] + [
        SelectChoice(str(u.id), u.name) for u in _people()]
    if not can(current_user, "action.assign") and "owner" not in request.args:
        form.owner.data = "me"
    status = owner = None
    if form.validate():
        status, owner = form.status.data or None, form.owner.data or None
    owner_id = current_user.id if owner == "me" else uuid_or_none(owner)
    query = actions.action_query(current_user, status=None if status == "overdue" else status,
                                 owner_id=owner_id, overdue=status == "overdue")
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    export_args = {k: v for k, v in {"status": status, "owner": owner}.items() if v}
    return render_template("actions.html", form=form, page=page, export_args=export_args,
                           today=date.today(), due_for_check=actions.due_for_check(current_user),
                           review_actions=management_reviews.open_actions_of(current_user))


@bp.route("/my-actions")
@allow(SIGNED_IN)
def my_actions():
    return redirect(url_for("pages.actions_list", owner="me", status="open"))

