"""Snapshot: a new device's first sync, what the person may see now plus the feed position.

A device without a cursor takes a snapshot: the records of its working set as they are
now, in pages of a stable order (entity by entity, each by id), and the feed position
read before the first record. It then pulls from that position: a change made while the
pages were read comes again in the pull, so nothing is missed and nothing replays the
whole feed. A page token carries the position and where the next page starts, so an
interrupted first sync resumes where it stopped.

The working set: a person's own and assigned work (audits they do, findings they raised
or answer for, actions they own, comments on those, conflicts of theirs). A reviewer
adds the places they chose (`sites`, `areas`; every place they review by default) within
a time window: open items and whatever changed in the last `days` (90 by default).
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, false, func, or_, select, true, union

from ...errors import DomainError
from ...extensions import db
from ...models import (
    OPEN_FINDING_STATUSES,
    ActionStatus,
    Area,
    Audit,
    AuditStatus,
    Change,
    Comment,
    Conflict,
    ConflictStatus,
    CorrectiveAction,
    Document,
    DocumentAcknowledgement,
    Finding,
    Photo,
    PhotoLink,
    PhotoUpload,
    PhotoState,
    PhotoSubject,
    Response,
    Template,
    TemplateStatus,
    User,
    utcnow,
)
from ...permissions import is_reviewer, sites_in_scope
from .. import documents
from . import audiences, rows
from .entities import ENTITIES
from .pull import MAX_PULL

DEFAULT_DAYS = 90
OPEN_AUDITS = (AuditStatus.PLANNED, AuditStatus.IN_PROGRESS, AuditStatus.SUBMITTED, AuditStatus.RETURNED)
# An audit's answers come in the same page as the audit (found through their audit's id,
# not by walking every answer in id order), so "response" has no stage of its own.
AUDIT_BATCH = 8  # audits first read to fill a page (then as many as the room left suggests)
ORDER = ("template", "audit", "finding", "action", "comment", "conflict", "photo", "document", "acknowledgement")


@dataclass
class SnapshotPage:
    changes: list[dict]
    position: int  # the feed position to pull from once the last page is in
    more: bool
    token: str | None  # where the next page starts; None after the last
    scope: str = ""
    counts: dict = field(default_factory=dict)


class WorkingSet:
    """Which records a device holds: the person's own, and a reviewer's chosen places and window."""

    def __init__(self, user: User, sites=None, areas=None, days: int | None = None):
        self.user = user
        self.reviewer = is_reviewer(user)
        scope = sites_in_scope(user) if self.reviewer else set()
        self.sites = [s for s in (sites or []) if scope is None or s in scope]
        self.areas = list(areas or [])
        self.chosen = bool(sites or areas)
        self.scope = scope
        self.since = utcnow() - timedelta(days=days or DEFAULT_DAYS)
        self._documents: list | None = None  # the documents that apply to the person, read once
        self._areas = None

    def place(self, area_column):
        """`area_column` is a place in this device's working set (for a reviewer)."""
        if not self.reviewer:
            return false()
        if not self.chosen and self.scope is None:
            return true()
        if self._areas is None:
            # The places as a list of area ids, read once: as subqueries OR-ed together they
            # kept the planner from the area indexes.
            chosen = (or_(Area.site_id.in_(self.sites), Area.id.in_(self.areas)) if self.chosen
                      else Area.site_id.in_(self.scope))
            if self.chosen and self.scope is not None:
                chosen = and_(chosen, Area.site_id.in_(self.scope))
            self._areas = list(db.session.scalars(select(Area.id).where(chosen)))
        return area_column.in_(self._areas)

    def audits(self):
        return or_(Audit.auditor_id == self.user.id,
                   and_(self.place(Audit.area_id), or_(Audit.status.in_(OPEN_AUDITS), Audit.updated_at >= self.since)))

    def findings(self, after=None, limit: int | None = None):
        """The condition for the findings of this working set; with `limit`, for the next
        `limit` of them after the id `after`.

        One id list made of each reason's own lookup: written as one OR, the planner either
        walks the whole table in id order for a person with few findings or scans it all for a
        reviewer's window on every page. Each reason limited picks its own way.
        """
        me = self.user.id
        # (lookup, its key column, whether it is the person's own work)
        reasons = [
            (select(Finding.id).where(Finding.raised_by_id == me), Finding.id, True),
            (select(Finding.id).where(Finding.audit_id.in_(select(Audit.id).where(Audit.auditor_id == me))),
             Finding.id, True),
            (select(CorrectiveAction.finding_id).where(CorrectiveAction.owner_id == me), CorrectiveAction.finding_id,
             True),
        ]
        if self.reviewer:
            reasons.append((select(Finding.id).where(
                self.place(Finding.area_id),
                or_(Finding.status.in_(OPEN_FINDING_STATUSES), Finding.updated_at >= self.since)), Finding.id, False))
        queries = []
        for query, column, own in reasons:
            query = query.correlate(None)
            if limit is not None:
                if after is not None:
                    query = query.where(column > after)
                if own:
                    # The person's own work is found through its index (their audits' findings,
                    # say) and then sorted: an OFFSET keeps PostgreSQL from walking every
                    # finding in id order for the few that are theirs, which grew with the
                    # register (57,690 findings read for a page of 378 at 500,000).
                    inner = query.offset(0).subquery()
                    query = select(inner.c[0])
                    column = inner.c[0]
                # distinct: a person may own several actions of one finding, and repeats
                # would crowd out of the limit an id the page needs.
                query = query.distinct().order_by(column).limit(limit).subquery().select()
            queries.append(query)
        return Finding.id.in_(union(*queries))

    def actions(self):
        if not self.reviewer:
            return CorrectiveAction.owner_id == self.user.id
        # Each action's finding looked up by its key: an IN list would read every finding of the places.
        placed = select(Finding.id).where(Finding.id == CorrectiveAction.finding_id, self.place(Finding.area_id)).exists()
        return or_(CorrectiveAction.owner_id == self.user.id,
                   and_(placed,
                        or_(CorrectiveAction.status == ActionStatus.OPEN, CorrectiveAction.updated_at >= self.since)))

    def where(self, entity: str):
        """The condition on `entity`'s model for the records of this working set."""
        if entity == "template":
            return Template.status.in_((TemplateStatus.PUBLISHED, TemplateStatus.RETIRED))
        if entity == "audit":
            return self.audits()
        if entity == "response":
            return Response.audit_id.in_(select(Audit.id).where(self.audits()))
        if entity == "finding":
            return self.findings()
        if entity == "action":
            return self.actions()
        if entity == "comment":
            return or_(Comment.audit_id.in_(select(Audit.id).where(self.audits())),
                       Comment.finding_id.in_(select(Finding.id).where(self.findings())))
        if entity == "conflict":
            placed = (true() if self.reviewer and self.scope is None and not self.chosen
                      else self.place(Conflict.area_id))
            return or_(Conflict.user_id == self.user.id,
                       and_(placed, or_(Conflict.status == ConflictStatus.OPEN, Conflict.created_at >= self.since)))
        if entity == "photo":
            linked = or_(
                and_(PhotoLink.subject == PhotoSubject.RESPONSE,
                     PhotoLink.subject_id.in_(select(Response.id).where(self.where("response")))),
                and_(PhotoLink.subject == PhotoSubject.FINDING,
                     PhotoLink.subject_id.in_(select(Finding.id).where(self.findings()))),
                and_(PhotoLink.subject == PhotoSubject.ACTION,
                     PhotoLink.subject_id.in_(select(CorrectiveAction.id).where(self.actions()))),
            )
            return and_(Photo.state == PhotoState.STORED,
                        or_(Photo.uploaded_by_id == self.user.id,
                            Photo.sha256.in_(select(PhotoUpload.photo_sha256).where(PhotoUpload.user_id == self.user.id)),
                            Photo.sha256.in_(select(PhotoLink.photo_sha256).where(linked, PhotoLink.proven.is_(True)))))
        if entity == "document":
            if self._documents is None:
                self._documents = documents.documents_for(self.user)
            return Document.id.in_(self._documents)
        if entity == "acknowledgement":
            return DocumentAcknowledgement.user_id == self.user.id
        raise KeyError(entity)


