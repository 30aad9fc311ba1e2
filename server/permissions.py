"""Who may do what: the one permission layer that pages, the API and services share.

`can(user, action, obj)` answers a yes/no question about one record; `require` raises
`NotAllowed` with a message; `scope_*` narrow a query to what a user may see, so lists
and the sync feed never show more than a detail page would.

Sites: a supervisor with sites (`User.sites`) reviews, plans and sees only there; one
without sites, and every admin, covers the whole organisation. A record's site is its
area's (`site_of`). Auditors and staff see what is tied to them wherever it is.
"""

import uuid
from collections.abc import Callable

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from .errors import NotAllowed
from .extensions import db
from .models import (
    Area,
    Audit,
    AuditSignature,
    AuditStatus,
    Comment,
    CompetenceRecord,
    Conflict,
    CorrectiveAction,
    Document,
    DocumentRevision,
    Finding,
    FindingStatus,
    ManagementReview,
    Objective,
    Photo,
    PhotoLink,
    PhotoSubject,
    PhotoUpload,
    Response,
    ReviewAction,
    RevisionStatus,
    Role,
    Site,
    User,
)

REVIEWERS = {Role.ADMIN, Role.SUPERVISOR}
EDITABLE_AUDIT = {AuditStatus.PLANNED, AuditStatus.IN_PROGRESS, AuditStatus.RETURNED}


def is_reviewer(user: User | None) -> bool:
    """A supervisor or admin (of some sites, or all)."""
    return bool(user) and user.role in REVIEWERS


def sites_in_scope(user: User) -> set[uuid.UUID] | None:
    """The sites a reviewer covers, or None for every site."""
    if user.role == Role.ADMIN:
        return None
    return {site.id for site in user.sites} or None


def site_of(record) -> uuid.UUID | None:
    """The site a record belongs to (through its area), or None for one that belongs to none."""
    if isinstance(record, Site):
        return record.id
    if isinstance(record, Area):
        return record.site_id
    if isinstance(record, (Audit, Finding)):
        return db.session.get(Area, record.area_id).site_id if record.area_id else None
    if isinstance(record, Response):
        return site_of(record.audit)
    if isinstance(record, CorrectiveAction):
        return site_of(record.finding)
    if isinstance(record, Conflict):
        return db.session.get(Area, record.area_id).site_id if record.area_id else None
    if isinstance(record, Objective):
        if record.site_id is None and record.area_id is not None:
            return db.session.get(Area, record.area_id).site_id
        return record.site_id
    if isinstance(record, ManagementReview):
        return record.site_id
    if isinstance(record, ReviewAction):
        return site_of(record.review) if record.review is not None else None
    if isinstance(record, CompetenceRecord):
        person = record.user
        return site_of(person.home_area) if person is not None and person.home_area is not None else None
    return None  # checklists, photos by themselves: not tied to a site


def reviews(user: User, record=None) -> bool:
    """Whether `user` reviews `record`'s site (or, without a record, reviews at all)."""
    if not is_reviewer(user):
        return False
    scope = sites_in_scope(user)
    if scope is None or record is None:
        return True
    return site_of(record) in scope


def _role(*roles: Role) -> Callable:
    def rule(user: User, obj=None) -> bool:
        return user.role in roles

    rule.about_role = True  # answers without a record, so a route may be guarded by it
    return rule


def _reviewer() -> Callable:
    """Supervisors and admins; given a record, only those who cover its site."""
    def rule(user: User, obj=None) -> bool:
        return reviews(user, obj)

    rule.about_role = True
    return rule


def _audit_view(user: User, audit: Audit) -> bool:
    return reviews(user, audit) or audit.auditor_id == user.id


def _audit_work(user: User, audit: Audit) -> bool:
    return audit.auditor_id == user.id and audit.status in EDITABLE_AUDIT


def _finding_view(user: User, finding: Finding) -> bool:
    if reviews(user, finding) or finding.raised_by_id == user.id:
        return True
    if finding.audit is not None and finding.audit.auditor_id == user.id:
        return True
    return any(action.owner_id == user.id for action in finding.actions)


def _finding_edit(user: User, finding: Finding) -> bool:
    # The person who raised it may still correct it until a supervisor has taken it up.
    return reviews(user, finding) or (finding.raised_by_id == user.id and finding.status == FindingStatus.OPEN)


