"""The records a device works on, as they travel in sync ops and in the pull feed.

Two kinds of schema per entity:
- `*FieldsSchema` loads the `fields` of one push op. It checks types only (UUIDs,
  timestamps, strings); the domain rules (an area that exists, a value that fits the
  question) live in the services, which every path shares.
- `*Schema` dumps a record for `GET /api/sync/pull` and `GET /api/bootstrap`.
"""

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from ..models import LINKABLE_SUBJECTS

from .shapes import Day, Strict as FieldsSchema
from .shapes import WhySchema, text_field


def _photos():
    return f.List(f.String(), metadata={"description": "SHA-256 hashes of the photos, in order"})


def _photo_taken():
    return f.Dict(keys=f.String(), values=f.String(), metadata={
        "description": "When the device took each photo: {sha256: ISO time with offset}; kept for photos "
                       "whose capture time the server does not know (checked by fieldrules)"})


def _photo_annotates():
    return f.Dict(keys=f.String(), values=f.String(), metadata={
        "description": "Annotated copies among `photos`: {annotated sha256: sha256 of the photo it was drawn on} "
                       "(checked by fieldrules)"})


class SignatureFieldsSchema(FieldsSchema):
    role = f.String(required=True, metadata={"description": "auditor | auditee"})
    name = text_field("name", description="The signer's name as typed.", required=True)
    signed_at = f.String(required=True, metadata={"description": "ISO time with offset, on the device clock"})
    sha256 = f.String(required=True, metadata={"description": "SHA-256 of the drawn signature, a PNG photo"})


# ---------------------------------------------------------------- op fields (load)

class FindingFieldsSchema(FieldsSchema):
    kind = f.String(metadata={"description": "major_nc | minor_nc | observation | improvement"})
    title = text_field("title")
    description = text_field()
    area_id = f.UUID()
    clause = text_field("clause")
    location = text_field("location")
    raised_at = f.AwareDateTime(metadata={"description": "When the person saw it, on the device clock"})
    audit_id = f.UUID(allow_none=True)
    question_id = f.UUID(allow_none=True)
    photos = _photos()
    photo_taken = _photo_taken()
    photo_annotates = _photo_annotates()
    document_revision_id = f.UUID(allow_none=True, metadata={
        "description": "The document revision the finding cites; a newly cited one must be current (approved)"})
    document_outdated = f.Boolean(metadata={"description": "The finding is that the cited document is out of date"})
    # Triage from a supervisor's device; refused for everyone else.
    status = f.String()
    status_reason = text_field()


class ResponseFieldsSchema(FieldsSchema):
    audit_id = f.UUID()
    question_id = f.UUID()
    value = f.Raw(allow_none=True, metadata={
        "description": "yes|no|na, pass|fail, a number, a choice, a list of choices (multi_choice), text, an ISO date"})
    note = text_field()
    photos = _photos()
    photo_taken = _photo_taken()
    photo_annotates = _photo_annotates()


class AuditFieldsSchema(FieldsSchema):
    template_id = f.UUID(metadata={"description": "Only when creating an ad-hoc audit"})
    area_id = f.UUID(metadata={"description": "Only when creating an ad-hoc audit"})
    status = f.String(
        validate=v.OneOf(["in_progress", "submitted"]),
        metadata={"description": "in_progress starts the audit, submitted submits it"},
    )
    summary = text_field()
    signatures = f.List(f.Nested(SignatureFieldsSchema), metadata={
        "description": "With status submitted: the sign-off drawn on the device (at most one per role)"})
    unsigned_reason = text_field("reason", description="With signatures: why the auditee did not sign.")


class ActionFieldsSchema(FieldsSchema):
    containment = text_field()
    whys = f.List(f.Nested(WhySchema))
    root_cause = text_field()
    plan = text_field()
    done = f.Boolean(metadata={"description": "true marks the action done"})
    done_note = text_field()
    photos = _photos()
    photo_taken = _photo_taken()
    photo_annotates = _photo_annotates()


class CommentFieldsSchema(FieldsSchema):
    audit_id = f.UUID(allow_none=True)
    finding_id = f.UUID(allow_none=True)
    body = text_field("comment", required=True)


class AcknowledgementFieldsSchema(FieldsSchema):
    revision_id = f.UUID(required=True, metadata={"description": "The document revision read and understood"})


class PhotoLinkFieldsSchema(FieldsSchema):
    subject = f.String(required=True, validate=v.OneOf([s.value for s in LINKABLE_SUBJECTS]))
    subject_id = f.UUID(required=True)
    sha256 = f.String(required=True)
    taken_at = f.String(metadata={"description": "When the device took the photo (ISO time with offset)"})



# ---------------------------------------------------------------- records (dump)

class QuestionSchema(ma.Schema):
    id = f.UUID()
    section = f.String()
    position = f.Integer()
    text = f.String()
    guidance = f.String()
    kind = f.String()
    options = f.List(f.Raw())
    required = f.Boolean()
    clause = f.String()
    finding_answers = f.List(f.Raw())
    photo_answers = f.List(f.Raw())
    weight = f.Float(metadata={"description": "What the question's points count for in the score (0: none)"})
    show_if = f.Dict(allow_none=True, metadata={
        "description": "{question_id, values}: shown only when that earlier question's answer is one of values "
                       "(a multiple-choice answer: any value chosen); null: always shown"})


