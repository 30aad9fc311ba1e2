"""What an auditor does on a device: start an audit, answer its checklist, submit it."""

import math
import uuid
from datetime import date, datetime

from ..errors import Invalid, StateError
from ..extensions import db
from ..fieldrules import LIMITS, FieldErrors
from ..models import (
    Area,
    Audit,
    AuditStatus,
    Finding,
    FindingStatus,
    PhotoSubject,
    Question,
    QuestionKind,
    Response,
    Template,
    TemplateStatus,
    User,
    happened_at,
)
from ..permissions import require
from . import checklists, evidence, feed, impartiality, notify, signoff, trail, transitions
from .merge import Edit, created, jsonable, merge
from .records import load_for

LOCKED = {AuditStatus.APPROVED, AuditStatus.REJECTED}
RESPONSE_FIELDS = ("value", "note", "photos")


def publish_audit(audit: Audit) -> None:
    feed.publish("audit", audit.id, audit.version, area_id=audit.area_id, user_id=audit.auditor_id, record=audit)


def _publish_response(response: Response, audit: Audit) -> None:
    feed.publish("response", response.id, response.version, area_id=audit.area_id, user_id=audit.auditor_id,
                 record=response)


def get_audit(user: User, audit_id, permission: str = "audit.view") -> Audit:
    """Load an audit for `user`, who must have `permission` on it.

    :raise 404: no such audit. :raise 403: the user may not `permission` it.
    """
    return load_for(user, Audit, audit_id, permission, "There is no such audit.")


def start_audit(user: User, audit: Audit, at: datetime | None = None, device_id=None) -> bool:
    """Start an assigned audit (or resume a returned one). Starting twice changes nothing.

    :raise NotAllowed: unless the user is its auditor. :raise StateError: when it cannot start.
    """
    require(user, "audit.work", audit)
    if audit.status == AuditStatus.IN_PROGRESS:
        return False
    transitions.check_audit(audit, AuditStatus.IN_PROGRESS)
    old = audit.status
    audit.status = AuditStatus.IN_PROGRESS
    changed = ["status"]
    if audit.started_at is None:
        audit.started_at = happened_at(at)
        changed.append("started_at")
    audit.bump(changed)
    db.session.flush()
    publish_audit(audit)
    trail.record(user, "audit.started", "audit", audit.id, {"status": [old, audit.status]}, device_id=device_id)
    return True


def create_adhoc_audit(user: User, audit_id: uuid.UUID, template_id, area_id, at: datetime | None = None,
                       device_id=None) -> Audit:
    """Start an unplanned audit of an area that is not the auditor's own.

    :raise Invalid: without a published checklist or a known area.
    :raise NotAllowed: when the area is the auditor's own (impartiality).
    """
    require(user, "audit.start_adhoc")
    errors = {}
    template = db.session.get(Template, template_id) if template_id else None
    if template is None or template.status != TemplateStatus.PUBLISHED:
        errors["template_id"] = ["Choose a published checklist."]
    area = db.session.get(Area, area_id) if area_id else None
    if area is None:
        errors["area_id"] = ["There is no such area."]
    if errors:
        raise Invalid("The audit cannot be started.", errors)
    impartiality.check_impartial(user, area)
    audit = Audit(id=audit_id, template_id=template.id, area_id=area.id, auditor_id=user.id,
                  status=AuditStatus.IN_PROGRESS, started_at=happened_at(at), created_by_id=user.id)
    created(audit, ["template_id", "area_id", "auditor_id", "status", "started_at"])
    db.session.add(audit)
    db.session.flush()
    publish_audit(audit)
    trail.record(user, "audit.created", "audit", audit.id,
                 jsonable({"template_id": template.id, "area_id": area.id, "adhoc": True}), device_id=device_id)
    return audit


def edit_audit(user: User, audit: Audit, changes: dict, base_version: int | None = None, device_id=None) -> Edit:
    """Change the summary of an audit being worked on. :raise NotAllowed: unless its auditor."""
    require(user, "audit.work", audit)
    unknown = set(changes) - {"summary"}
    if unknown:
        raise Invalid("The audit is not valid.", {name: ["Cannot be changed here."] for name in unknown})
    return write_audit(user, audit, changes, base_version, device_id)


