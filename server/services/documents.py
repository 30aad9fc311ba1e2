"""Controlled documents: register them, add revisions, approve, review, and serve the files.

The rules of ISO 9001 7.5 that live here:
- a revision's file is stored content-addressed (`document/<sha256>` in the file store),
  its type detected from the bytes (`doctypes.detect`), active content refused;
- one revision at a time awaits approval; approving it supersedes the approved one, which
  turns obsolete and stays readable; an approved revision's file never changes;
- approving or recording a review ("reviewed, no change") sets the next review due date.
"""

import hashlib
import tempfile
import uuid
from datetime import date, datetime, timedelta
from typing import BinaryIO, NamedTuple

from flask import current_app
from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..errors import DomainError, Invalid, NotAllowed, NotFound, StateError
from ..extensions import db
from ..fieldrules import FieldErrors
from ..ids import uuid_or_none
from ..models import (
    Area,
    Document,
    DocumentAcknowledgement,
    DocumentRevision,
    DocumentStatus,
    DocumentType,
    RevisionStatus,
    Role,
    Site,
    User,
    happened_at,
    utcnow,
)
from ..permissions import can, is_reviewer, require, scope_documents, sites_in_scope
from ..storage import MissingObject, file_store, object_key
from . import feed, trail
from .doctypes import detect
from .programme import add_months
from .records import load_for

STORE_KIND = "document"
CHUNK = 1024 * 1024
MAX_REVIEW_MONTHS = 120
# A device clock a little ahead of ours is normal; a day ahead is a wrong clock.
CLOCK_SKEW = timedelta(days=1)


class DocumentTooLarge(DomainError):
    status = 413
    code = "too_large"


class Upload(NamedTuple):
    """A file as it arrived: a readable binary stream and the name the person gave it."""

    stream: BinaryIO
    file_name: str = ""


class StoredFile(NamedTuple):
    sha256: str
    byte_size: int
    content_type: str
    download_only: bool


def document_query(user: User, *, overdue_on: date | None = None, status: str | None = None,
                   text: str | None = None) -> Select:
    """Documents `user` may see, by number; only those overdue for review on `overdue_on` when given."""
    # Each row shows its current revision and owner: load them with the page, not one query a row.
    query = (select(Document).where(scope_documents(user)).order_by(Document.number)
             .options(selectinload(Document.revisions), joinedload(Document.owner)))
    if overdue_on is not None:
        query = query.where(Document.status == DocumentStatus.APPROVED, Document.next_review_due < overdue_on)
    if status:
        query = query.where(Document.status == status)
    if text:
        like = f"%{text.strip()}%"
        query = query.where(Document.number.ilike(like) | Document.title.ilike(like))
    return query


def overdue_reviews(today: date, limit: int | None = None) -> list[Document]:
    """Approved documents whose review is past due on `today`, the longest overdue first."""
    query = (select(Document).where(Document.status == DocumentStatus.APPROVED, Document.next_review_due < today)
             .order_by(Document.next_review_due, Document.number))
    return list(db.session.scalars(query.limit(limit) if limit else query))


def get_document(user: User, document_id, permission: str = "document.view") -> Document:
    """Load a document for `user`. :raise 404: no such document. :raise 403: not `permission`."""
    return load_for(user, Document, document_id, permission, "There is no such document.")


def get_revision(user: User, document: Document, rev: int) -> DocumentRevision:
    """Revision `rev` of `document`. :raise 404: no such revision, or a draft `user` may not see."""
    revision = next((r for r in document.revisions if r.rev == rev), None)
    if revision is None:
        raise NotFound("There is no such revision.")
    require(user, "document.revision.view", revision)
    return revision


def _store(upload: Upload) -> StoredFile:
    """Hash, check and store the upload's bytes; return what they are.

    :raise DocumentTooLarge: over `GEMBA_MAX_DOCUMENT_BYTES`.
    :raise doctypes.UnsupportedDocumentType: not an accepted type, or active content.
    """
    limit = current_app.config["GEMBA_MAX_DOCUMENT_BYTES"]
    digest = hashlib.sha256()
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as copy:
        while chunk := upload.stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise DocumentTooLarge(f"The file is over the limit of {limit // (1024 * 1024)} MB.")
            digest.update(chunk)
            copy.write(chunk)
        if size == 0:
            raise Invalid("The file is empty.", {"file": ["Choose a file with something in it."]})
        detected = detect(copy)
        sha = digest.hexdigest()
        key = object_key(STORE_KIND, sha)
        store = file_store()
        if not store.exists(key):  # content-addressed: the same bytes are stored once
            copy.seek(0)
            store.put(key, copy)
    return StoredFile(sha, size, detected.content_type, detected.download_only)


