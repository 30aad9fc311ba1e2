"""Audiences: who each change in the feed is addressed to, and which audiences a person reads.

A change is addressed, when it is published, to everyone who may see the record now
and everyone who saw it at its previous change (so that they get a tombstone):
`user:<id>` for the people tied to it (auditor, raiser, action owner, author of a
conflict, uploader), `area:<id>` and `site:<id>` for the reviewers of where it is,
`org` for whole-organisation reviewers and `all` for checklists. The rows go to the
`change_audience` table, keyed (audience, seq); a pull reads only the ranges after its
cursor for the person's own audiences (`of_user`), so a pull with nothing new costs a
few index probes however much everyone else changed.

The audiences of a record are a superset of who may see it: the pull still asks the
permission rule for each record it sends, and sends a tombstone to an audience member
who may no longer see it. Every `SyncedEntity` that is pulled names its `audiences`.
"""

import hashlib
import uuid
from functools import lru_cache

from sqlalchemy import event, select
from sqlalchemy.orm import Session, object_session

from ...extensions import db
from ...models import (
    Area,
    Audit,
    AuditSignature,
    Comment,
    CorrectiveAction,
    Finding,
    Photo,
    PhotoLink,
    PhotoUpload,
    PhotoState,
    PhotoSubject,
    Response,
    Role,
    TemplateStatus,
    User,
)
from ...permissions import is_reviewer, sites_in_scope

ALL = "all"
ORG = "org"


# Audience names are written for every change of a push: each is worked out once.
@lru_cache(maxsize=8192)
def user(user_id) -> str:
    return f"user:{user_id}"


@lru_cache(maxsize=8192)
def area(area_id) -> str:
    return f"area:{area_id}"


@lru_cache(maxsize=8192)
def site(site_id) -> str:
    return f"site:{site_id}"


def home(area_id) -> str:
    """The people whose home area it is (documents that apply there)."""
    return f"home:{area_id}"


def role(name) -> str:
    return f"role:{name}"


def placed(area_id) -> set[str]:
    """The reviewers of an area: its area and site audiences, and the whole organisation's."""
    out = {ORG}
    if area_id is None:
        return out
    out.add(area(area_id))
    site_id = _site_of_area(area_id)
    if site_id is not None:
        out.add(site(site_id))
    return out


# A push publishes a hundred changes in a few areas: each area's site is read once a
# transaction (one row), not looked up through the session for every change.
AREA_SITES_KEY = "gemba_area_sites"


def _site_of_area(area_id):
    known = db.session().info.setdefault(AREA_SITES_KEY, {})
    if area_id not in known:
        site_id = db.session.scalar(select(Area.site_id).where(Area.id == area_id))
        if site_id is None:
            return None  # not flushed yet: ask again next time
        known[area_id] = site_id
    return known[area_id]


@event.listens_for(Session, "after_transaction_end")
def _forget_area_sites(session, transaction):
    session.info.pop(AREA_SITES_KEY, None)


@event.listens_for(Area.site_id, "set")
def _area_moved(target, value, old, initiator):
    session = object_session(target)
    if session is not None:
        session.info.pop(AREA_SITES_KEY, None)


def _people(*ids) -> set[str]:
    return {user(value) for value in ids if value is not None}


def of_audit(audit: Audit) -> set[str]:
    return _people(audit.auditor_id) | placed(audit.area_id)


def of_response(response: Response) -> set[str]:
    audit = response.audit if response.audit is not None else db.session.get(Audit, response.audit_id)
    return of_audit(audit) if audit is not None else set()


def of_finding(finding: Finding) -> set[str]:
    out = _people(finding.raised_by_id) | placed(finding.area_id)
    if finding.audit_id is not None:
        audit = finding.audit if finding.audit is not None else db.session.get(Audit, finding.audit_id)
        if audit is not None:
            out |= _people(audit.auditor_id)
    return out | _people(*(action.owner_id for action in finding.actions))


def of_action(action: CorrectiveAction) -> set[str]:
    finding = action.finding if action.finding is not None else db.session.get(Finding, action.finding_id)
    return _people(action.owner_id) | placed(finding.area_id if finding is not None else None)


def of_comment(comment: Comment) -> set[str]:
    if comment.audit_id is not None:
        audit = db.session.get(Audit, comment.audit_id)
        return of_audit(audit) if audit is not None else set()
    finding = db.session.get(Finding, comment.finding_id)
    return of_finding(finding) if finding is not None else set()


def of_conflict(conflict) -> set[str]:
    return _people(conflict.user_id) | placed(conflict.area_id)


def of_template(template) -> set[str]:
    """Everyone, once published (drafts go to no one)."""
    return {ALL} if template.status in (TemplateStatus.PUBLISHED, TemplateStatus.RETIRED) else set()