def write_audit(actor: User, audit: Audit, changes: dict, base_version, device_id=None) -> Edit:
    errors = FieldErrors()
    if "summary" in changes:
        changes = changes | {"summary": errors.text("summary", changes["summary"])}
    errors.raise_if_any("The audit is not valid.")
    result = merge(audit, changes, {"summary": audit.summary}, base_version)
    if result.apply:
        audit.summary = result.apply["summary"]
        audit.bump(result.apply)
        db.session.flush()
        publish_audit(audit)
        trail.record(actor, "audit.edited", "audit", audit.id, jsonable(result.apply), device_id=device_id)
    return Edit(audit, list(result.apply), result.held)


# ---------------------------------------------------------------- answers

def check_value(question: Question, value):
    """Return `value` as stored for `question`'s kind. :raise Invalid: when it does not fit."""
    if value is None:
        return None
    kind = question.kind

    def bad(message):
        return Invalid("The answer does not fit the question.", {"value": [message]})

    def number(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if kind == QuestionKind.YES_NO_NA:
        if value not in ("yes", "no", "na"):
            raise bad("Answer yes, no or na.")
    elif kind == QuestionKind.PASS_FAIL:
        if value not in ("pass", "fail"):
            raise bad("Answer pass or fail.")
    elif kind == QuestionKind.SCORE:
        low, high = _score_range(question)
        if not number(value) or not low <= value <= high:
            raise bad(f"Give a score from {low:g} to {high:g}.")
    elif kind == QuestionKind.CHOICE:
        if isinstance(value, (list, dict)) or value not in (question.options or []):
            raise bad("Choose one of: " + ", ".join(map(str, question.options or [])) + ".")
    elif kind == QuestionKind.MULTI_CHOICE:
        errors = FieldErrors()
        value = errors.choices("value", value, question.options or [])
        errors.raise_if_any("The answer does not fit the question.")
    elif kind == QuestionKind.NUMBER:
        if not number(value):
            raise bad("Give a number.")
    elif kind == QuestionKind.TEXT:
        if not isinstance(value, str) or len(value) > LIMITS["text"]:
            raise bad(f"Give text of at most {LIMITS['text']:,} characters.")
    elif kind == QuestionKind.DATE:
        try:
            value = date.fromisoformat(value).isoformat() if isinstance(value, str) else None
        except ValueError:
            value = None
        if value is None:
            raise bad("Give a date like 2026-01-31.")
    elif kind == QuestionKind.PHOTO:
        # The photos are the answer; a caption may come with them.
        if not isinstance(value, str) or len(value) > LIMITS["text"]:
            raise bad("A photo question takes photos, and at most a short caption.")
    return value


def _score_range(question: Question) -> tuple[float, float]:
    options = [o for o in (question.options or []) if isinstance(o, (int, float)) and not isinstance(o, bool)]
    return (min(options), max(options)) if len(options) >= 2 else (0, 5)


def _clean_response(values: dict, question: Question) -> dict:
    values = dict(values)
    if "value" in values:
        values["value"] = check_value(question, values["value"])
    errors = FieldErrors()
    if "note" in values:
        values["note"] = errors.text("note", values["note"])
    errors.raise_if_any("The note is not valid.")
    if "photos" in values:
        values["photos"] = evidence.check_hashes(values["photos"])
    return values


def _open_for_answers(user: User, audit: Audit, device_id=None) -> None:
    """Answering a planned audit starts it: the tablet may have been offline since."""
    require(user, "audit.work", audit)
    if audit.status == AuditStatus.PLANNED:
        start_audit(user, audit, device_id=device_id)


def find_response(response_id: uuid.UUID, audit_id=None, question_id=None) -> Response | None:
    """The response with this id or, failing that, the one answering the same question."""
    response = db.session.get(Response, response_id)
    if response is None and audit_id and question_id:
        response = db.session.scalar(
            db.select(Response).where(Response.audit_id == audit_id, Response.question_id == question_id)
        )
    return response


_LOOK = object()  # "the caller did not look yet"


def record_response(user: User, response_id: uuid.UUID, fields: dict, base_version: int | None = None,
                    device_id=None, existing=_LOOK, at: datetime | None = None) -> Edit:
    """Record (or change) the answer to one question of an audit assigned to the user.

    A second device answering the same question merges into the existing response,
    so the same field answered differently becomes a conflict, never an overwrite.
    `existing` is what `find_response` found, when the caller looked already; `at` is
    when it was answered (now unless given).
    :raise NotAllowed: unless the user is the auditor and the audit is not submitted.
    :raise Invalid: when the question is not in the audit or the value does not fit.
    """
    response = existing if existing is not _LOOK else find_response(
        response_id, fields.get("audit_id"), fields.get("question_id"))
    if response is not None:
        if response.id != response_id and base_version is None:
            base_version = 0  # another device's answer: every field it set is news to this one
        return edit_response(user, response, fields, base_version, device_id, at)
    return _new_response(user, response_id, fields, device_id, at)


def _new_response(user: User, response_id: uuid.UUID, fields: dict, device_id=None, at=None) -> Edit:
    missing = [name for name in ("audit_id", "question_id") if not fields.get(name)]
    if missing:
        raise Invalid("The answer does not say what it answers.", {name: ["Required."] for name in missing})
    audit = get_audit(user, fields["audit_id"], "audit.work")
    _open_for_answers(user, audit, device_id)
    question = db.session.get(Question, fields["question_id"])
    if question is None or question.template_id != audit.template_id:
        raise Invalid("The answer is not valid.", {"question_id": ["This question is not part of the audit's checklist."]})
    values = _clean_response({k: v for k, v in fields.items() if k in RESPONSE_FIELDS}, question)
    photos = values.pop("photos", [])
    response = Response(id=response_id, audit_id=audit.id, question_id=question.id,
                        value=values.get("value"), note=(values.get("note") or "").strip(),
                        answered_at=happened_at(at), answered_by_id=user.id)
    created(response, list(values) + (["photos"] if photos else []))
    db.session.add(response)  # flushed with the feed entry by the trail's query
    if photos:
        evidence.link_photos(user, PhotoSubject.RESPONSE, response.id, photos)
    _publish_response(response, audit)
    trail.record(user, "response.recorded", "response", response.id,
                 jsonable({"audit_id": audit.id, "question_id": question.id} | values | {"photos": photos}),
                 device_id=device_id)
    return Edit(response, list(values) + ["photos"], {})


def edit_response(user: User, response: Response, fields: dict, base_version, device_id=None, at=None) -> Edit:
    """The auditor changes an answer (answering a planned audit starts it).

    :raise NotAllowed: unless the user is the auditor and the audit is not submitted.
    """
    audit = response.audit
    _open_for_answers(user, audit, device_id)
    return write_response(user, response, fields, base_version, device_id, at)


def write_response(actor: User, response: Response, fields: dict, base_version, device_id=None,
                   at: datetime | None = None) -> Edit:
    """Merge `fields` into `response`; the caller has checked who may. :raise StateError: when locked."""
    audit = response.audit
    if audit.status in LOCKED:
        raise StateError(f"This audit is {audit.status}; it must be reopened before answers change.")
    moved = {name: ["An answer cannot move to another audit or question."]
             for name in ("audit_id", "question_id")
             if name in fields and fields[name] != getattr(response, name)}
    if moved:
        raise Invalid("The answer is not valid.", moved)
    unknown = set(fields) - set(RESPONSE_FIELDS) - {"audit_id", "question_id"}
    if unknown:
        raise Invalid("The answer is not valid.", {name: ["Not a field of an answer."] for name in unknown})
    values = _clean_response({k: v for k, v in fields.items() if k in RESPONSE_FIELDS}, response.question)
    current = {
        "value": response.value,
        "note": response.note,
        "photos": evidence.photos_of(PhotoSubject.RESPONSE, response.id),
    }
    result = merge(response, values, current, base_version)
    for name, value in result.apply.items():
        if name == "photos":
            evidence.link_photos(actor, PhotoSubject.RESPONSE, response.id, value)
        else:
            setattr(response, name, value.strip() if name == "note" else value)
    if result.apply:
        response.answered_at = happened_at(at)
        response.answered_by_id = actor.id
        response.bump(result.apply)
        db.session.flush()
        _publish_response(response, audit)
        trail.record(actor, "response.changed", "response", response.id, jsonable(result.apply), device_id=device_id)
    return Edit(response, list(result.apply), result.held)


# ---------------------------------------------------------------- submit

def is_answered(question: Question, response: Response | None, photos, shown: bool = True) -> bool:
    """Whether `response` answers `question`: a photo question by its photos, the others by
    a value (a multiple-choice one by at least one value); a question `checklists.visibility`
    hides is never answered (its old answer counts for nothing). The one rule the submit
    check, the register's audit page and the PDF share."""
    if not shown:
        return False
    if question.kind == QuestionKind.PHOTO:
        return bool(photos)
    return response is not None and response.value not in (None, "", [])


def shown_questions(questions, responses: dict) -> dict:
    """{question id: shown?} for an audit's `responses` (question id -> Response)."""
    return checklists.visibility(questions, {qid: r.value for qid, r in responses.items()})


def answered_questions(questions, responses: dict, photos_of_response: dict, shown: dict | None = None) -> set:
    """The ids of the shown `questions` answered by `responses` (question id -> Response),
    whose photos `photos_of_response` holds by response id."""
    shown = shown if shown is not None else shown_questions(questions, responses)
    return {q.id for q in questions
            if is_answered(q, responses.get(q.id), photos_of_response.get(responses[q.id].id) if q.id in responses else None,
                           shown.get(q.id, True))}


def answer_points(question: Question, value) -> float | None:
    """What an answer earns, 0..1, or None when it carries no points (N/A, text, choices...)."""
    if question.kind == QuestionKind.YES_NO_NA and value in ("yes", "no"):
        return 1.0 if value == "yes" else 0.0
    if question.kind == QuestionKind.PASS_FAIL and value in ("pass", "fail"):
        return 1.0 if value == "pass" else 0.0
    if question.kind == QuestionKind.SCORE and isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = _score_range(question)
        return (value - low) / (high - low) if high > low else 1.0
    return None


def score_answers(questions, answers: dict, findings, scoring: dict | None) -> float | None:
    """The score, 0..100, of answers (question id -> value) and the findings raised in the
    audit ([(kind, question id or None)], withdrawn and rejected ones left out), under a
    checklist's `scoring` rule. The one rule; the field app's `records.liveScore` mirrors it.

    1. Each shown question that carries points (yes/no, pass/fail, score; N/A none) earns
       0..1 of its `weight` (1 unless the checklist says otherwise; 0 counts for nothing).
       The answer share is 100 x earned / possible.
    2. Each finding takes off the points the rule's `deductions` give its kind
       (e.g. {"major_nc": 10, "minor_nc": 5}). An answer that raised a finding whose kind
       takes points off is scored by that deduction instead of its own points, so a failure
       is not counted twice.
    3. The score is the share less the deductions, never below 0; None when nothing scored.
    Without a rule this is the plain weighted share of points, as before rules existed.
    """
    deductions = (scoring or {}).get("deductions") or {}
    deducted = [deductions.get(kind, 0) for kind, _ in findings]
    replaced = {question_id for kind, question_id in findings if deductions.get(kind, 0) and question_id}
    shown = checklists.visibility(questions, answers)
    earned = possible = 0.0
    for question in questions:
        weight = 1.0 if question.weight is None else question.weight
        if not shown.get(question.id) or question.id in replaced or not weight:
            continue
        points = answer_points(question, answers.get(question.id))
        if points is not None:
            earned += weight * points
            possible += weight
    if not possible and not any(deducted):
        return None
    share = 100 * earned / possible if possible else 100.0
    return round(max(0.0, share - sum(deducted)), 1)


NONCONFORMING, CONFORMING = "nonconforming", "conforming"


def answer_outcome(question: Question, response: Response | None) -> str | None:
    """Whether an answer shows the requirement met: NONCONFORMING for "no", "fail", a number
    outside its limits or any answer the question says calls for a finding; CONFORMING for
    "yes", "pass" and a number within its limits; None for "na", a score, an open answer
    (text, date, photo, a choice that calls for nothing) or none. The register's audit page
    marks answers by it."""
    value = response.value if response is not None else None
    if value in (None, "") or isinstance(value, (list, dict)) and not value:
        return None
    hashable = not isinstance(value, (list, dict))
    # A multiple choice (a list) calls for a finding when any value chosen is listed; a list
    # answering any other kind is not an answer to judge.
    if (hashable or question.kind == QuestionKind.MULTI_CHOICE) and checklists.answer_calls_for(question.finding_answers, question.kind, question.options, value):
        return NONCONFORMING
    if question.kind in (QuestionKind.YES_NO_NA, QuestionKind.PASS_FAIL):
        return NONCONFORMING if value in ("no", "fail") else CONFORMING if value in ("yes", "pass") else None
    if question.kind == QuestionKind.NUMBER and question.options and hashable:
        return NONCONFORMING if checklists.out_of_range(question.kind, question.options, value) else CONFORMING
    return None


def score(audit: Audit, responses: dict) -> float | None:
    """The audit's score from its answers (question id -> Response) and the findings raised in
    it now (see `score_answers`)."""
    findings = db.session.execute(
        db.select(Finding.kind, Finding.question_id).where(Finding.audit_id == audit.id,
                                                           Finding.status != FindingStatus.REJECTED)
    ).all()
    return score_answers(audit.template.questions, {qid: r.value for qid, r in responses.items()},
                         [(kind, question_id) for kind, question_id in findings], audit.template.scoring)


_UNSIGNED = object()  # "the submission carries no sign-off" (an app from before sign-off)


def submit_audit(user: User, audit: Audit, summary: str | None = None, device_id=None,
                 at: datetime | None = None, signatures=_UNSIGNED, unsigned_reason=None) -> Audit:
    """Submit an audit for review, with its sign-off when `signatures` is given (signoff.py).

    :raise Invalid: naming each required question left unanswered and each answer that
      needs a photo; a sign-off that is not valid. :raise StateError: unless in progress or returned.
    """
    require(user, "audit.work", audit)
    transitions.check_audit(audit, AuditStatus.SUBMITTED)
    responses = {r.question_id: r for r in audit.responses}
    photos = {r.question_id: evidence.photos_of(PhotoSubject.RESPONSE, r.id) for r in responses.values()}
    problems = {}
    shown = shown_questions(audit.template.questions, responses)
    for question in audit.template.questions:
        if not shown[question.id]:
            continue  # hidden by show-if: not required, calls for nothing
        response = responses.get(question.id)
        question_photos = photos.get(question.id, [])
        if question.required and not is_answered(question, response, question_photos):
            problems[str(question.id)] = [f"{question.position}. {question.text}: not answered."]
        elif response is not None and not question_photos and checklists.answer_calls_for(
                question.photo_answers, question.kind, question.options, response.value):
            problems[str(question.id)] = [f"{question.position}. {question.text}: this answer needs a photo."]
    if problems:
        raise Invalid("The audit cannot be submitted yet.", problems)
    signed = None
    if signatures is not _UNSIGNED:
        signed = signoff.check_signatures(audit, signatures, unsigned_reason)
    changed = ["status", "submitted_at", "score"]
    if summary is not None:
        errors = FieldErrors()
        summary = errors.text("summary", summary)
        errors.raise_if_any("The audit is not valid.")
        if summary != audit.summary:
            audit.summary = summary
            changed.append("summary")
    old = audit.status
    audit.status = AuditStatus.SUBMITTED
    audit.submitted_at = happened_at(at)
    audit.score = score(audit, responses)
    if signed is not None:
        signoff.record_signatures(user, audit, *signed, device_id=device_id)
        changed += ["signatures", "unsigned_reason"]
    audit.bump(changed)
    db.session.flush()
    publish_audit(audit)
    trail.record(user, "audit.submitted", "audit", audit.id,
                 {"status": [old, audit.status], "score": audit.score}, device_id=device_id)
    notify.audit_submitted(user, audit)
    return audit
