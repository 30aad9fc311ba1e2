"""The audit programme over JSON, for planning tools and for sharing checklists between sites.

Every call that puts an auditor on an audit goes through `services.programme`, which
refuses a conflict of interest (403, code "impartiality") and an unqualified auditor (422).
"""

from datetime import date

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from ..access import allow
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Area, Audit, Template, User
from ..schemas.programme import (
    AssignSchema,
    AuditorSuggestionsSchema,
    PlanAuditSchema,
    PlannedAuditListSchema,
    PlannedAuditSchema,
    ProgrammeQuerySchema,
    RescheduleSchema,
    TemplateRefSchema,
)
from ..services import audits, checklists, programme
from .documenting import documenting

blp = Blueprint("programme", __name__, url_prefix="/api", description="Audit programme and checklists")

COMMON = ((401, "Not signed in"), (403, "Not allowed, or a conflict of interest (code impartiality)"),
          (404, "No such record"), (409, "The audit has started"), (422, "A field is not valid"))

documented = documenting(blp, COMMON)


def _get(model, record_id, field: str):
    record = db.session.get(model, record_id) if record_id else None
    if record is None:
        raise Invalid("The audit cannot be planned.", {field: ["There is no such record."]})
    return record


@blp.route("/programme/audits")
@allow("programme.plan")
@blp.arguments(ProgrammeQuerySchema, location="query")
@blp.response(200, PlannedAuditListSchema)
@documented
def list_audits(query):
    """Audits on the programme, by planned date."""
    limit = query.pop("limit")
    return {"audits": db.session.scalars(programme.programme_query(**query).limit(limit)).all()}


@blp.route("/programme/audits", methods=["POST"])
@allow("programme.plan")
@blp.arguments(PlanAuditSchema)
@blp.response(201, PlannedAuditSchema)
@documented
def plan(data):
    """Plan one audit; with an auditor, they must be impartial and qualified on the day."""
    template = _get(Template, data["template_id"], "template_id")
    area = _get(Area, data["area_id"], "area_id")
    auditor = _get(User, data["auditor_id"], "auditor_id") if data["auditor_id"] else None
    if data["id"] and db.session.get(Audit, data["id"]) is not None:
        raise Invalid("The audit cannot be planned.", {"id": ["An audit with this id exists."]})
    audit = programme.plan_audit(current_user, template, area, data["planned_date"], auditor, audit_id=data["id"])
    db.session.commit()
    return audit


@blp.route("/programme/audits/<uuid:audit_id>/assign", methods=["POST"])
@allow("programme.plan")
@blp.arguments(AssignSchema)
@blp.response(200, PlannedAuditSchema)
@documented
def assign(data, audit_id):
    """Put an auditor on a planned audit (or none: null)."""
    audit = audits.get_audit(current_user, audit_id, "programme.plan")
    auditor = _get(User, data["auditor_id"], "auditor_id") if data["auditor_id"] else None
    programme.assign(current_user, audit, auditor)
    db.session.commit()
    return audit


@blp.route("/programme/audits/<uuid:audit_id>/reschedule", methods=["POST"])
@allow("programme.plan")
@blp.arguments(RescheduleSchema)
@blp.response(200, PlannedAuditSchema)
@documented
def reschedule(data, audit_id):
    """Move a planned audit to another day."""
    audit = programme.reschedule(current_user, audits.get_audit(current_user, audit_id, "programme.plan"), data["planned_date"])
    db.session.commit()
    return audit


@blp.route("/programme/audits/<uuid:audit_id>/suggestions")
@allow("programme.plan")
@blp.response(200, AuditorSuggestionsSchema)
@documented
def suggestions(audit_id):
    """Eligible auditors for this audit, least recently in the area first; the others with the reason."""
    audit = audits.get_audit(current_user, audit_id, "programme.plan")
    return programme.suggest_auditors(audit.area, audit.template, audit.planned_date or date.today())


@blp.route("/checklists/<uuid:template_id>/export")
@allow("template.edit")
@blp.response(200, description="The checklist as a gemba-checklist/1 file")
@documented
def export(template_id):
    """One version of a checklist as a file another site can import."""
    template = db.session.get(Template, template_id)
    if template is None:
        raise NotFound("There is no such checklist.")
    return checklists.export_checklist(template)


@blp.route("/checklists/import", methods=["POST"])
@allow("template.edit")
@blp.response(201, TemplateRefSchema)
@documented
def import_file():
    """Import a gemba-checklist/1 file as a draft (the next version when the name exists)."""
    data = request.get_json(silent=True)
    if data is None:
        raise Invalid("Send the checklist file as a JSON body.", {"_schema": ["Not JSON."]})
    template = checklists.import_checklist(current_user, data)
    db.session.commit()
    return template
