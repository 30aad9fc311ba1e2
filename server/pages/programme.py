"""The audit programme: list and calendar, planning, generating a year, assigning auditors, competence."""

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import allow
from ..errors import DomainError, NotFound
from ..extensions import db
from ..ids import uuid_or_none
from ..models import Area, AuditStatus, Competence, CompetenceRecord, Template, User
from ..services import audits, checklists, programme
from .blueprint import bp
from .forms import record_options
from .params import areas_in_order, page_number
from .programme_forms import (
    AreaPlanForm,
    AssignForm,
    ConfirmForm,
    GenerateForm,
    PlanAuditForm,
    ProgrammeFilterForm,
    QualificationForm,
    QuickAssignForm,
    RescheduleForm,
)
from .submission import submit


def _get(model, value, what: str):
    record = db.session.get(model, uuid_or_none(value)) if uuid_or_none(value) else None
    if record is None:
        raise NotFound(f"There is no such {what}.")
    return record


def _template_choices():
    return record_options("Choose a checklist", checklists.published_templates(), label=lambda t: f"{t.name} v{t.version}")


def _plan_form(formdata=None) -> PlanAuditForm:
    form = PlanAuditForm(formdata=formdata) if formdata is not None else PlanAuditForm(formdata=None)
    form.template.choices = _template_choices()
    form.area.choices = record_options("Choose an area", areas_in_order(), label=lambda area: area.label)
    form.auditor.choices = record_options("Assign later", programme.auditors())
    return form


def _generate_form(formdata=None) -> GenerateForm:
    form = GenerateForm(formdata=formdata) if formdata is not None else GenerateForm(formdata=None, start=date.today())
    form.template.choices = _template_choices()
    return form


def _month_arg(value: str | None) -> tuple[int, int] | None:
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return (year, month) if 1 <= month <= 12 and 1900 <= year <= 9999 else None
    except ValueError:
        return None


def _render_programme(status=200, plan_form=None, generate_form=None):
    form = ProgrammeFilterForm(request.args, areas=areas_in_order(), auditors=programme.auditors())
    filters: dict = {}
    if form.validate():
        month = _month_arg(form.month.data)
        if month:
            start = date(*month, 1)
            filters["start"], filters["end"] = start, programme.add_months(start, 1)
        filters |= {"status": form.status.data or None, "area_id": uuid_or_none(form.area.data),
                    "auditor_id": uuid_or_none(form.auditor.data), "unassigned": bool(form.unassigned.data)}
    page = db.paginate(programme.programme_query(**filters), page=page_number(),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template(
        "programme.html", form=form, page=page, today=date.today(),
        overdue=programme.overdue_audits(limit=20), plan_form=plan_form or _plan_form(),
        generate_form=generate_form or _generate_form(),
    ), status


@bp.route("/programme")
@allow("programme.plan")
def programme_list():
    return _render_programme()


@bp.route("/programme/plan", methods=["POST"])
@allow("programme.plan")
def programme_plan():
    form = _plan_form(request.form)

    def plan():
        template = _get(Template, form.template.data, "checklist")
        area = _get(Area, form.area.data, "area")
        auditor = _get(User, form.auditor.data, "auditor") if form.auditor.data else None
        return programme.plan_audit(current_user, template, area, form.planned_date.data, auditor)

    done = submit(form, plan)
    if done.saved:
        audit = done.result
        flash(f"Audit of {audit.area.label} planned for {audit.planned_date}.")
        return redirect(url_for("pages.programme_audit", audit_id=audit.id))
    return _render_programme(done.status, plan_form=form)


@bp.route("/programme/generate", methods=["POST"])
@allow("programme.plan")
def programme_generate():
    form = _generate_form(request.form)

    def generate():
        template = _get(Template, form.template.data, "checklist")
        return template, programme.generate_plan(current_user, template, form.start.data, form.months.data,
                                                 assign_auditors=form.assign.data)

    done = submit(form, generate)
    if done.saved:
        template, slots = done.result
        unassigned = sum(1 for s in slots if s.audit.auditor_id is None)
        flash(f"Planned {len(slots)} audits with {template.name}"
              + (f"; {unassigned} still need an auditor." if unassigned else ".")
              if slots else "The programme already covers that period: nothing new to plan.")
        return redirect(url_for("pages.programme_list", month=form.start.data.strftime("%Y-%m")))
    return _render_programme(done.status, generate_form=form)


@bp.route("/programme/calendar")
@allow("programme.plan")
def programme_calendar():
    today = date.today()
    year, month = _month_arg(request.args.get("month")) or (today.year, today.month)
    return render_template("programme_calendar.html", month=programme.month_calendar(year, month), today=today)


def _assign_form(audit, formdata=None) -> AssignForm:
    form = AssignForm(formdata=formdata) if formdata is not None else AssignForm(formdata=None)
    form.auditor.choices = record_options("Nobody yet", programme.auditors())
    if formdata is None:
        form.auditor.data = str(audit.auditor_id) if audit.auditor_id else ""
    return form


def _render_audit(audit, status=200, assign_form=None, reschedule_form=None):
    suggestions = programme.suggest_auditors(audit.area, audit.template, audit.planned_date or date.today())
    return render_template(
        "programme_audit.html", audit=audit, suggestions=suggestions, today=date.today(),
        assign_form=assign_form or _assign_form(audit),
        quick_form=QuickAssignForm(formdata=None),
        reschedule_form=reschedule_form or RescheduleForm(formdata=None, planned_date=audit.planned_date),
        confirm=ConfirmForm(formdata=None), movable=audit.status == AuditStatus.PLANNED,
    ), status


@bp.route("/programme/audits/<uuid:audit_id>")
@allow("programme.plan")
def programme_audit(audit_id):
    return _render_audit(audits.get_audit(current_user, audit_id, "programme.plan"))


@bp.route("/programme/audits/<uuid:audit_id>/assign", methods=["POST"])
@allow("programme.plan")
def programme_assign(audit_id):
    audit = audits.get_audit(current_user, audit_id, "programme.plan")
    form = _assign_form(audit, request.form)

    def assign():
        auditor = _get(User, form.auditor.data, "auditor") if form.auditor.data else None
        programme.assign(current_user, audit, auditor)
        return auditor

    done = submit(form, assign)
    if done.saved:
        auditor = done.result
        flash(f"{auditor.name} will audit {audit.area.label}." if auditor else "The audit has no auditor now.")
        return redirect(url_for("pages.programme_audit", audit_id=audit.id))
    return _render_audit(audit, done.status, assign_form=form)


@bp.route("/programme/audits/<uuid:audit_id>/reschedule", methods=["POST"])
@allow("programme.plan")
def programme_reschedule(audit_id):
    audit = audits.get_audit(current_user, audit_id, "programme.plan")
    form = RescheduleForm()
    done = submit(form, lambda: programme.reschedule(current_user, audit, form.planned_date.data))
    if done.saved:
        flash(f"Moved to {audit.planned_date}.")
        return redirect(url_for("pages.programme_audit", audit_id=audit.id))
    return _render_audit(audit, done.status, reschedule_form=form)


@bp.route("/programme/audits/<uuid:audit_id>/remove", methods=["POST"])
@allow("programme.plan")
def programme_remove(audit_id):
    audit = audits.get_audit(current_user, audit_id, "programme.plan")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    label = audit.area.label
    try:
        programme.remove_planned(current_user, audit)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message)
        return _render_audit(audit, exc.status)
    db.session.commit()
    flash(f"The planned audit of {label} was taken off the programme.")
    return redirect(url_for("pages.programme_list"))