def _file_name(name: str | None, extension: str) -> str:
    name = "".join(c for c in (name or "").replace("\\", "/").rsplit("/", 1)[-1] if c.isprintable())[:200].strip()
    return name or f"document.{extension}"


def _check_fields(fields: dict, errors: FieldErrors) -> dict:
    out = {}
    if "number" in fields:
        out["number"] = errors.text("number", fields.get("number"), "document_number", required=True,
                                    label="A document number")
    if "title" in fields:
        out["title"] = errors.text("title", fields.get("title"), "title", required=True, label="A title")
    if "type" in fields:
        if fields.get("type") not in set(DocumentType):
            errors.add("type", f"Must be one of {', '.join(DocumentType)}.")
        else:
            out["type"] = fields["type"]
    months = fields.get("review_every_months")
    if months is not None:
        if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= MAX_REVIEW_MONTHS:
            errors.add("review_every_months", f"Must be a whole number of months from 1 to {MAX_REVIEW_MONTHS}.")
        else:
            out["review_every_months"] = months
    return out


def _records(model, ids, field: str, errors: FieldErrors) -> list:
    records = []
    for record_id in ids or ():
        record = db.session.get(model, record_id)
        if record is None:
            errors.add(field, "There is no such record.")
        else:
            records.append(record)
    return records


def create_document(user: User, fields: dict, upload: Upload, at: datetime | None = None) -> Document:
    """Register a document with its first revision (a draft) from `upload`.

    `fields`: number, title, type, optional review_every_months, owner_id, site_ids,
    area_ids, change_note. :raise Invalid: a field breaks a rule or the number is taken.
    """
    require(user, "document.manage")
    errors = FieldErrors()
    values = _check_fields({"number": None, "title": None, "type": None} | fields, errors)
    owner = db.session.get(User, fields["owner_id"]) if fields.get("owner_id") else user
    if owner is None:
        errors.add("owner_id", "There is no such person.")
    sites = _records(Site, fields.get("site_ids"), "site_ids", errors)
    areas = _records(Area, fields.get("area_ids"), "area_ids", errors)
    if "number" not in errors and db.session.scalar(
            select(Document.id).where(Document.number == values["number"])) is not None:
        errors.add("number", "A document with this number is registered already.")
    errors.raise_if_any("The document cannot be registered.")
    stored = _store(upload)
    document = Document(owner=owner, sites=sites, areas=areas, created_at=happened_at(at),
                        status=DocumentStatus.DRAFT, **values)
    db.session.add(document)
    revision = _new_revision(user, document, 1, stored, upload, fields.get("change_note") or "", at)
    db.session.flush()
    trail.record(user, "document.registered", "document", document.id, {
        "number": document.number, "title": document.title, "type": document.type,
        "owner_id": str(owner.id), "review_every_months": document.review_every_months,
        "rev": revision.rev, "sha256": revision.sha256})
    return document


def _new_revision(user, document, rev, stored: StoredFile, upload: Upload, change_note: str, at):
    errors = FieldErrors()
    note = errors.text("change_note", change_note, "change_note")
    errors.raise_if_any("The revision cannot be added.")
    revision = DocumentRevision(
        rev=rev, status=RevisionStatus.DRAFT, sha256=stored.sha256, byte_size=stored.byte_size,
        content_type=stored.content_type, download_only=stored.download_only,
        file_name=_file_name(upload.file_name, stored.content_type.split("/")[-1]),
        change_note=note, uploaded_by=user, uploaded_at=happened_at(at),
    )
    document.revisions.append(revision)
    return revision


