"""Objectives, readiness and management reviews at the API edge: shape only, values in the services."""

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from ..fieldrules import LIMITS
from .shapes import Day, Strict, text_field


class ObjectiveInSchema(Strict):
    title = text_field("title", required=True)
    standard = text_field("standard", load_default="")
    clause = text_field("clause", load_default="")
    owner_id = f.String(required=True, validate=v.Length(max=36))
    target_value = f.Raw(required=True, metadata={"type": "number"})
    unit = text_field("clause", load_default="")
    direction = f.String(load_default="at_least", metadata={"enum": ["at_least", "at_most"]})
    every_months = f.Raw(load_default=1, metadata={"type": "integer", "description": "1 to 12"})
    due_date = f.String(load_default=None, allow_none=True, validate=v.Length(max=10))
    site_id = f.String(load_default=None, allow_none=True, validate=v.Length(max=36))
    area_id = f.String(load_default=None, allow_none=True, validate=v.Length(max=36))
    source = f.String(load_default="manual", validate=v.Length(max=40),
                      metadata={"description": "manual, or a computed measure from GET /api/objectives (metrics)"})
    source_days = f.Raw(load_default=None, allow_none=True, metadata={"type": "integer"})


class ObjectiveUpdateSchema(Strict):
    """Any of the objective's fields; those left out keep their value."""

    title = text_field("title")
    standard = text_field("standard")
    clause = text_field("clause")
    owner_id = f.String(validate=v.Length(max=36))
    target_value = f.Raw(metadata={"type": "number"})
    unit = text_field("clause")
    direction = f.String(metadata={"enum": ["at_least", "at_most"]})
    every_months = f.Raw(metadata={"type": "integer"})
    due_date = f.String(allow_none=True, validate=v.Length(max=10))
    site_id = f.String(allow_none=True, validate=v.Length(max=36))
    area_id = f.String(allow_none=True, validate=v.Length(max=36))
    source = f.String(validate=v.Length(max=40))
    source_days = f.Raw(allow_none=True, metadata={"type": "integer"})


class MeasurementInSchema(Strict):
    # Required, but checked by the service, so a caller who may not measure learns 403 first.
    value = f.Raw(load_default=None, metadata={"type": "number", "description": "required"})
    measured_on = f.String(load_default=None, validate=v.Length(max=10), metadata={"format": "date", "description": "required"})
    note = text_field(load_default="")


class ObjectiveQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    site_id = f.UUID(load_default=None)
    standard = f.String(load_default=None, validate=v.Length(max=LIMITS["standard"]))


class MeasurementSchema(ma.Schema):
    id = f.UUID()
    value = f.Float()
    measured_on = Day()
    note = f.String()
    computed = f.Boolean()


class LatestSchema(ma.Schema):
    value = f.Float()
    measured_on = f.String()


class ObjectiveSchema(ma.Schema):
    id = f.UUID()
    title = f.String()
    standard = f.String()
    clause = f.String()
    owner_id = f.UUID(allow_none=True)
    owner = f.String(attribute="owner.name", allow_none=True)
    target_value = f.Float()
    unit = f.String()
    direction = f.String()
    every_months = f.Integer()
    due_date = Day(allow_none=True)
    site_id = f.UUID(allow_none=True)
    area_id = f.UUID(allow_none=True)
    source = f.String()
    source_days = f.Integer(allow_none=True)
    status = f.String(metadata={"enum": ["on_track", "at_risk", "off_track", "unmeasured"]})
    latest = f.Nested(LatestSchema, allow_none=True)
    next_due = f.String()
    stale = f.Boolean(metadata={"description": "No recent measurement"})
    measurements = f.List(f.Nested(MeasurementSchema))


class MetricSchema(ma.Schema):
    key = f.String()
    label = f.String()
    unit = f.String()
    direction = f.String()
    takes_days = f.Boolean()


class ObjectiveListSchema(ma.Schema):
    objectives = f.List(f.Nested(ObjectiveSchema))
    metrics = f.List(f.Nested(MetricSchema))


class ReadinessQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    standard = f.String(load_default=None, validate=v.Length(max=LIMITS["standard"]))
    site_id = f.UUID(load_default=None)


class SignalSchema(ma.Schema):
    key = f.String()
    status = f.String(metadata={"enum": ["green", "amber", "red"]})
    count = f.Integer()
    title = f.String()
    href = f.String()


class ReadinessSchema(ma.Schema):
    signals = f.List(f.Nested(SignalSchema))
    status = f.String(metadata={"enum": ["green", "amber", "red"]})
    standard = f.String()
    site_id = f.UUID(allow_none=True)


class ReviewOpenSchema(Strict):
    period_start = f.String(required=True, validate=v.Length(max=10), metadata={"format": "date"})
    period_end = f.String(required=True, validate=v.Length(max=10), metadata={"format": "date"})
    standard = text_field("standard", load_default="")
    site_id = f.String(load_default=None, allow_none=True, validate=v.Length(max=36))


class ReviewUpdateSchema(Strict):
    held_on = f.String(validate=v.Length(max=10), allow_none=True, metadata={"format": "date"})
    attendees = f.List(text_field("name"))
    notes = f.Dict(keys=f.String(), values=text_field())
    decisions = text_field()


class ReviewActionInSchema(Strict):
    title = text_field("title", load_default="")
    owner_id = f.String(load_default=None, allow_none=True, validate=v.Length(max=36))
    due_date = f.String(load_default=None, allow_none=True, validate=v.Length(max=10), metadata={"format": "date"})


class SignOffSchema(Strict):
    no_outputs_confirmed = f.Boolean(load_default=False)


class ReviewActionDoneSchema(Strict):
    note = text_field(load_default="")


class ManagementReviewSummarySchema(ma.Schema):
    """A review in a list: the record without its inputs."""

    id = f.String()
    period_start = f.String()
    period_end = f.String()
    held_on = f.String(allow_none=True)
    standard = f.String()
    site_id = f.String(allow_none=True)
    chair_id = f.String()
    chair = f.String()
    attendees = f.List(f.String())
    status = f.String(metadata={"enum": ["draft", "signed_off"]})
    assembled_at = f.String()
    signed_off_at = f.String(allow_none=True)
    decisions = f.String()
    actions = f.List(f.Dict())


class ManagementReviewSchema(ManagementReviewSummarySchema):
    """The record; `inputs` is what Gemba assembled when it was opened, frozen since."""

    inputs = f.Dict()
    notes = f.Dict()


class ManagementReviewListSchema(ma.Schema):
    reviews = f.List(f.Nested(ManagementReviewSummarySchema))


class ReviewActionSchema(ma.Schema):
    id = f.UUID()
    review_id = f.UUID()
    title = f.String()
    owner_id = f.UUID()
    due_date = Day()
    status = f.String(metadata={"enum": ["open", "done"]})
    done_at = f.DateTime(allow_none=True)
    done_note = f.String()


class EvidencePackQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    start = Day(required=True, data_key="from", metadata={"description": "YYYY-MM-DD, the first day"})
    end = Day(required=True, data_key="to", metadata={"description": "YYYY-MM-DD, the last day"})
    standard = f.String(load_default=None, validate=v.Length(max=LIMITS["standard"]))
    site_id = f.UUID(load_default=None)