def _qualification_form(formdata=None) -> QualificationForm:
    form = QualificationForm(formdata=formdata) if formdata is not None else QualificationForm(formdata=None)
    form.user.choices = record_options("Choose an auditor", programme.auditors())
    return form


def _render_auditors(status=200, form=None):
    standards, training = programme.training_matrix()
    areas, history = programme.auditor_history()
    return render_template(
        "programme_auditors.html", standards=standards, training=training, areas=areas, history=history,
        expiring=programme.expiring_qualifications(), today=date.today(),
        form=form or _qualification_form(), confirm=ConfirmForm(formdata=None),
    ), status


@bp.route("/programme/auditors")
@allow("programme.plan")
def programme_auditors():
    return _render_auditors()


@bp.route("/programme/qualifications", methods=["POST"])
@allow("programme.plan")
def qualification_set():
    form = _qualification_form(request.form)

    def qualify():
        user = _get(User, form.user.data, "auditor")
        return user, programme.set_qualification(current_user, user, form.standard.data, form.expires_on.data,
                                                 form.gained_on.data)

    done = submit(form, qualify)
    if done.saved:
        user, qualification = done.result
        flash(f"{user.name}: {qualification.competence.audits_standard} until {qualification.expires_on or 'no expiry'}.")
        return redirect(url_for("pages.programme_auditors"))
    return _render_auditors(done.status, form)


@bp.route("/programme/qualifications/<uuid:qualification_id>/delete", methods=["POST"])
@allow("programme.plan")
def qualification_delete(qualification_id):
    """Remove an auditor's qualification: their record of a standard's auditor competence (a
    migrated qualification kept its id, so an old link still names it)."""
    qualification = db.session.get(CompetenceRecord, qualification_id)
    if qualification is None or db.session.get(Competence, qualification.competence_id).audits_standard is None:
        raise NotFound("There is no such qualification.")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    programme.remove_qualification(current_user, qualification)
    db.session.commit()
    flash("Qualification removed.")
    return redirect(url_for("pages.programme_auditors"))



def _area_form(area, formdata=None) -> AreaPlanForm:
    prefix = f"area-{area.id.hex[:8]}"  # one form per area on the page: keep their field ids apart
    if formdata is not None:
        return AreaPlanForm(formdata=formdata, prefix=prefix)
    return AreaPlanForm(formdata=None, prefix=prefix, risk_level=area.risk_level,
                        audit_every_months=area.audit_every_months)


def _render_areas(status=200, bound=None):
    plans = programme.area_plans()
    forms = {plan.area.id: _area_form(plan.area) for plan in plans}
    if bound is not None:
        area_id, form = bound
        forms[area_id] = form
    return render_template("programme_areas.html", plans=plans, forms=forms, today=date.today()), status


@bp.route("/programme/areas")
@allow("programme.plan")
def programme_areas():
    return _render_areas()


@bp.route("/programme/areas/<uuid:area_id>", methods=["POST"])
@allow("programme.plan")
def programme_area_update(area_id):
    area = db.session.get(Area, area_id)
    if area is None:
        raise NotFound("There is no such area.")
    form = _area_form(area, request.form)
    done = submit(form, lambda: programme.set_area_plan(current_user, area, form.risk_level.data,
                                                         form.audit_every_months.data))
    if done.saved:
        flash(f"{area.label}: {area.risk_level} risk, audited every {area.audit_every_months} months.")
        return redirect(url_for("pages.programme_areas"))
    return _render_areas(done.status, (area.id, form))
