"""The register's workflows at the API edge: review decisions, actions, list filters."""

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from ..fieldrules import LIMITS
from ..models import ActionStatus, FindingKind, FindingStatus

from .shapes import Day, Strict, WhySchema, text_field


class FindingFilterSchema(ma.Schema):
    """The findings list's filters, with the same names as the register page's form."""

    class Meta:
        unknown = ma.EXCLUDE  # the page's own parameters (page=...) may come along

    status = f.String(validate=v.OneOf([s.value for s in FindingStatus] + ["open_any", ""]))
    kind = f.String(validate=v.OneOf([k.value for k in FindingKind] + [""]))
    area = f.String(validate=v.Length(max=36))
    clause = f.String(validate=v.Length(max=LIMITS["clause"]))
    q = f.String(validate=v.Length(max=100))


class ActionFilterSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    status = f.String(validate=v.OneOf([s.value for s in ActionStatus] + ["overdue", ""]))
    owner = f.String(validate=v.Length(max=36), metadata={"description": "a user id, or 'me'"})


class ApproveSchema(Strict):
    comment = text_field("comment", load_default="")


class ReturnSchema(Strict):
    comment = text_field("comment", required=True)


class ReasonSchema(Strict):
    reason = text_field("reason", required=True)


class TriageSchema(Strict):
    decision = f.String(required=True, validate=v.OneOf(["accept", "reject"]))
    reason = text_field("reason", load_default="")


class RepeatSchema(Strict):
    repeat_of_id = f.UUID(required=True, allow_none=True)


class ActionPlanSchema(Strict):
    containment = text_field(load_default="")
    whys = f.List(f.Nested(WhySchema), required=True)
    root_cause = text_field(required=True)
    plan = text_field(required=True)
    owner_id = f.UUID(required=True)
    due_date = Day(required=True)
    effectiveness_due = Day(allow_none=True)


class DoneSchema(Strict):
    note = text_field(load_default="")


class EffectivenessSchema(Strict):
    effective = f.Boolean(required=True)
    note = text_field(load_default="")
    next_plan = text_field(description="The new action's plan when not effective.")
    next_due_date = Day(metadata={"description": "the new action's due date when not effective"})


class UserRefSchema(ma.Schema):
    id = f.UUID()
    name = f.String()


class ActionSchema(ma.Schema):
    id = f.UUID()
    finding_id = f.UUID()
    version = f.Integer()
    status = f.String()
    containment = f.String()
    whys = f.List(f.Dict())
    root_cause = f.String()
    plan = f.String()
    owner = f.Nested(UserRefSchema, allow_none=True)
    due_date = Day(allow_none=True)
    done_at = f.DateTime(allow_none=True)
    done_note = f.String()
    effectiveness_due = Day(allow_none=True)
    effectiveness_result = f.String(allow_none=True)
    effectiveness_at = f.DateTime(allow_none=True)


class EffectivenessResultSchema(ma.Schema):
    action = f.Nested(ActionSchema)
    follow_up = f.Nested(ActionSchema, allow_none=True)


class AuditStateSchema(ma.Schema):
    id = f.UUID()
    status = f.String()
    version = f.Integer()
    reviewed_at = f.DateTime(allow_none=True)


class FindingStateSchema(ma.Schema):
    id = f.UUID()
    status = f.String()
    status_reason = f.String()
    version = f.Integer()
    triaged_at = f.DateTime(allow_none=True)
    repeat_of_id = f.UUID(allow_none=True)


class SuggestionSchema(ma.Schema):
    id = f.UUID(attribute="finding.id")
    title = f.String(attribute="finding.title")
    clause = f.String(attribute="finding.clause")
    received_at = f.DateTime(attribute="finding.received_at")
    status = f.String(attribute="finding.status")
    similarity = f.Float()


class SuggestionsSchema(ma.Schema):
    suggestions = f.List(f.Nested(SuggestionSchema))


class QueueSchema(ma.Schema):
    audits = f.List(f.Nested(AuditStateSchema))
    findings = f.List(f.Nested(FindingStateSchema))
    audit_count = f.Integer()
    finding_count = f.Integer()
    open_conflicts = f.Integer()


class ActionListSchema(ma.Schema):
    actions = f.List(f.Nested(ActionSchema))