class BadToken(DomainError):
    status = 400
    code = "bad_token"


def _bad_token() -> BadToken:
    return BadToken("The snapshot token is not valid; start the snapshot again.", {"token": ["Not valid."]})


def _parse_token(token: str | None) -> tuple[int | None, int, str]:
    if not token:
        return None, 0, ""
    try:
        position, index, after = token.split(".", 2)
        position, index = int(position), int(index)
    except ValueError:
        raise _bad_token() from None
    if position < 0 or not 0 <= index <= len(ORDER):
        raise _bad_token()
    return position, index, after


def _after_key(after: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(after) if after else None
    except ValueError:
        raise _bad_token() from None


def _after(entity, after: str):
    """The condition for keys after `after` (ids compare as UUIDs, hashes as text)."""
    column = getattr(entity.model, entity.key)
    if not after:
        return true()
    if entity.key == "id":
        try:
            return column > uuid.UUID(after)
        except ValueError:
            raise _bad_token() from None
    return column > after


def _audits_with_answers(working: "WorkingSet", after: str, want: int, first: bool) -> tuple[list, bool]:
    """The next audits of the working set whose answers fit in `want` records, and whether more
    are left (then the page is full: the next audit does not fit).

    At least one audit when the page is empty (`first`), whatever its size. The audits are
    read a few at a time with their count of answers, as many as the room left and the
    audits read so far suggest, until the page is full: counting the answers of every audit
    the page might reach (up to `want` of them, each counted again on every page before it)
    was most of a page's SQL.
    """
    answers = select(func.count()).where(Response.audit_id == Audit.id).scalar_subquery()
    kept, used, batch = [], 0, AUDIT_BATCH
    while True:
        sized = db.session.execute(
            select(Audit.id, answers).where(working.where("audit"), _after(ENTITIES["audit"], after))
            .order_by(Audit.id).limit(batch)
        ).all()
        for audit_id, size in sized:
            if used + 1 + size > want and (kept or not first):
                return kept, True
            kept.append(audit_id)
            used += 1 + size
        if len(sized) < batch:
            return kept, False  # no audits left
        if used >= want:
            return kept, True
        after = str(kept[-1])
        # Room for this many more audits of the size seen so far, and one to find the end.
        batch = min(want - used, (want - used) * len(kept) // used + 1)


def snapshot(user: User, token: str | None = None, limit: int = MAX_PULL, *, sites=None, areas=None,
             days: int | None = None) -> SnapshotPage:
    """One page of `user`'s working set as it is now; call again with `token` while `more`."""
    limit = max(1, min(limit, MAX_PULL))
    position, index, after = _parse_token(token)
    if position is None:
        # Read before any record: a change after it comes again in the pull that follows.
        position = db.session.scalar(select(func.max(Change.seq))) or 0
    working = WorkingSet(user, sites, areas, days)
    changes: list[dict] = []
    while index < len(ORDER) and len(changes) < limit:
        entity = ENTITIES[ORDER[index]]
        want = limit - len(changes)
        if entity.name == "audit":
            # An audit comes with its answers, in one page.
            kept, left = _audits_with_answers(working, after, want, first=not changes)
            if kept:
                changes += rows.page(entity, user, rows.among(Audit.id, kept))[0]
                changes += rows.page(ENTITIES["response"], user, rows.among(Response.audit_id, kept),
                                     order=(Response.audit_id, Response.id))[0]
                after = str(kept[-1])
            if left:
                break  # the next audit and its answers do not fit: it starts the next page
        else:
            where = (working.findings(_after_key(after), want) if entity.name == "finding"
                     else working.where(entity.name))
            found, last, read = rows.page(entity, user, and_(where, _after(entity, after)), limit=want)
            changes += found
            left = read == want
            if read:
                after = last
        if not left:
            index, after = index + 1, ""
    more = index < len(ORDER)
    token = f"{position}.{index}.{after}" if more else None
    return SnapshotPage(changes, position, more, token, audiences.scope_key(user))