class TemplateSchema(ma.Schema):
    id = f.UUID()
    family_id = f.UUID()
    name = f.String()
    standard = f.String()
    version = f.Integer()
    status = f.String()
    description = f.String()
    published_at = f.AwareDateTime()
    questions = f.List(f.Nested(QuestionSchema))
    scoring = f.Dict(allow_none=True, metadata={
        "description": "{deductions: {finding kind: points}}: what each finding takes off the score; null: none"})


class AuditSchema(ma.Schema):
    id = f.UUID()
    template_id = f.UUID()
    area_id = f.UUID()
    auditor_id = f.UUID(allow_none=True)
    planned_date = Day(allow_none=True)
    status = f.String()
    started_at = f.AwareDateTime(allow_none=True)
    submitted_at = f.AwareDateTime(allow_none=True)
    reviewed_at = f.AwareDateTime(allow_none=True)
    score = f.Float(allow_none=True)
    summary = f.String()
    signatures = f.Method("_signatures")
    unsigned_reason = f.String()
    version = f.Integer()

    def _signatures(self, audit):
        return [signature_fields(s.role, s.signer_name, s.signed_at, s.photo_sha256) for s in audit.signatures]


def signature_fields(role: str, name: str, signed_at, sha256: str) -> dict:
    """One sign-off as a pulled audit carries it (the ORM dump and the rows path both use it)."""
    return {"role": role, "name": name, "signed_at": signed_at.isoformat(), "sha256": sha256}


class ResponseSchema(ma.Schema):
    id = f.UUID()
    audit_id = f.UUID()
    question_id = f.UUID()
    value = f.Raw(allow_none=True)
    note = f.String()
    photos = f.List(f.String())
    answered_at = f.AwareDateTime(allow_none=True)
    version = f.Integer()


class FindingSchema(ma.Schema):
    id = f.UUID()
    kind = f.String()
    title = f.String()
    description = f.String()
    area_id = f.UUID()
    clause = text_field("clause")
    location = text_field("location")
    raised_by_id = f.UUID()
    raised_at = f.AwareDateTime()
    received_at = f.AwareDateTime()
    audit_id = f.UUID(allow_none=True)
    question_id = f.UUID(allow_none=True)
    repeat_of_id = f.UUID(allow_none=True)
    status = f.String()
    status_reason = f.String()
    closed_at = f.AwareDateTime(allow_none=True)
    document_revision_id = f.UUID(allow_none=True)
    document_outdated = f.Boolean()
    photos = f.List(f.String())
    version = f.Integer()


class ActionSchema(ma.Schema):
    id = f.UUID()
    finding_id = f.UUID()
    # The owner's device may never have been sent the finding itself (raised elsewhere).
    finding_title = f.String(attribute="finding.title")
    containment = f.String()
    whys = f.List(f.Dict())
    root_cause = f.String()
    plan = f.String()
    owner_id = f.UUID(allow_none=True)
    due_date = Day(allow_none=True)
    status = f.String()
    done_at = f.AwareDateTime(allow_none=True)
    done_note = f.String()
    effectiveness_due = Day(allow_none=True)
    effectiveness_result = f.String(allow_none=True)
    photos = f.List(f.String())
    version = f.Integer()


class CommentSchema(ma.Schema):
    id = f.UUID()
    audit_id = f.UUID(allow_none=True)
    finding_id = f.UUID(allow_none=True)
    author_id = f.UUID()
    author_name = f.String(attribute="author.name")
    body = f.String()
    created_at = f.AwareDateTime()
    version = f.Integer()


class PhotoSchema(ma.Schema):
    sha256 = f.String()
    state = f.String()
    width = f.Integer(allow_none=True)
    height = f.Integer(allow_none=True)
    content_type = f.String(allow_none=True)
    taken_at = f.AwareDateTime(allow_none=True)
    annotates = f.String(attribute="annotates_sha256", allow_none=True)


class ConflictSchema(ma.Schema):
    id = f.UUID()
    entity = f.String()
    entity_id = f.String()
    field = f.String()
    server_value = f.Raw(allow_none=True)
    device_value = f.Raw(allow_none=True)
    base_version = f.Integer()
    server_version = f.Integer()
    user_id = f.UUID(allow_none=True)
    status = f.String()
    resolution = f.String(allow_none=True)
    created_at = f.AwareDateTime()


class SyncedRevisionSchema(ma.Schema):
    """A document's current revision as a device holds it: what to fetch and who is asked."""

    id = f.UUID()
    rev = f.Integer()
    sha256 = f.String()
    byte_size = f.Integer()
    content_type = f.String()
    file_name = f.String()
    download_only = f.Boolean()
    change_note = f.String()
    approved_at = f.AwareDateTime(allow_none=True)
    ack_roles = f.List(f.String())
    ack_area_ids = f.List(f.String())


class SyncedDocumentSchema(ma.Schema):
    """A controlled document as pulled: its current (approved) revision and where it applies."""

    id = f.UUID()
    number = f.String()
    title = f.String()
    type = f.String()
    status = f.String()
    area_ids = f.Function(lambda d: [str(a.id) for a in d.areas])
    site_ids = f.Function(lambda d: [str(s.id) for s in d.sites])
    current = f.Nested(SyncedRevisionSchema, allow_none=True)
    version = f.Integer()


class SyncedAcknowledgementSchema(ma.Schema):
    id = f.UUID()
    revision_id = f.UUID()
    document_id = f.Function(lambda a: str(a.revision.document_id) if a.revision is not None else None)
    user_id = f.UUID()
    acknowledged_at = f.AwareDateTime()