def of_document(document) -> set[str]:
    """Where a current document applies (`documents.applies_to`): the people of its areas and
    sites, their reviewers, those asked to acknowledge it, auditors; everyone when it names no place."""
    current = document.current
    if current is None:
        return set()
    out = {ORG, role(Role.AUDITOR)}
    if not document.sites and not document.areas:
        out.add(ALL)
    for place in document.areas:
        out |= {area(place.id), site(place.site_id), home(place.id)}
    if document.sites:
        # The people of every area of those sites (a pull reads `home:` without loading the area).
        site_ids = [where.id for where in document.sites]
        out |= {site(site_id) for site_id in site_ids}
        out |= {home(area_id) for area_id in db.session.scalars(select(Area.id).where(Area.site_id.in_(site_ids)))}
    out |= {role(name) for name in current.ack_roles or []}
    out |= {home(area_id) for area_id in current.ack_area_ids or []}
    return out


def of_acknowledgement(acknowledgement) -> set[str]:
    return _people(acknowledgement.user_id)


_SUBJECTS = {PhotoSubject.RESPONSE: (Response, of_response), PhotoSubject.FINDING: (Finding, of_finding),
             PhotoSubject.ACTION: (CorrectiveAction, of_action),
             PhotoSubject.SIGNATURE: (AuditSignature, lambda signature: of_audit(signature.audit))}


def of_photo(photo) -> set[str]:
    """Everyone who uploaded it, whole-organisation reviewers, and whoever sees a record it is
    evidence on through a link that stands on the bytes (`evidence.proven`, as `photo.view`)."""
    out = _people(photo.uploaded_by_id) | {ORG}
    for uploader in db.session.scalars(select(PhotoUpload.user_id).where(PhotoUpload.photo_sha256 == photo.sha256)):
        out |= _people(uploader)
    for link in db.session.scalars(select(PhotoLink).where(PhotoLink.photo_sha256 == photo.sha256,
                                                           PhotoLink.proven.is_(True))):
        model, audiences = _SUBJECTS[PhotoSubject(link.subject)]
        subject = db.session.get(model, link.subject_id)
        if subject is not None:
            out |= audiences(subject)
            if isinstance(subject, CorrectiveAction) and subject.finding is not None:
                out |= of_finding(subject.finding)  # an action's evidence belongs to its finding too
    return out


# A record's audiences changing (an audit given to another auditor, a finding moved to
# another area, an action to another owner) changes who may see the records that hang
# off it: they are published again, addressed to the old and the new audiences.
def dependents(entity: str, record) -> list[tuple[str, object]]:
    if entity == "audit":
        out = [("response", r) for r in db.session.scalars(select(Response).where(Response.audit_id == record.id))]
        out += [("finding", f) for f in db.session.scalars(select(Finding).where(Finding.audit_id == record.id))]
        out += [("comment", c) for c in db.session.scalars(select(Comment).where(Comment.audit_id == record.id))]
        return out
    if entity == "finding":
        out = [("action", a) for a in record.actions]
        out += [("comment", c) for c in db.session.scalars(select(Comment).where(Comment.finding_id == record.id))]
        return out + _linked_photos(PhotoSubject.FINDING, record.id)
    if entity == "action":
        finding = record.finding if record.finding is not None else db.session.get(Finding, record.finding_id)
        return ([("finding", finding)] if finding is not None else []) + _linked_photos(PhotoSubject.ACTION, record.id)
    if entity == "response":
        return _linked_photos(PhotoSubject.RESPONSE, record.id)
    return []


def _linked_photos(subject: PhotoSubject, subject_id) -> list:
    return [("photo", photo) for photo in db.session.scalars(
        select(Photo).join(PhotoLink, PhotoLink.photo_sha256 == Photo.sha256)
        .where(PhotoLink.subject == subject, PhotoLink.subject_id == subject_id, Photo.state == PhotoState.STORED,
               PhotoLink.proven.is_(True))
    )]


# What a person reads -----------------------------------------------------------------

def of_user(person: User, sites=None, areas=None) -> list[str]:
    """The audiences `person` reads: their own, and as a reviewer the places they review.

    `sites` / `areas` narrow a reviewer's device to a working set (ids they review);
    without them a reviewer reads every place they review.
    """
    out = [ALL, user(person.id), role(person.role)]
    if person.home_area_id is not None:
        out.append(home(person.home_area_id))
    if not is_reviewer(person):
        return out
    scope = sites_in_scope(person)
    if areas:
        chosen = db.session.scalars(select(Area).where(Area.id.in_(list(areas)))).all()
        out += [area(a.id) for a in chosen if scope is None or a.site_id in scope]
    if sites:
        out += [site(s) for s in sites if scope is None or s in scope]
    if not sites and not areas:
        out += [ORG] if scope is None else [site(s) for s in sorted(scope, key=str)]
    return out


def scope_key(person: User) -> str:
    """A fingerprint of what decides `person`'s audiences (role, sites, active, home area).

    A device keeps the one its snapshot was taken under; when it changes (a site taken
    away, a new role) the device is told to take a new snapshot.
    """
    scope = sites_in_scope(person) if is_reviewer(person) else set()
    # The home area decides which controlled documents apply to the person (`home:` audiences).
    text = (f"{person.role}|{person.active}|{','.join(sorted(map(str, scope))) if scope is not None else '*'}"
            f"|{person.home_area_id or ''}")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_ids(values) -> list[uuid.UUID]:
    out = []
    for value in values or ():
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return out
