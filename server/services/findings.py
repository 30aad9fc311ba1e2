"""Findings raised where the work happens, edits to them, and the review conversation."""

import uuid
from datetime import datetime, timedelta

from ..errors import Invalid, StateError
from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import (
    Area,
    Audit,
    Finding,
    FindingKind,
    FindingStatus,
    PhotoSubject,
    Question,
    User,
    happened_at,
    utcnow,
)
from ..permissions import can, is_reviewer, require
from . import documents, evidence, feed, notify, trail, transitions
from .merge import Edit, created, jsonable, merge
from .records import load_for

# Each text field of a finding, and which limit of `fieldrules.LIMITS` it keeps.
TEXT_FIELDS = {"title": "title", "description": "text", "clause": "clause", "location": "location",
               "status_reason": "text"}
# A device clock a little ahead of ours is normal; a day ahead is a wrong clock.
CLOCK_SKEW = timedelta(days=1)

EDITABLE = ("kind", "title", "description", "area_id", "clause", "location", "photos",
            "document_revision_id", "document_outdated")
CLASSIFYING = ("kind", "title", "area_id", "clause", "document_revision_id", "document_outdated")  # after triage, reviewers' to change
TRIAGE = ("status", "status_reason")
FIXED = ("raised_at", "audit_id", "question_id")  # set when raised, never edited
# The reason a finding withdrawn by the person who raised it carries, when they gave none.
WITHDRAWN = "Withdrawn by the person who raised it."
REQUIRED = ("kind", "title", "area_id", "raised_at")


def _check_fields(user: User, values: dict) -> dict:
    """Validate finding fields (those present); return them cleaned. :raise Invalid:."""
    values = dict(values)
    errors = FieldErrors()
    if "kind" in values:
        errors.one_of("kind", values["kind"], FindingKind)
    for name, kind in TEXT_FIELDS.items():
        if name in values:
            values[name] = errors.text(name, values[name], kind, required=name == "title")
    if "area_id" in values and db.session.get(Area, values["area_id"]) is None:
        errors.add("area_id", "There is no such area.")
    if "raised_at" in values:
        raised_at = values["raised_at"]
        if not isinstance(raised_at, datetime) or raised_at.tzinfo is None:
            errors.add("raised_at", "Must be an ISO date and time with a time zone.")
        elif raised_at > utcnow() + CLOCK_SKEW:
            errors.add("raised_at", "Lies in the future; check the device clock.")
    if "status" in values:
        errors.one_of("status", values["status"], FindingStatus)
    if "photos" in values:
        values["photos"] = evidence.check_hashes(values["photos"])
    if values.get("audit_id") or values.get("question_id"):
        _check_origin(user, values, values.get("area_id"), errors)
    errors.raise_if_any("The finding is not valid.")
    return values


def _check_origin(user: User, values: dict, area_id, errors: FieldErrors) -> None:
    """A finding from an audit must come from the user's own audit and its checklist."""
    audit_id, question_id = values.get("audit_id"), values.get("question_id")
    if question_id and not audit_id:
        errors.add("audit_id", "A finding against a question needs the audit it was asked in.")
        return
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        errors.add("audit_id", "There is no such audit.")
        return
    if audit.auditor_id != user.id and not is_reviewer(user):
        errors.add("audit_id", "Only the audit's auditor may raise findings from it.")
        return
    if area_id is not None and audit.area_id != area_id:
        errors.add("area_id", "Must be the area of the audit the finding comes from.")
    if question_id:
        question = db.session.get(Question, question_id)
        if question is None or question.template_id != audit.template_id:
            errors.add("question_id", "This question is not part of the audit's checklist.")


def get_finding(user: User, finding_id, permission: str = "finding.view") -> Finding:
    """Load a finding for `user`, who must have `permission` on it.

    :raise 404: no such finding. :raise 403: the user may not `permission` it.
    """
    return load_for(user, Finding, finding_id, permission, "There is no such finding.")


def publish_finding(finding: Finding) -> None:
    feed.publish("finding", finding.id, finding.version, area_id=finding.area_id, user_id=finding.raised_by_id,
                 record=finding)