def _finding_classify(user: User, finding: Finding) -> bool:
    # What a finding is (kind, area, clause, title) is the raiser's to correct only until a
    # supervisor has triaged it; after that the triage was made on those facts.
    if reviews(user, finding):
        return True
    return finding.raised_by_id == user.id and finding.status == FindingStatus.OPEN and finding.triaged_at is None


def _audit_decide(user: User, audit: Audit | None = None) -> bool:
    """Approve, return or reject: a reviewer of the audit's site who did not audit it
    (segregation of duties: no one signs off their own work)."""
    if audit is None:
        return is_reviewer(user)
    return reviews(user, audit) and audit.auditor_id != user.id


_audit_decide.about_role = True
def _finding_withdraw(user: User, finding: Finding) -> bool:
    # Their own finding, until a supervisor has triaged it; reviewers reject instead.
    return finding.raised_by_id == user.id and finding.status == FindingStatus.OPEN and finding.triaged_at is None


def _action_work(user: User, action: CorrectiveAction) -> bool:
    return reviews(user, action) or action.owner_id == user.id


def _photo_subject_view(user: User, link: PhotoLink) -> bool:
    if link.subject == PhotoSubject.FINDING:
        finding = db.session.get(Finding, link.subject_id)
        return finding is not None and _finding_view(user, finding)
    if link.subject == PhotoSubject.RESPONSE:
        response = db.session.get(Response, link.subject_id)
        return response is not None and _response_view(user, response)
    if link.subject == PhotoSubject.ACTION:
        action = db.session.get(CorrectiveAction, link.subject_id)
        # An action's evidence also belongs to the finding it answers.
        return action is not None and (_action_work(user, action) or _finding_view(user, action.finding))
    if link.subject == PhotoSubject.SIGNATURE:  # a sign-off is seen with its audit
        signature = db.session.get(AuditSignature, link.subject_id)
        return signature is not None and _audit_view(user, signature.audit)
    return False


def _response_view(user: User, response: Response) -> bool:
    return _audit_view(user, response.audit)


def _comment_view(user: User, comment: Comment) -> bool:
    """A comment is seen by whoever may see the audit or finding it is on."""
    if comment.audit_id:
        audit = db.session.get(Audit, comment.audit_id)
        return audit is not None and _audit_view(user, audit)
    finding = db.session.get(Finding, comment.finding_id)
    return finding is not None and _finding_view(user, finding)


def _conflict_view(user: User, conflict: Conflict) -> bool:
    return reviews(user, conflict) or conflict.user_id == user.id


def _photo_view(user: User, photo: Photo) -> bool:
    """Whoever uploaded these bytes, reviews the whole organisation, or may see a record they are
    evidence on - through a link that stands on the bytes (`PhotoLink.proven`): a
    link made by someone who only named the hash shows the photo to no one."""
    if (is_reviewer(user) and sites_in_scope(user) is None) or photo.uploaded_by_id == user.id:
        return True
    if db.session.get(PhotoUpload, (photo.sha256, user.id)) is not None:
        return True
    links = db.session.scalars(select(PhotoLink).where(
        PhotoLink.photo_sha256 == photo.sha256, PhotoLink.proven.is_(True)))
    return any(_photo_subject_view(user, link) for link in links)


def _objective_owned(user: User, objective: Objective) -> bool:
    return reviews(user, objective) or objective.owner_id == user.id


def _review_sign_off(user: User, review: ManagementReview) -> bool:
    # The chair signs the review off; an admin may stand in for a chair who has left.
    return reviews(user, review) and (review.chair_id == user.id or user.role == Role.ADMIN)


def _review_action_work(user: User, action: ReviewAction) -> bool:
    return action.owner_id == user.id or reviews(user, action)
RELEASED = {RevisionStatus.APPROVED, RevisionStatus.OBSOLETE}


def _competence_record_view(user: User, record: CompetenceRecord) -> bool:
    """A person's competence record: theirs, their home area's responsible person's, and reviewers'."""
    if record.user_id == user.id or reviews(user, record):
        return True
    person = record.user
    return person is not None and person.home_area is not None and person.home_area.responsible_id == user.id


