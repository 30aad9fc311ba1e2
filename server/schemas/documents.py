"""Controlled documents at the API edge: the multipart upload's fields and what is answered."""

import marshmallow as ma
from flask_smorest.fields import Upload

from ..models import DocumentType
from .shapes import Day, text_field


class DocumentFormSchema(ma.Schema):
    """The text parts of `POST /api/documents` (multipart/form-data)."""

    number = text_field("document_number", required=True, description='The document number, e.g. "WI-014".')
    title = text_field("title", required=True)
    type = ma.fields.String(required=True, validate=ma.validate.OneOf([t.value for t in DocumentType]))
    review_every_months = ma.fields.Integer(load_default=None, allow_none=True,
                                            metadata={"description": "Review interval (default 12)"})
    owner_id = ma.fields.UUID(load_default=None, metadata={"description": "Default: the caller"})
    site_ids = ma.fields.List(ma.fields.UUID(), load_default=list, metadata={"description": "Where it applies"})
    area_ids = ma.fields.List(ma.fields.UUID(), load_default=list)
    change_note = text_field("change_note", load_default="")


class RevisionFormSchema(ma.Schema):
    """The text parts of `POST /api/documents/<id>/revisions`."""

    change_note = text_field("change_note", load_default="")


class FileSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "The revision's file: "
                                                          "PDF, DOCX, XLSX, PPTX, ODT, ODS, ODP, JPEG, PNG, WebP or text"})


class DocumentQuerySchema(ma.Schema):
    overdue = ma.fields.Boolean(load_default=False, metadata={"description": "Only those past their review date"})
    status = ma.fields.String(load_default=None, validate=ma.validate.Length(max=20))
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    limit = ma.fields.Integer(load_default=200, validate=ma.validate.Range(min=1, max=1000))


class RevisionSchema(ma.Schema):
    rev = ma.fields.Integer()
    status = ma.fields.String()
    sha256 = ma.fields.String()
    byte_size = ma.fields.Integer()
    content_type = ma.fields.String()
    download_only = ma.fields.Boolean()
    file_name = ma.fields.String()
    change_note = ma.fields.String()
    uploaded_by_id = ma.fields.UUID()
    uploaded_at = ma.fields.DateTime()
    approved_by_id = ma.fields.UUID(allow_none=True)
    approved_at = ma.fields.DateTime(allow_none=True)
    obsoleted_at = ma.fields.DateTime(allow_none=True)
    ack_roles = ma.fields.List(ma.fields.String(), metadata={"description": "Roles asked to acknowledge it"})
    ack_area_ids = ma.fields.List(ma.fields.String(), metadata={"description": "Home areas asked to acknowledge it"})


class DocumentSummarySchema(ma.Schema):
    id = ma.fields.UUID()
    number = ma.fields.String()
    title = ma.fields.String()
    type = ma.fields.String()
    status = ma.fields.String()
    owner_id = ma.fields.UUID()
    review_every_months = ma.fields.Integer()
    next_review_due = Day(allow_none=True)
    last_reviewed_at = ma.fields.DateTime(allow_none=True)
    site_ids = ma.fields.Method("_site_ids")
    area_ids = ma.fields.Method("_area_ids")
    current_rev = ma.fields.Method("_current_rev", metadata={"description": "The approved revision, or null"})

    def _current_rev(self, document):
        return document.current.rev if document.current else None

    def _site_ids(self, document):
        return [str(site.id) for site in document.sites]

    def _area_ids(self, document):
        return [str(area.id) for area in document.areas]


class DocumentSchema(DocumentSummarySchema):
    revisions = ma.fields.List(ma.fields.Nested(RevisionSchema))


class DocumentListSchema(ma.Schema):
    documents = ma.fields.List(ma.fields.Nested(DocumentSummarySchema))


class DocumentRevisionSchema(ma.Schema):
    """A document with the revision a call made or changed."""

    document = ma.fields.Nested(DocumentSchema)
    revision = ma.fields.Nested(RevisionSchema)


class AcknowledgementRequestSchema(ma.Schema):
    """Whom to ask; both lists are required (two empty lists stop asking anyone)."""

    roles = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=20)), required=True,
                           validate=ma.validate.Length(max=10))
    area_ids = ma.fields.List(ma.fields.UUID(), required=True, validate=ma.validate.Length(max=500))


class AcknowledgementSchema(ma.Schema):
    user_id = ma.fields.UUID()
    acknowledged_at = ma.fields.DateTime()


class AcknowledgementPersonSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    acknowledged_at = ma.fields.DateTime(allow_none=True)


class AcknowledgementStatusSchema(ma.Schema):
    rev = ma.fields.Integer()
    asked = ma.fields.Integer()
    acknowledged = ma.fields.Integer()
    rate = ma.fields.Float(allow_none=True)
    people = ma.fields.List(ma.fields.Nested(AcknowledgementPersonSchema))


class PendingSchema(ma.Schema):
    document_id = ma.fields.UUID()
    number = ma.fields.String()
    title = ma.fields.String()
    rev = ma.fields.Integer()
    byte_size = ma.fields.Integer()
    content_type = ma.fields.String()


class PendingListSchema(ma.Schema):
    revisions = ma.fields.List(ma.fields.Nested(PendingSchema))