def raise_finding(user: User, finding_id: uuid.UUID, fields: dict, device_id=None,
                  at: datetime | None = None) -> Finding:
    """Raise a new finding with the device's id, received `at` (now unless given). :raise Invalid: on a bad field."""
    require(user, "finding.raise")
    unknown = set(fields) - set(EDITABLE) - set(FIXED)
    if unknown & set(TRIAGE):
        raise Invalid("A new finding starts open.", {name: ["Set by the review."] for name in unknown & set(TRIAGE)})
    missing = [name for name in REQUIRED if fields.get(name) in (None, "")]
    if missing:
        raise Invalid("The finding is not complete.", {name: ["Required."] for name in missing})
    values = _check_fields(user, fields)
    documents.check_citation(values)
    photos = values.pop("photos", [])
    finding = Finding(id=finding_id, raised_by_id=user.id, received_at=happened_at(at), status=FindingStatus.OPEN)
    for name, value in values.items():
        setattr(finding, name, value)
    created(finding, list(values) + (["photos"] if photos else []))
    db.session.add(finding)  # flushed with the feed entry by the trail's query
    if photos:
        evidence.link_photos(user, PhotoSubject.FINDING, finding.id, photos)
    publish_finding(finding)
    trail.record(user, "finding.raised", "finding", finding.id, jsonable(values | {"photos": photos}),
                 device_id=device_id)
    notify.finding_raised(user, finding)
    return finding


def current_values(finding: Finding, names) -> dict:
    return {
        name: evidence.photos_of(PhotoSubject.FINDING, finding.id) if name == "photos" else getattr(finding, name)
        for name in names
    }


def edit_finding(user: User, finding: Finding, changes: dict, base_version: int | None = None,
                 device_id=None) -> Edit:
    """Change fields of `finding`, holding back those the server changed since `base_version`.

    :raise NotAllowed: without finding.edit (or finding.triage for a status, or
        finding.classify to change kind, title, area or clause once triaged).
    :raise StateError: on a closed finding, or a status it may not move to.
    :raise Invalid: on a bad value or an attempt to change what was fixed when raised.
    """
    require(user, "finding.edit", finding)
    if finding.status == FindingStatus.CLOSED:
        raise StateError("This finding is closed; a supervisor must reopen it before it can change.")
    fixed = {name: ["Set when the finding was raised; it cannot change."]
             for name in FIXED if name in changes and jsonable(changes[name]) != jsonable(getattr(finding, name))}
    if fixed:
        raise Invalid("The finding is not valid.", fixed)
    changes = {name: value for name, value in changes.items() if name not in FIXED}
    if _withdrawal(user, finding, changes):
        changes.setdefault("status_reason", "")
        if not str(changes["status_reason"] or "").strip():
            changes["status_reason"] = WITHDRAWN
    elif any(name in changes for name in TRIAGE):
        require(user, "finding.triage")
    unknown = set(changes) - set(EDITABLE) - set(TRIAGE)
    if unknown:
        raise Invalid("The finding is not valid.", {name: ["Not a field of a finding."] for name in unknown})
    values = _check_fields(user, changes)
    documents.check_citation(values, finding.document_revision_id, finding.document_outdated)
    if finding.audit_id and "area_id" in values and values["area_id"] != finding.area_id:
        raise Invalid("The finding is not valid.", {"area_id": ["Must stay the area of the audit it came from."]})
    result = merge(finding, values, current_values(finding, values), base_version)
    if any(name in result.apply for name in CLASSIFYING):  # (a clash with a reviewer's change is held instead)
        require(user, "finding.classify", finding)
    _apply(user, finding, result.apply)
    if result.apply:
        finding.bump(result.apply)
        db.session.flush()
        publish_finding(finding)
        trail.record(user, "finding.edited", "finding", finding.id, jsonable(result.apply), device_id=device_id)
    return Edit(finding, list(result.apply), result.held)


def _withdrawal(user: User, finding: Finding, changes: dict) -> bool:
    """Whether `changes` withdraw the finding: its raiser rejecting it before triage."""
    if changes.get("status") != FindingStatus.REJECTED or can(user, "finding.triage", finding):
        return False
    require(user, "finding.withdraw", finding)
    return True


def _apply(user: User, finding: Finding, values: dict) -> None:
    if "status" in values:
        transitions.check_finding(finding, values["status"])
        finding.closed_at = utcnow() if values["status"] == FindingStatus.CLOSED else None
    for name, value in values.items():
        if name == "photos":
            evidence.link_photos(user, PhotoSubject.FINDING, finding.id, value)
        else:
            setattr(finding, name, value)
    if values.get("status") == FindingStatus.CLOSED:
        documents.start_revision_for(user, finding)