def _competence_gaps_view(user: User, area: Area) -> bool:
    """An area's competence gaps (who lacks what): its responsible person's, and reviewers'."""
    return area.responsible_id == user.id or reviews(user, area)


def _document_view(user: User, document: Document) -> bool:
    """Everyone sees a document once a revision of it is released; before that, its managers and owner."""
    return is_reviewer(user) or document.owner_id == user.id \
        or any(r.status in RELEASED for r in document.revisions)


def _revision_view(user: User, revision: DocumentRevision) -> bool:
    """An approved or superseded revision is readable by all; a draft by managers, the owner and its author."""
    return revision.status in RELEASED or is_reviewer(user) or user.id in (
        revision.document.owner_id, revision.uploaded_by_id)


def scope_documents(user: User) -> ColumnElement[bool]:
    """Documents `user` may see, agreeing with `document.view`."""
    if is_reviewer(user):
        return true()
    released = select(DocumentRevision.id).where(DocumentRevision.document_id == Document.id,
                                                 DocumentRevision.status.in_(RELEASED)).exists()
    return or_(Document.owner_id == user.id, released)


RULES: dict[str, Callable] = {
    "register.dashboard": _role(Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR),
    "audit.list": _role(Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR),
    "audit.view": _audit_view,
    "audit.work": _audit_work,
    "audit.plan": _reviewer(),
    "audit.review": _reviewer(),
    "audit.decide": _audit_decide,
    "audit.start_adhoc": _role(Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN),
    "finding.list": _role(*Role),
    "finding.raise": _role(*Role),
    "finding.view": _finding_view,
    "finding.edit": _finding_edit,
    "finding.classify": _finding_classify,
    "finding.withdraw": _finding_withdraw,
    "finding.triage": _reviewer(),
    "action.view": _action_work,
    "action.work": _action_work,
    "action.assign": _reviewer(),
    "response.view": _response_view,
    "comment.audit": _audit_view,
    "comment.finding": _finding_view,
    "comment.view": _comment_view,
    "conflict.view": _conflict_view,
    "photo.view": _photo_view,
    "conflict.resolve": _reviewer(),
    "template.edit": _role(Role.ADMIN, Role.SUPERVISOR),
    "programme.plan": _reviewer(),
    # printing the areas' QR labels: reviewers, for the sites they cover
    "area.labels": _reviewer(),
    "admin.users": _role(Role.ADMIN),
    "admin.organisation": _role(Role.ADMIN),
    "admin.tokens": _role(Role.ADMIN),
    "admin.webhooks": _role(Role.ADMIN),
    "trail.view": _role(Role.ADMIN, Role.SUPERVISOR),
    "objective.list": _role(*Role),
    "objective.manage": _reviewer(),
    "objective.view": _objective_owned,
    "objective.measure": _objective_owned,
    "readiness.view": _reviewer(),
    "management_review.manage": _reviewer(),
    "management_review.sign_off": _review_sign_off,
    "review_action.work": _review_action_work,
    "document.list": _role(*Role),
    "document.view": _document_view,
    "document.revision.view": _revision_view,
    "document.manage": _role(Role.ADMIN, Role.SUPERVISOR),
    # the competence matrix and training records: reviewers, each for the sites they cover
    "competence.view": _reviewer(),
    "competence.manage": _reviewer(),
    # what the gap and expiry notices tell (services/notify.py): the person, their area's responsible person
    "competence.record.view": _competence_record_view,
    "competence.gaps.view": _competence_gaps_view,
}

# Permissions that depend on the caller's role alone: what `access.allow` may name.
ROLE_ACTIONS = frozenset(action for action, rule in RULES.items() if getattr(rule, "about_role", False))

MESSAGES = {
    "audit.work": "Only the assigned auditor may change this audit, and only until it is submitted.",
    "finding.edit": "This finding can no longer be changed by you.",
    "finding.classify": "A supervisor has triaged this finding: only a reviewer may now change its kind, area, "
                        "clause or title. Add a comment to ask for a change.",
    "audit.decide": "You audited this yourself: another reviewer must approve, return or reject it "
                    "(segregation of duties).",
}


