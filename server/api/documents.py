"""Controlled documents over JSON: register, revise, approve, and fetch a revision's exact bytes."""

from flask import current_app, request, send_file
from flask_login import current_user
from flask_smorest import Blueprint

from ..access import allow
from ..extensions import db
from ..errors import Invalid
from ..models import Area, utcnow
from ..schemas.documents import (
    AcknowledgementRequestSchema,
    AcknowledgementSchema,
    AcknowledgementStatusSchema,
    DocumentFormSchema,
    DocumentListSchema,
    DocumentQuerySchema,
    DocumentRevisionSchema,
    DocumentSchema,
    FileSchema,
    PendingListSchema,
    RevisionFormSchema,
)
from ..services import documents
from ..services.documents import Upload
from .documenting import documenting

blp = Blueprint("documents", __name__, url_prefix="/api", description="Controlled documents (ISO 9001 7.5)")

COMMON = ((401, "Not signed in"), (403, "Not allowed"), (404, "No such document or revision"),
          (409, "Not in a state that allows this"), (413, "The file is over GEMBA_MAX_DOCUMENT_MB"),
          (415, "Not an accepted type, or active content (code active_content)"), (422, "A field is not valid"))

documented = documenting(blp, COMMON)


@blp.before_request
def _allow_document_sized_bodies():
    # A revision's file may be larger than a photo: the limit is raised for these routes only.
    request.max_content_length = current_app.config["GEMBA_MAX_DOCUMENT_BYTES"] + 1024 * 1024


def _upload(files) -> Upload:
    file = files["file"]
    return Upload(file.stream, file.filename or "")


@blp.route("/documents")
@allow("document.list")
@blp.arguments(DocumentQuerySchema, location="query")
@blp.response(200, DocumentListSchema)
@documented
def list_documents(query):
    """The register: documents the caller may see, by number; `overdue=true` for reviews past due."""
    overdue_on = utcnow().date() if query["overdue"] else None
    select = documents.document_query(current_user, overdue_on=overdue_on, status=query["status"], text=query["q"])
    return {"documents": db.session.scalars(select.limit(query["limit"])).all()}


@blp.route("/documents", methods=["POST"])
@allow("document.manage")
@blp.arguments(DocumentFormSchema, location="form")
@blp.arguments(FileSchema, location="files")
@blp.response(201, DocumentRevisionSchema)
@documented
def register(fields, files):
    """Register a document with its first revision (a draft) from the uploaded file."""
    document = documents.create_document(current_user, fields, _upload(files))
    db.session.commit()
    return {"document": document, "revision": document.latest}


@blp.route("/documents/<uuid:document_id>")
@allow("document.list")
@blp.response(200, DocumentSchema)
@documented
def get_document(document_id):
    """One document with all its revisions (drafts only for those who may see them)."""
    return documents.get_document(current_user, document_id)


@blp.route("/documents/<uuid:document_id>/revisions", methods=["POST"])
@allow("document.manage")
@blp.arguments(RevisionFormSchema, location="form")
@blp.arguments(FileSchema, location="files")
@blp.response(201, DocumentRevisionSchema)
@documented
def add_revision(fields, files, document_id):
    """Add the next revision (a draft); the approved one stays current until this is approved."""
    document = documents.get_document(current_user, document_id, "document.manage")
    revision = documents.add_revision(current_user, document, _upload(files), fields["change_note"])
    db.session.commit()
    return {"document": document, "revision": revision}


@blp.route("/documents/<uuid:document_id>/revisions/<int:rev>/approve", methods=["POST"])
@allow("document.manage")
@blp.response(200, DocumentRevisionSchema)
@documented
def approve(document_id, rev):
    """Approve a draft revision: it becomes current and the one before it obsolete."""
    document = documents.get_document(current_user, document_id, "document.manage")
    revision = documents.approve_revision(current_user, document, documents.get_revision(current_user, document, rev))
    db.session.commit()
    return {"document": document, "revision": revision}


