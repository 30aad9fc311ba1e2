"""What goes into an audit report: the audit, its answers, findings, actions and evidence."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ...extensions import db
from ...models import (
    Audit,
    Comment,
    CorrectiveAction,
    Finding,
    Photo,
    PhotoLink,
    PhotoState,
    PhotoSubject,
    Response,
    User,
)
from ...permissions import require

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass
class Evidence:
    """Every photo of an audit, and where each is used."""

    photos: dict[str, Photo] = field(default_factory=dict)  # sha256 -> Photo, in order of use
    by_subject: dict = field(default_factory=dict)  # (subject, id) -> [Photo]
    used_in: dict[str, list[str]] = field(default_factory=dict)  # sha256 -> ["Q3", "finding ..."]

    @property
    def stored(self) -> list[Photo]:
        return [p for p in self.photos.values() if p.state == PhotoState.STORED]

    @property
    def expected(self) -> list[Photo]:
        return [p for p in self.photos.values() if p.state != PhotoState.STORED]


@dataclass
class AuditReport:
    audit: Audit
    responses: dict
    findings: list[Finding]
    comments: list[Comment]
    evidence: Evidence


def collect(user: User, audit: Audit) -> AuditReport:
    """Load everything an audit's report shows, in a handful of queries."""
    require(user, "audit.view", audit)
    responses = {
        r.question_id: r
        for r in db.session.scalars(select(Response).where(Response.audit_id == audit.id))
    }
    findings = list(db.session.scalars(
        select(Finding)
        .options(selectinload(Finding.actions).joinedload(CorrectiveAction.owner),
                 joinedload(Finding.raised_by), joinedload(Finding.repeat_of))
        .where(Finding.audit_id == audit.id)
        .order_by(Finding.raised_at)
    ).unique())
    comments = list(db.session.scalars(
        select(Comment).options(joinedload(Comment.author)).where(Comment.audit_id == audit.id).order_by(Comment.created_at)
    ))
    evidence = Evidence()
    labels = {}
    position = {q.id: q.position for q in audit.template.questions}
    for r in responses.values():
        labels[(PhotoSubject.RESPONSE, r.id)] = f"Q{position.get(r.question_id, '?')}"
    for f in findings:
        labels[(PhotoSubject.FINDING, f.id)] = f"finding: {f.title}"
        for a in f.actions:
            labels[(PhotoSubject.ACTION, a.id)] = f"action on: {f.title}"
    for signature in audit.signatures:
        labels[(PhotoSubject.SIGNATURE, signature.id)] = f"signature: {signature.role}"
    ids = [subject_id for _, subject_id in labels]
    if ids:
        links = db.session.scalars(
            select(PhotoLink)
            .options(joinedload(PhotoLink.photo).joinedload(Photo.uploaded_by))
            .where(PhotoLink.subject_id.in_(ids))
            .order_by(PhotoLink.subject, PhotoLink.position)
        ).all()
        order = {key: i for i, key in enumerate(labels)}
        for link in sorted(links, key=lambda link: (order.get((link.subject, link.subject_id), 0), link.position)):
            key = (link.subject, link.subject_id)
            if key not in labels or (not link.proven and link.photo.state == PhotoState.STORED):
                continue  # a held link (evidence.proven) carries no one's bytes into a report
            evidence.photos.setdefault(link.photo_sha256, link.photo)
            evidence.by_subject.setdefault(key, []).append(link.photo)
            evidence.used_in.setdefault(link.photo_sha256, []).append(labels[key])
    return AuditReport(audit, responses, findings, comments, evidence)




def person_name(user: User | None) -> str:
    return user.name if user else "-"
