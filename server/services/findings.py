"""Findings raised where the work happens, edits to them, and the review conversation."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..errors import Invalid, NotFound, StateError
from ..extensions import db
from ..models import (
    Area,
    Audit,
    Comment,
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
from . import evidence, feed, trail, transitions
from .merge import created, jsonable, merge

TITLE_MAX = 200
CLAUSE_MAX = 40
LOCATION_MAX = 200
TEXT_MAX = 20_000
COMMENT_MAX = 5_000
# A device clock a little ahead of ours is normal; a day ahead is a wrong clock.
CLOCK_SKEW = timedelta(days=1)

EDITABLE = ("kind", "title", "description", "area_id", "clause", "location", "photos")
TRIAGE = ("status", "status_reason")
FIXED = ("raised_at", "audit_id", "question_id")  # set when raised, never edited
REQUIRED = ("kind", "title", "area_id", "raised_at")


@dataclass
class Edit:
    """The outcome of an edit: fields written now, fields held back as conflicts."""

    record: object
    changed: list[str] = field(default_factory=list)
    held: dict = field(default_factory=dict)  # field -> (server value, device value)


def _text(errors: dict, values: dict, name: str, limit: int, required: bool = False) -> None:
    if name not in values:
        return
    value = values[name]
    if not isinstance(value, str):
        errors[name] = ["Must be text."]
        return
    value = value.strip()
    if required and not value:
        errors[name] = ["Must not be empty."]
    elif len(value) > limit:
        errors[name] = [f"At most {limit} characters."]
    values[name] = value


def _check_fields(user: User, values: dict) -> dict:
    """Validate finding fields (those present); return them cleaned. :raise Invalid:."""
    values = dict(values)
    errors: dict = {}
    if "kind" in values and values["kind"] not in {k.value for k in FindingKind}:
        errors["kind"] = [f"Must be one of {', '.join(k.value for k in FindingKind)}."]
    _text(errors, values, "title", TITLE_MAX, required=True)
    _text(errors, values, "description", TEXT_MAX)
    _text(errors, values, "clause", CLAUSE_MAX)
    _text(errors, values, "location", LOCATION_MAX)
    _text(errors, values, "status_reason", TEXT_MAX)
    if "area_id" in values and db.session.get(Area, values["area_id"]) is None:
        errors["area_id"] = ["There is no such area."]
    if "raised_at" in values:
        raised_at = values["raised_at"]
        if not isinstance(raised_at, datetime) or raised_at.tzinfo is None:
            errors["raised_at"] = ["Must be an ISO date and time with a time zone."]
        elif raised_at > utcnow() + CLOCK_SKEW:
            errors["raised_at"] = ["Lies in the future; check the device clock."]
    if "status" in values and values["status"] not in {s.value for s in FindingStatus}:
        errors["status"] = [f"Must be one of {', '.join(s.value for s in FindingStatus)}."]
    if "photos" in values:
        try:
            values["photos"] = evidence.check_hashes(values["photos"])
        except Invalid as exc:
            errors.update(exc.fields or {})
    if values.get("audit_id") or values.get("question_id"):
        _check_origin(user, values, values.get("area_id"), errors)
    if errors:
        raise Invalid("The finding is not valid.", errors)
    return values


def _check_origin(user: User, values: dict, area_id, errors: dict) -> None:
    """A finding from an audit must come from the user's own audit and its checklist."""
    audit_id, question_id = values.get("audit_id"), values.get("question_id")
    if question_id and not audit_id:
        errors["audit_id"] = ["A finding against a question needs the audit it was asked in."]
        return
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        errors["audit_id"] = ["There is no such audit."]
        return
    if audit.auditor_id != user.id and not is_reviewer(user):
        errors["audit_id"] = ["Only the audit's auditor may raise findings from it."]
        return
    if area_id is not None and audit.area_id != area_id:
        errors["area_id"] = ["Must be the area of the audit the finding comes from."]
    if question_id:
        question = db.session.get(Question, question_id)
        if question is None or question.template_id != audit.template_id:
            errors["question_id"] = ["This question is not part of the audit's checklist."]