def add_revision(user: User, document: Document, upload: Upload, change_note: str = "",
                 at: datetime | None = None) -> DocumentRevision:
    """Add the next revision of `document` as a draft.

    :raise StateError: a revision awaits approval already (approve it first), or the document is obsolete.
    """
    require(user, "document.manage")
    if document.status == DocumentStatus.OBSOLETE:
        raise StateError("This document is withdrawn: register a new one instead.")
    latest = document.latest
    if latest is not None and latest.status == RevisionStatus.DRAFT and latest.started_by_finding_id is not None:
        return _fill_started_draft(user, document, latest, upload, change_note)
    if latest is not None and latest.status in (RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW):
        raise StateError(f"Revision {latest.rev} is not approved yet: approve it before adding another.")
    stored = _store(upload)
    revision = _new_revision(user, document, (latest.rev if latest else 0) + 1, stored, upload, change_note, at)
    if document.status != DocumentStatus.APPROVED:
        document.status = DocumentStatus.DRAFT
    db.session.flush()
    trail.record(user, "document.revised", "document", document.id,
                 {"rev": revision.rev, "sha256": revision.sha256, "byte_size": revision.byte_size})
    return revision


def _fill_started_draft(user, document, draft: DocumentRevision, upload: Upload, change_note: str) -> DocumentRevision:
    """The owner's new file for a draft a finding started: it takes the place of the copy."""
    stored = _store(upload)
    errors = FieldErrors()
    note = errors.text("change_note", change_note, "change_note")
    errors.raise_if_any("The revision cannot be added.")
    draft.sha256, draft.byte_size = stored.sha256, stored.byte_size
    draft.content_type, draft.download_only = stored.content_type, stored.download_only
    draft.file_name = _file_name(upload.file_name, stored.content_type.split("/")[-1])
    if note:
        draft.change_note = f"{note}\n{draft.change_note}"[:2000]
    draft.uploaded_by = user
    draft.uploaded_at = utcnow()
    db.session.flush()
    trail.record(user, "document.revised", "document", document.id,
                 {"rev": draft.rev, "sha256": draft.sha256, "byte_size": draft.byte_size, "replaced_copy": True})
    return draft


def approve_revision(user: User, document: Document, revision: DocumentRevision,
                     at: datetime | None = None) -> DocumentRevision:
    """Approve `revision`: it becomes current, the one it supersedes obsolete; the next review is due.

    :raise StateError: the revision is approved already or superseded.
    """
    require(user, "document.manage")
    if revision.status not in (RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW):
        raise StateError(f"Revision {revision.rev} is {revision.status.replace('_', ' ')}: only a draft can be approved.")
    when = happened_at(at)
    superseded = document.current
    if superseded is not None:
        superseded.status = RevisionStatus.OBSOLETE
        superseded.obsoleted_at = when
    revision.status = RevisionStatus.APPROVED
    revision.approved_by = user
    revision.approved_at = when
    document.status = DocumentStatus.APPROVED
    document.last_reviewed_at = when
    document.last_reviewed_by = user
    document.next_review_due = add_months(when.date(), document.review_every_months)
    db.session.flush()
    publish_document(document)
    trail.record(user, "document.approved", "document", document.id, {
        "rev": revision.rev, "sha256": revision.sha256, "next_review_due": document.next_review_due,
        "superseded_rev": superseded.rev if superseded else None})
    return revision


def submit_for_review(user: User, document: Document, revision: DocumentRevision,
                      at: datetime | None = None) -> DocumentRevision:
    """Mark a draft revision as in review. :raise StateError: it is not a draft."""
    require(user, "document.manage")
    if revision.status != RevisionStatus.DRAFT:
        raise StateError("Only a draft can be sent for review.")
    revision.status = RevisionStatus.IN_REVIEW
    if document.status == DocumentStatus.DRAFT:
        document.status = DocumentStatus.IN_REVIEW
    db.session.flush()
    trail.record(user, "document.in_review", "document", document.id, {"rev": revision.rev})
    return revision


