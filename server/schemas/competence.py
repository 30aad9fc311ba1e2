"""Competence at the API edge: the catalogue, requirements, records, training sessions, the matrix query."""

import marshmallow as ma
from flask_smorest.fields import Upload

from ..models import Role
from .shapes import Day, text_field


class CompetenceInSchema(ma.Schema):
    name = text_field("name", required=True)
    validity_months = ma.fields.Integer(load_default=None, allow_none=True,
                                        metadata={"description": "How long it stays valid; null: for good"})
    description = text_field("comment", load_default="")


class CompetenceSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    validity_months = ma.fields.Integer(allow_none=True)
    description = ma.fields.String()
    audits_standard = ma.fields.String(allow_none=True, metadata={
        "description": "The standard family its holders may audit against (an auditor qualification), or null"})


class CompetenceListSchema(ma.Schema):
    competences = ma.fields.List(ma.fields.Nested(CompetenceSchema))


class RequirementInSchema(ma.Schema):
    role = ma.fields.String(load_default=None, allow_none=True,
                            validate=ma.validate.OneOf([r.value for r in Role]))
    area_id = ma.fields.UUID(load_default=None, allow_none=True)


class RequirementSchema(ma.Schema):
    id = ma.fields.UUID()
    competence_id = ma.fields.UUID()
    role = ma.fields.String(allow_none=True)
    area_id = ma.fields.UUID(allow_none=True)


class RecordFormSchema(ma.Schema):
    """The text parts of `POST /api/competences/<id>/records` (multipart, with an optional `file`)."""

    person_id = ma.fields.UUID(required=True)
    gained_on = Day(required=True)
    expires_on = Day(load_default=None, metadata={"description": "Default: gained_on + validity"})
    assessed_by_id = ma.fields.UUID(load_default=None)


class EvidenceFileSchema(ma.Schema):
    file = Upload(load_default=None, metadata={"description": "A certificate (PDF, image, office file)"})


class RecordSchema(ma.Schema):
    id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    competence_id = ma.fields.UUID()
    gained_on = Day()
    expires_on = Day(allow_none=True)
    assessed_by_id = ma.fields.UUID(allow_none=True)
    evidence_sha256 = ma.fields.String(allow_none=True)
    training_session_id = ma.fields.UUID(allow_none=True)


class TrainingInSchema(ma.Schema):
    title = text_field("title", required=True)
    held_on = Day(required=True)
    trainer_id = ma.fields.UUID(load_default=None, allow_none=True)
    attendee_ids = ma.fields.List(ma.fields.UUID(), required=True, validate=ma.validate.Length(max=1000))
    competence_ids = ma.fields.List(ma.fields.UUID(), required=True, validate=ma.validate.Length(max=200))


class TrainingSchema(ma.Schema):
    id = ma.fields.UUID()
    title = ma.fields.String()
    held_on = Day()
    trainer_id = ma.fields.UUID(allow_none=True)
    attendee_ids = ma.fields.Method("_attendees")
    competence_ids = ma.fields.Method("_competences")

    def _attendees(self, session):
        return [str(p.id) for p in session.attendees]

    def _competences(self, session):
        return [str(c.id) for c in session.competences]


class MatrixQuerySchema(ma.Schema):
    site_id = ma.fields.UUID(load_default=None)
    area_id = ma.fields.UUID(load_default=None)
    expiring_days = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=0, max=3650))