def _publish(finding: Finding) -> None:
    feed.publish("finding", finding.id, finding.version, area_id=finding.area_id, user_id=finding.raised_by_id)


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
    photos = values.pop("photos", [])
    finding = Finding(id=finding_id, raised_by_id=user.id, received_at=happened_at(at), status=FindingStatus.OPEN)
    for name, value in values.items():
        setattr(finding, name, value)
    created(finding, list(values) + (["photos"] if photos else []))
    db.session.add(finding)  # flushed with the feed entry by the trail's query
    if photos:
        evidence.link_photos(user, PhotoSubject.FINDING, finding.id, photos)
    _publish(finding)
    trail.record(user, "finding.raised", "finding", finding.id, jsonable(values | {"photos": photos}),
                 device_id=device_id)
    return finding


def current_values(finding: Finding, names) -> dict:
    return {
        name: evidence.photos_of(PhotoSubject.FINDING, finding.id) if name == "photos" else getattr(finding, name)
        for name in names
    }


def edit_finding(user: User, finding: Finding, changes: dict, base_version: int | None = None,
                 device_id=None) -> Edit:
    """Change fields of `finding`, holding back those the server changed since `base_version`.

    :raise NotAllowed: without finding.edit (or finding.triage for a status).
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
    if any(name in changes for name in TRIAGE):
        require(user, "finding.triage")
    unknown = set(changes) - set(EDITABLE) - set(TRIAGE)
    if unknown:
        raise Invalid("The finding is not valid.", {name: ["Not a field of a finding."] for name in unknown})
    values = _check_fields(user, changes)
    if finding.audit_id and "area_id" in values and values["area_id"] != finding.area_id:
        raise Invalid("The finding is not valid.", {"area_id": ["Must stay the area of the audit it came from."]})
    result = merge(finding, values, current_values(finding, values), base_version)
    _apply(user, finding, result.apply)
    if result.apply:
        finding.bump(result.apply)
        db.session.flush()
        _publish(finding)
        trail.record(user, "finding.edited", "finding", finding.id, jsonable(result.apply), device_id=device_id)
    return Edit(finding, list(result.apply), result.held)


def _apply(user: User, finding: Finding, values: dict) -> None:
    if "status" in values:
        transitions.check_finding(finding, values["status"])
        finding.closed_at = utcnow() if values["status"] == FindingStatus.CLOSED else None
    for name, value in values.items():
        if name == "photos":
            evidence.link_photos(user, PhotoSubject.FINDING, finding.id, value)
        else:
            setattr(finding, name, value)


def add_comment(user: User, comment_id: uuid.UUID, fields: dict, device_id=None) -> Comment:
    """Add a comment to an audit or a finding the user may see.

    :raise Invalid: without exactly one subject or a body. :raise NotFound: no such subject.
    """
    audit_id, finding_id = fields.get("audit_id"), fields.get("finding_id")
    if bool(audit_id) == bool(finding_id):
        raise Invalid("A comment belongs to one audit or one finding.",
                      {"audit_id": ["Give an audit or a finding, not both."]})
    body = fields.get("body")
    if not isinstance(body, str) or not body.strip():
        raise Invalid("The comment is empty.", {"body": ["Must not be empty."]})
    if len(body) > COMMENT_MAX:
        raise Invalid("The comment is too long.", {"body": [f"At most {COMMENT_MAX} characters."]})
    if audit_id:
        subject = db.session.get(Audit, audit_id)
        if subject is None:
            raise NotFound("There is no such audit.")
        require(user, "comment.audit", subject)
        concerns = subject.auditor_id
    else:
        subject = db.session.get(Finding, finding_id)
        if subject is None:
            raise NotFound("There is no such finding.")
        require(user, "comment.finding", subject)
        concerns = subject.raised_by_id
    comment = Comment(id=comment_id, audit_id=audit_id, finding_id=finding_id, author_id=user.id,
                      body=body.strip())
    db.session.add(comment)
    db.session.flush()
    feed.publish("comment", comment.id, comment.version, area_id=subject.area_id, user_id=concerns)
    trail.record(user, "comment.added", "comment", comment.id,
                 jsonable({"audit_id": audit_id, "finding_id": finding_id, "body": comment.body}),
                 device_id=device_id)
    return comment


def may_see_comment(user: User, comment: Comment) -> bool:
    if comment.audit_id:
        return can(user, "comment.audit", comment_subject(comment))
    return can(user, "comment.finding", comment_subject(comment))


def comment_subject(comment: Comment):
    return db.session.get(Audit, comment.audit_id) if comment.audit_id else db.session.get(Finding, comment.finding_id)