def record_review(user: User, document: Document, at: datetime | None = None) -> Document:
    """Record "reviewed, no change": the current revision stays; the next review is due an interval later.

    :raise StateError: the document has no approved revision to confirm.
    """
    require(user, "document.manage")
    current = document.current
    if current is None:
        raise StateError("Only an approved document can be reviewed without change: approve a revision first.")
    when = happened_at(at)
    document.last_reviewed_at = when
    document.last_reviewed_by = user
    document.next_review_due = add_months(when.date(), document.review_every_months)
    db.session.flush()
    trail.record(user, "document.reviewed", "document", document.id,
                 {"rev": current.rev, "outcome": "no_change", "next_review_due": document.next_review_due})
    return document


def open_file(revision: DocumentRevision) -> BinaryIO:
    """A stream of `revision`'s bytes (the caller closes it). :raise NotFound: missing from the store."""
    try:
        return file_store().open(object_key(STORE_KIND, revision.sha256))
    except MissingObject:
        raise NotFound("This revision's file is missing on the server; an administrator has to restore it.") from None



# --- "read and understood" -----------------------------------------------------------------

class AcknowledgementStatus(NamedTuple):
    required: list[User]  # active people asked, by name
    acknowledged: dict  # user id -> when
    rate: float | None  # share of those asked who have acknowledged; None when nobody is asked


def ask_acknowledgement(user: User, document: Document, revision: DocumentRevision, roles: list[str],
                        areas: list[Area], at: datetime | None = None) -> DocumentRevision:
    """Ask people with `roles` or home `areas` to acknowledge `revision` (replacing whom it asked before).

    :raise StateError: the revision is obsolete. :raise Invalid: an unknown role.
    """
    require(user, "document.manage")
    if revision.status == RevisionStatus.OBSOLETE:
        raise StateError("An obsolete revision is not read any more: ask for the current one.")
    unknown = [role for role in roles if role not in set(Role)]
    if unknown:
        raise Invalid("Who is asked is not valid.", {"roles": [f"Not a role: {', '.join(unknown)}."]})
    revision.ack_roles = sorted(set(roles))
    revision.ack_area_ids = sorted({str(area.id) for area in areas})
    db.session.flush()
    if revision.status == RevisionStatus.APPROVED:
        publish_document(document)
    trail.record(user, "document.acknowledgement_asked", "document", document.id,
                 {"rev": revision.rev, "roles": revision.ack_roles, "area_ids": revision.ack_area_ids})
    return revision


def is_asked(person: User, revision: DocumentRevision) -> bool:
    """Whether `person` is asked to acknowledge `revision`."""
    return person.active and (person.role in (revision.ack_roles or [])
                              or str(person.home_area_id) in (revision.ack_area_ids or []))


def acknowledge(user: User, document: Document, revision: DocumentRevision,
                at: datetime | None = None, acknowledgement_id=None,
                device_id=None) -> tuple[DocumentAcknowledgement, bool]:
    """Record that `user` read and understood `revision`; (the acknowledgement, whether it is new).

    Acknowledging again changes nothing (a device may send it twice).
    :raise StateError: the revision is not the approved one. :raise NotAllowed: `user` is not asked.
    """
    require(user, "document.revision.view", revision)
    if revision.status != RevisionStatus.APPROVED:
        raise StateError("Only the current approved revision is acknowledged.")
    if not is_asked(user, revision):
        raise NotAllowed("You are not asked to acknowledge this revision.")
    existing = db.session.scalar(select(DocumentAcknowledgement).where(
        DocumentAcknowledgement.revision_id == revision.id, DocumentAcknowledgement.user_id == user.id))
    if existing is not None:
        return existing, False
    when = happened_at(at)
    if when > utcnow() + CLOCK_SKEW:
        raise Invalid("The acknowledgement is not valid.", {"at": ["Lies in the future; check the device clock."]})
    acknowledgement = DocumentAcknowledgement(revision_id=revision.id, user_id=user.id, acknowledged_at=when)
    if acknowledgement_id is not None:
        acknowledgement.id = acknowledgement_id
    db.session.add(acknowledgement)
    db.session.flush()
    feed.publish("acknowledgement", acknowledgement.id, 1, user_id=user.id)
    trail.record(user, "document.acknowledged", "document", document.id, {"rev": revision.rev},
                 device_id=device_id)
    return acknowledgement, True