@blp.route("/documents/<uuid:document_id>/review", methods=["POST"])
@allow("document.manage")
@blp.response(200, DocumentSchema)
@documented
def reviewed(document_id):
    """Record "reviewed, no change": the next review falls due one interval from now."""
    document = documents.record_review(current_user, documents.get_document(current_user, document_id,
                                                                             "document.manage"))
    db.session.commit()
    return document


@blp.route("/documents/<uuid:document_id>/revisions/<int:rev>/file")
@allow("document.list")
@blp.response(200, description="The bytes exactly as uploaded; X-Content-SHA256 is their SHA-256",
              content_type="application/octet-stream")
@documented
def revision_file(document_id, rev):
    """Download a revision's file, byte for byte, with its SHA-256 in X-Content-SHA256."""
    document = documents.get_document(current_user, document_id)
    revision = documents.get_revision(current_user, document, rev)
    stream = documents.open_file(revision)
    response = send_file(stream, mimetype=revision.content_type, as_attachment=revision.download_only,
                         download_name=revision.file_name, etag=revision.sha256, conditional=True,
                         max_age=0)
    response.headers["X-Content-SHA256"] = revision.sha256
    if response.status_code == 200:
        response.headers["Content-Length"] = str(revision.byte_size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Shown inline (a PDF, an image) it still runs nothing of its own, nor touches our origin.
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


def status_body(revision) -> dict:
    status = documents.acknowledgement_status(revision)
    return {"rev": revision.rev, "asked": len(status.required), "rate": status.rate,
            "acknowledged": sum(1 for p in status.required if p.id in status.acknowledged),
            "people": [{"id": p.id, "name": p.name, "acknowledged_at": status.acknowledged.get(p.id)}
                       for p in status.required]}


@blp.route("/documents/<uuid:document_id>/revisions/<int:rev>/acknowledgements", methods=["PUT"])
@allow("document.manage")
@blp.arguments(AcknowledgementRequestSchema)
@blp.response(200, AcknowledgementStatusSchema)
@documented
def ask_acknowledgement(data, document_id, rev):
    """Ask people with these roles or home areas to acknowledge ("read and understood") the revision."""
    document = documents.get_document(current_user, document_id, "document.manage")
    revision = documents.get_revision(current_user, document, rev)
    areas = []
    for area_id in data["area_ids"]:
        area = db.session.get(Area, area_id)
        if area is None:
            raise Invalid("Who is asked is not valid.", {"area_ids": ["There is no such area."]})
        areas.append(area)
    documents.ask_acknowledgement(current_user, document, revision, data["roles"], areas)
    db.session.commit()
    return status_body(revision)


@blp.route("/documents/<uuid:document_id>/revisions/<int:rev>/acknowledgements")
@allow("document.manage")
@blp.response(200, AcknowledgementStatusSchema)
@documented
def acknowledgements(document_id, rev):
    """Who is asked to acknowledge the revision, who has and when, and the rate."""
    document = documents.get_document(current_user, document_id, "document.manage")
    return status_body(documents.get_revision(current_user, document, rev))


@blp.route("/documents/<uuid:document_id>/revisions/<int:rev>/acknowledge", methods=["POST"])
@allow("document.list")
@blp.response(201, AcknowledgementSchema, description="Recorded now")
@blp.alt_response(200, schema=AcknowledgementSchema, description="Acknowledged before: nothing changed")
@documented
def acknowledge(document_id, rev):
    """Say "read and understood" for the current revision you are asked to acknowledge."""
    document = documents.get_document(current_user, document_id)
    acknowledgement, created = documents.acknowledge(current_user, document,
                                                     documents.get_revision(current_user, document, rev))
    db.session.commit()
    return acknowledgement, 201 if created else 200


@blp.route("/documents/acknowledgements/pending")
@allow("document.list")
@blp.response(200, PendingListSchema)
@documented
def pending():
    """The current revisions you are asked to acknowledge and have not yet."""
    return {"revisions": [{"document_id": r.document_id, "number": r.document.number, "title": r.document.title,
                           "rev": r.rev, "byte_size": r.byte_size, "content_type": r.content_type}
                          for r in documents.pending_acknowledgements(current_user)]}