def can(user: User | None, action: str, obj=None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    rule = RULES[action]  # a KeyError here is a programming error, not a user error
    return bool(rule(user, obj) if obj is not None else rule(user))


def require(user: User | None, action: str, obj=None) -> None:
    """Raise `NotAllowed` unless `user` may do `action` (on `obj`)."""
    if not can(user, action, obj):
        raise NotAllowed(MESSAGES.get(action, "You do not have permission to do that."))


def scope_areas(user: User, area_id: ColumnElement) -> ColumnElement[bool]:
    """`area_id` is an area whose site `user` reviews (every area for whole-organisation reviewers)."""
    if not is_reviewer(user):
        return false()
    sites = sites_in_scope(user)
    if sites is None:
        return true()
    return area_id.in_(select(Area.id).where(Area.site_id.in_(sites)))


def scope_audits(user: User) -> ColumnElement[bool]:
    return or_(scope_areas(user, Audit.area_id), Audit.auditor_id == user.id)


def scope_findings(user: User) -> ColumnElement[bool]:
    if is_reviewer(user) and sites_in_scope(user) is None:
        return true()
    own_audits = select(Audit.id).where(Audit.auditor_id == user.id)
    owned_actions = select(CorrectiveAction.finding_id).where(CorrectiveAction.owner_id == user.id)
    return or_(
        scope_areas(user, Finding.area_id),
        Finding.raised_by_id == user.id,
        Finding.audit_id.in_(own_audits),
        Finding.id.in_(owned_actions),
    )


def scope_actions(user: User) -> ColumnElement[bool]:
    if is_reviewer(user) and sites_in_scope(user) is None:
        return true()
    in_sites = select(Finding.id).where(scope_areas(user, Finding.area_id))
    return or_(CorrectiveAction.owner_id == user.id, CorrectiveAction.finding_id.in_(in_sites))


def scope_responses(user: User) -> ColumnElement[bool]:
    """Answers `user` may see, agreeing with `response.view`: those of the audits they may see."""
    return Response.audit_id.in_(select(Audit.id).where(scope_audits(user)))


def scope_comments(user: User) -> ColumnElement[bool]:
    """Comments `user` may see, agreeing with `comment.view`."""
    return or_(
        and_(Comment.audit_id.is_not(None), Comment.audit_id.in_(select(Audit.id).where(scope_audits(user)))),
        and_(Comment.audit_id.is_(None), Comment.finding_id.in_(select(Finding.id).where(scope_findings(user)))),
    )


def scope_conflicts(user: User) -> ColumnElement[bool]:
    """Conflicts `user` may see, agreeing with `conflict.view`."""
    return or_(scope_areas(user, Conflict.area_id), Conflict.user_id == user.id)


def scope_photos(user: User) -> ColumnElement[bool]:
    """Photos `user` may see, agreeing with `photo.view` (links that stand on the bytes only)."""
    if is_reviewer(user) and sites_in_scope(user) is None:
        return true()
    findings = select(Finding.id).where(scope_findings(user))
    subjects = or_(
        and_(PhotoLink.subject == PhotoSubject.FINDING, PhotoLink.subject_id.in_(findings)),
        and_(PhotoLink.subject == PhotoSubject.RESPONSE,
             PhotoLink.subject_id.in_(select(Response.id).where(scope_responses(user)))),
        # An action's evidence also belongs to the finding it answers.
        and_(PhotoLink.subject == PhotoSubject.ACTION, PhotoLink.subject_id.in_(
            select(CorrectiveAction.id).where(or_(scope_actions(user), CorrectiveAction.finding_id.in_(findings))))),
    )
    return or_(
        Photo.uploaded_by_id == user.id,
        Photo.sha256.in_(select(PhotoUpload.photo_sha256).where(PhotoUpload.user_id == user.id)),
        Photo.sha256.in_(select(PhotoLink.photo_sha256).where(PhotoLink.proven.is_(True), subjects)),
    )


def scope_objectives(user: User) -> ColumnElement[bool]:
    """Objectives `user` may see: those of the sites they review, and their own."""
    if is_reviewer(user) and sites_in_scope(user) is None:
        return true()
    sites = sites_in_scope(user) if is_reviewer(user) else None
    in_sites = Objective.site_id.in_(sites) if sites else false()
    return or_(in_sites, Objective.owner_id == user.id)