def acknowledgement_status(revision: DocumentRevision) -> AcknowledgementStatus:
    """Who is asked to acknowledge `revision`, who has and when, and the rate."""
    area_ids = [uuid_or_none(a) for a in revision.ack_area_ids or []]
    asked = select(User).where(User.active.is_(True), or_(User.role.in_(revision.ack_roles or []),
                                                            User.home_area_id.in_([a for a in area_ids if a])))
    required = list(db.session.scalars(asked.order_by(User.name))) if revision.asks_acknowledgement else []
    acknowledged = dict(db.session.execute(
        select(DocumentAcknowledgement.user_id, DocumentAcknowledgement.acknowledged_at)
        .where(DocumentAcknowledgement.revision_id == revision.id)).all())
    done = sum(1 for person in required if person.id in acknowledged)
    return AcknowledgementStatus(required, acknowledged, done / len(required) if required else None)


def pending_acknowledgements(user: User) -> list[DocumentRevision]:
    """Current revisions `user` is asked to acknowledge and has not yet."""
    done = select(DocumentAcknowledgement.revision_id).where(DocumentAcknowledgement.user_id == user.id)
    asks = or_(cast(DocumentRevision.ack_roles, String) != "[]", cast(DocumentRevision.ack_area_ids, String) != "[]")
    current = select(DocumentRevision).where(DocumentRevision.status == RevisionStatus.APPROVED, asks,
                                             DocumentRevision.id.not_in(done))
    return [r for r in db.session.scalars(current) if is_asked(user, r)]


def citable_revision(revision_id) -> DocumentRevision:
    """The revision `revision_id` names, which must be a document's current approved one to be cited.

    :raise Invalid: no such revision, or one not approved (a draft, or obsolete: superseded).
    """
    revision = db.session.get(DocumentRevision, uuid_or_none(revision_id)) if uuid_or_none(revision_id) else None
    if revision is None:
        raise Invalid("The citation is not valid.", {"document_revision_id": ["There is no such revision."]})
    if revision.status != RevisionStatus.APPROVED:
        raise Invalid("The citation is not valid.", {"document_revision_id": [
            f"{revision.label} is {revision.status.replace('_', ' ')}: cite the current approved revision."]})
    return revision


def citable_revisions() -> list[DocumentRevision]:
    """Every current approved revision, by document number: what a question may cite."""
    return list(db.session.scalars(select(DocumentRevision).join(Document)
                                   .where(DocumentRevision.status == RevisionStatus.APPROVED)
                                   .order_by(Document.number)))


# --- where documents apply, and what devices hold -------------------------------------------

def publish_document(document: Document) -> None:
    """A change devices hold (a revision approved, who is asked, where it applies): a new version in the feed."""
    document.version = (document.version or 0) + 1
    db.session.flush()
    feed.publish("document", document.id, document.version)


def applies_to(person: User, document: Document) -> bool:
    """Whether `document` (its current revision) is one `person` works to, so their device lists it.

    A document with no sites or areas applies everywhere; otherwise to the people whose
    home area is one of its areas or in one of its sites, to those asked to acknowledge
    its current revision, to reviewers of where it applies, and to auditors (who audit
    any area: the field app lists the documents of the area being audited).
    """
    current = document.current
    if current is None or document.status != DocumentStatus.APPROVED or not person.active:
        return False
    if person.role == Role.AUDITOR or is_asked(person, current):
        return True
    unscoped = not document.sites and not document.areas
    if is_reviewer(person):
        scope = sites_in_scope(person)
        if scope is None or unscoped:
            return True
        return any(s.id in scope for s in document.sites) or any(a.site_id in scope for a in document.areas)
    if unscoped:
        return True
    home = person.home_area
    if home is None:
        return False
    return any(a.id == home.id for a in document.areas) or any(s.id == home.site_id for s in document.sites)


def documents_for(person: User) -> list[uuid.UUID]:
    """The ids of the approved documents that apply to `person` (what a snapshot sends)."""
    query = (select(Document).where(Document.status == DocumentStatus.APPROVED)
             .options(selectinload(Document.revisions), selectinload(Document.sites), selectinload(Document.areas)))
    return [d.id for d in db.session.scalars(query) if applies_to(person, d)]


