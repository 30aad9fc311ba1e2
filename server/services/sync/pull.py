"""Pull: the changes a user may see after their cursor, each record once, in its latest state."""

from dataclasses import dataclass

from sqlalchemy import func, select, union
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Change, ChangeAudience, Template, TemplateStatus, User, utcnow
from .. import organisation
from . import audiences, rows
from .entities import ENTITIES

MAX_PULL = 500


@dataclass
class PullPage:
    changes: list[dict]
    cursor: int
    more: bool
    scope: str = ""
    reset: bool = False


def pull(user: User, cursor: int = 0, limit: int = 200, *, sites=None, areas=None, scope: str | None = None) -> PullPage:
    """The changes after `cursor` addressed to `user`'s audiences, each record once in its latest state.

    `sites` / `areas` narrow a reviewer's device to its working set. A device that sends
    the `scope` its snapshot was taken under is told to `reset` (take a new snapshot)
    when what decides its audiences changed, such as a site taken away.
    """
    limit = max(1, min(limit, MAX_PULL))
    key = audiences.scope_key(user)
    if scope and scope != key:
        return PullPage([], cursor, False, key, reset=True)
    # The head first: every change up to it has committed (writers commit in seq order),
    # so a device with nothing more addressed to it may skip to it.
    head = db.session.scalar(select(func.max(Change.seq))) or 0
    seqs = _addressed(audiences.of_user(user, sites, areas), cursor, limit + 1)
    more = len(seqs) > limit
    seqs = seqs[:limit]
    if not seqs:
        return PullPage([], max(cursor, head), False, key)
    feed = db.session.execute(
        select(Change.entity, Change.entity_id, Change.version, Change.deleted).where(rows.among(Change.seq, seqs))
        .order_by(Change.seq)
    ).all()
    payloads = _payloads(user, feed)
    picked: dict[tuple[str, str], dict] = {}
    for row in feed:
        payload = payloads.get((row.entity, row.entity_id))
        if payload is not None:
            picked.pop((row.entity, row.entity_id), None)  # keep each record at its latest position
            picked[(row.entity, row.entity_id)] = payload
    return PullPage(list(picked.values()), seqs[-1] if more else max(seqs[-1], head), more, key)


def _addressed(names: list[str], cursor: int, limit: int) -> list[int]:
    """The first `limit` feed positions after `cursor` addressed to any of `names`.

    One index range per audience (each limited), merged: the cost follows what is
    addressed to these audiences, never the length of the whole feed.
    """
    ranges = [
        select(ChangeAudience.seq).where(ChangeAudience.audience == name, ChangeAudience.seq > cursor)
        .order_by(ChangeAudience.seq).limit(limit).subquery().select()
        for name in names
    ]
    merged = union(*ranges).subquery() if len(ranges) > 1 else ranges[0].subquery()
    return list(db.session.scalars(select(merged.c.seq).order_by(merged.c.seq).limit(limit)))


def _tombstone(entity: str, entity_id: str, version: int) -> dict:
    return {"entity": entity, "id": entity_id, "version": version, "deleted": True, "fields": None}


def _payloads(user: User, feed: list) -> dict:
    """The payload each (entity, id) in the `feed` rows shows `user`: the record, or a tombstone.

    Every row was addressed to the user, so a record that is gone, or that they may no
    longer see (an audit given to another auditor, a site taken away), is a tombstone.
    """
    by_entity: dict[str, set[str]] = {}
    hints: dict[tuple[str, str], object] = {}
    for row in feed:
        by_entity.setdefault(row.entity, set()).add(row.entity_id)
        hints[(row.entity, row.entity_id)] = row
    payloads = {}
    for entity, ids in by_entity.items():
        synced = ENTITIES.get(entity)
        if synced is None or not synced.pulled:
            continue
        found = rows.load(synced, user, ids)
        for entity_id in ids:
            hint = hints[(entity, entity_id)]
            record = found.get(entity_id)
            if hint.deleted or record is None:
                payloads[(entity, entity_id)] = _tombstone(entity, entity_id, hint.version)
            else:
                payloads[(entity, entity_id)] = record
    return payloads


def bootstrap(user: User) -> dict:
    """What a device needs before it goes offline: who, where, which checklists."""
    areas = db.session.scalars(organisation.areas_in_order()).all()
    templates = db.session.scalars(
        select(Template).options(selectinload(Template.questions))
        .where(Template.status == TemplateStatus.PUBLISHED).order_by(Template.name, Template.version)
    ).all()
    return {"user": user, "areas": areas, "templates": templates, "server_time": utcnow()}
