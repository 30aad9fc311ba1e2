"""Planned audits, auditor suggestions and checklist files at the API edge."""

import marshmallow as ma
from .shapes import Day


class PlanAuditSchema(ma.Schema):
    id = ma.fields.UUID(load_default=None, metadata={"description": "Client-generated id (optional)"})
    template_id = ma.fields.UUID(required=True)
    area_id = ma.fields.UUID(required=True)
    planned_date = Day(required=True)
    auditor_id = ma.fields.UUID(load_default=None, allow_none=True)


class AssignSchema(ma.Schema):
    auditor_id = ma.fields.UUID(required=True, allow_none=True, metadata={"description": "null to unassign"})


class RescheduleSchema(ma.Schema):
    planned_date = Day(required=True)


class ProgrammeQuerySchema(ma.Schema):
    start = Day(load_default=None)
    end = Day(load_default=None)
    area_id = ma.fields.UUID(load_default=None)
    auditor_id = ma.fields.UUID(load_default=None)
    status = ma.fields.String(load_default=None, validate=ma.validate.Length(max=20))
    limit = ma.fields.Integer(load_default=200, validate=ma.validate.Range(min=1, max=1000))


class PlannedAuditSchema(ma.Schema):
    id = ma.fields.UUID()
    template_id = ma.fields.UUID()
    template_version = ma.fields.Integer(attribute="template.version")
    area_id = ma.fields.UUID()
    area = ma.fields.String(attribute="area.label")
    auditor_id = ma.fields.UUID(allow_none=True)
    planned_date = Day(allow_none=True)
    status = ma.fields.String()
    version = ma.fields.Integer()


class PlannedAuditListSchema(ma.Schema):
    audits = ma.fields.List(ma.fields.Nested(PlannedAuditSchema))


class AuditorSuggestionSchema(ma.Schema):
    rank = ma.fields.Integer()
    auditor_id = ma.fields.UUID(attribute="user.id")
    name = ma.fields.String(attribute="user.name")
    last_here = Day(allow_none=True, metadata={"description": "When they last audited this area"})
    open_audits = ma.fields.Integer()
    qualified_until = Day(allow_none=True)


class IneligibleSchema(ma.Schema):
    auditor_id = ma.fields.UUID(attribute="user.id")
    name = ma.fields.String(attribute="user.name")
    reason = ma.fields.String()


class AuditorSuggestionsSchema(ma.Schema):
    ranked = ma.fields.List(ma.fields.Nested(AuditorSuggestionSchema))
    ineligible = ma.fields.List(ma.fields.Nested(IneligibleSchema))


class TemplateRefSchema(ma.Schema):
    id = ma.fields.UUID()
    family_id = ma.fields.UUID()
    name = ma.fields.String()
    version = ma.fields.Integer()
    status = ma.fields.String()