def acknowledgement_from_device(user: User, acknowledgement_id, revision_id, at: datetime | None = None,
                                device_id=None) -> DocumentAcknowledgement:
    """A "read and understood" pushed by a device (the `acknowledgement` sync op).

    Idempotent: a revision acknowledged before (from this or another device) stays
    acknowledged once. :raise NotFound: no such revision, or one `user` may not see.
    :raise StateError: not the current revision. :raise NotAllowed: `user` is not asked.
    """
    existing = db.session.get(DocumentAcknowledgement, acknowledgement_id)
    if existing is not None:
        if existing.user_id != user.id or existing.revision_id != revision_id:
            raise StateError("This acknowledgement was recorded for another revision; it cannot change.")
        return existing
    revision = db.session.get(DocumentRevision, revision_id) if revision_id else None
    if revision is None or not can(user, "document.revision.view", revision):
        raise NotFound("There is no such revision.")
    acknowledgement, _ = acknowledge(user, revision.document, revision, at=at, acknowledgement_id=acknowledgement_id,
                                     device_id=device_id)
    return acknowledgement


# --- findings that cite a revision, or say a document is out of date -----------------------

def start_revision_for(user: User, finding, at: datetime | None = None) -> DocumentRevision | None:
    """Start the next revision of the document a finding says is out of date; None when there is nothing to start.

    Called when the finding's corrective action is planned (its approval) and when it is
    closed. The draft is a copy of the current file, marked as started by the finding,
    for the owner to replace with the new text (`add_revision` replaces it). A draft or
    revision in review already under way is returned as it is: one next revision at a time.
    """
    if not finding.document_outdated or finding.document_revision_id is None:
        return None
    cited = db.session.get(DocumentRevision, finding.document_revision_id)
    if cited is None:
        return None
    document = cited.document
    latest, current = document.latest, document.current
    if document.status == DocumentStatus.OBSOLETE or current is None:
        return None
    if latest.status in (RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW):
        return latest
    title = (finding.title or "")[:120]
    note = f"Started because a finding says {cited.label} is out of date: {title}"[:2000]
    revision = DocumentRevision(
        rev=latest.rev + 1, status=RevisionStatus.DRAFT, sha256=current.sha256, byte_size=current.byte_size,
        content_type=current.content_type, download_only=current.download_only, file_name=current.file_name,
        change_note=note, uploaded_by=user, uploaded_at=happened_at(at), started_by_finding_id=finding.id,
    )
    document.revisions.append(revision)
    if document.status != DocumentStatus.APPROVED:
        document.status = DocumentStatus.DRAFT
    db.session.flush()
    trail.record(user, "document.revision_started", "document", document.id,
                 {"rev": revision.rev, "finding_id": str(finding.id), "cited_rev": cited.rev})
    # The prompt to the owner: the new text is theirs to write.
    from . import notify  # (notify reads documents' models only; imported here to keep the import graph flat)
    notify.emit("document.revision_started", document, "document",
                {"document_id": str(document.id), "number": document.number, "rev": revision.rev,
                 "finding_id": str(finding.id)}, [document.owner], actor=user, link=f"/documents/{document.id}",
                title=f"{document.number} rev {revision.rev} started: a finding says rev {cited.rev} is out of date")
    return revision


def check_citation(finding_values: dict, current_revision_id=None, current_outdated: bool = False) -> None:
    """The citation fields of a finding being raised or edited (those present), checked.

    A revision newly cited must be a document's current approved one (an obsolete or
    draft revision cannot be cited); one cited before stays valid when it is later
    superseded. "Out of date" needs a cited revision. :raise Invalid:.
    """
    errors = FieldErrors()
    cited = finding_values.get("document_revision_id", current_revision_id)
    if "document_revision_id" in finding_values and cited is not None and cited != current_revision_id:
        try:
            citable_revision(cited)
        except Invalid as error:
            for field, messages in (error.fields or {}).items():
                for message in messages:
                    errors.add(field, message)
    outdated = finding_values.get("document_outdated", current_outdated)
    if "document_outdated" in finding_values and not isinstance(outdated, bool):
        errors.add("document_outdated", "Must be true or false.")
    elif outdated and cited is None:
        errors.add("document_outdated", "Say which document revision is out of date.")
    errors.raise_if_any("The finding is not valid.")
