"""The register's lists and record pages as people read them: filtered queries and details."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    OPEN_FINDING_STATUSES,
    Audit,
    Comment,
    Finding,
    PhotoLink,
    PhotoSubject,
    Response,
    User,
)
from ..permissions import require, scope_audits, scope_findings
from . import audits, checklists, programme


def audit_query(user: User, status: str | None = None, area_id: uuid.UUID | None = None,
                auditor_id: uuid.UUID | None = None):
    require(user, "audit.list")
    query = programme.select_audits(status, area_id, auditor_id).where(scope_audits(user))
    return query.order_by(Audit.planned_date.desc().nulls_last(), Audit.created_at.desc())


def finding_query(user: User, status: str | None = None, kind: str | None = None,
                  area_id: uuid.UUID | None = None, clause: str | None = None, open_only: bool = False,
                  text: str | None = None):
    require(user, "finding.list")
    query = (
        select(Finding)
        .options(joinedload(Finding.area), joinedload(Finding.raised_by))
        .where(scope_findings(user))
    )
    if open_only:
        query = query.where(Finding.status.in_(OPEN_FINDING_STATUSES))
    if status:
        query = query.where(Finding.status == status)
    if kind:
        query = query.where(Finding.kind == kind)
    if area_id:
        query = query.where(Finding.area_id == area_id)
    if clause:
        query = query.where(Finding.clause.startswith(clause))
    if text:
        query = query.where(Finding.title.ilike(f"%{text}%"))
    return query.order_by(Finding.received_at.desc())


def finding_filters(status: str | None = None, kind: str | None = None, area: str | None = None,
                    clause: str | None = None, q: str | None = None) -> dict:
    """Turn the findings list's parameters (page form or export link) into `finding_query` filters."""
    try:
        area_id = uuid.UUID(area) if area else None
    except ValueError:
        area_id = None
    status = status or None
    return {
        "status": None if status == "open_any" else status,
        "open_only": status == "open_any",
        "kind": kind or None,
        "area_id": area_id,
        "clause": (clause or "").strip() or None,
        "text": (q or "").strip() or None,
    }


def audit_detail(audit: Audit) -> dict:
    """Responses by question, their photos, findings and comments of one audit."""
    responses = {r.question_id: r for r in db.session.scalars(select(Response).where(Response.audit_id == audit.id))}
    photo_rows = db.session.scalars(
        select(PhotoLink).options(joinedload(PhotoLink.photo), joinedload(PhotoLink.linked_by),
                                  joinedload(PhotoLink.uploaded_by)).where(
            PhotoLink.subject == PhotoSubject.RESPONSE,
            PhotoLink.subject_id.in_([r.id for r in responses.values()]),  # an empty IN matches nothing
        ).order_by(PhotoLink.position)
    ).all()
    photos: dict[uuid.UUID, list] = {}
    links: dict[uuid.UUID, list] = {}
    for link in photo_rows:
        photos.setdefault(link.subject_id, []).append(link.photo)
        links.setdefault(link.subject_id, []).append(link)
    findings = db.session.scalars(select(Finding).where(Finding.audit_id == audit.id).order_by(Finding.raised_at)).all()
    comments = db.session.scalars(
        select(Comment).options(joinedload(Comment.author)).where(Comment.audit_id == audit.id).order_by(Comment.created_at)
    ).all()
    questions = audit.template.questions
    shown = audits.shown_questions(questions, responses)
    answered_ids = audits.answered_questions(questions, responses, photos, shown)
    findings_by_question: dict[uuid.UUID, list] = {}
    for finding in findings:
        if finding.question_id:
            findings_by_question.setdefault(finding.question_id, []).append(finding)
    # A question show-if hides has no outcome: it is not applicable.
    outcomes = {q.id: audits.answer_outcome(q, responses.get(q.id)) if shown[q.id] else None for q in questions}
    return {
        "outcomes": outcomes,
        "nonconforming": [q for q in questions if outcomes[q.id] == audits.NONCONFORMING],
        "findings_by_question": findings_by_question,
        "responses": responses,
        "photos": photos,
        "photo_links": links,
        "findings": findings,
        "comments": comments,
        "answered": len(answered_ids),
        "answered_ids": answered_ids,
        "total": sum(shown.values()),
        # Questions show-if hides, with why: "not applicable" rather than "not answered".
        "hidden": {q.id: checklists.hidden_because(q, questions) for q in questions if not shown[q.id]},
    }


def finding_detail(finding: Finding) -> dict:
    photos = db.session.scalars(
        select(PhotoLink).options(joinedload(PhotoLink.photo)).where(
            PhotoLink.subject == PhotoSubject.FINDING, PhotoLink.subject_id == finding.id
        ).order_by(PhotoLink.position)
    ).all()
    comments = db.session.scalars(
        select(Comment).options(joinedload(Comment.author)).where(Comment.finding_id == finding.id).order_by(Comment.created_at)
    ).all()
    return {"photos": [link.photo for link in photos], "comments": comments, "actions": finding.actions}


def photos_for(subject: PhotoSubject, subject_id: uuid.UUID) -> list:
    """The photo links of one response, finding or action, in their order, each with its photo,
    who attached it and whose upload it stands on (identical bytes from two people are each
    credited to the one who sent them)."""
    return db.session.scalars(
        select(PhotoLink)
        .options(joinedload(PhotoLink.photo), joinedload(PhotoLink.linked_by), joinedload(PhotoLink.uploaded_by))
        .where(PhotoLink.subject == subject, PhotoLink.subject_id == subject_id)
        .order_by(PhotoLink.position)
    ).all()
