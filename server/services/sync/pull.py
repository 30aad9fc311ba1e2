"""Pull: the changes a user may see after their cursor, each record once, in its latest state."""

import uuid
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...ids import uuid_or_none
from ...models import Change, PhotoLink, PhotoSubject, Template, TemplateStatus, User, utcnow
from ...permissions import is_reviewer
from .. import organisation
from .entities import ENTITIES, SyncedEntity

MAX_PULL = 500
SCAN_CHUNK = 500
# A pull stops scanning after this many feed rows even when few were visible, and says
# `more`; the next call goes on from there.
SCAN_LIMIT = 20 * SCAN_CHUNK


@dataclass
class PullPage:
    changes: list[dict]
    cursor: int
    more: bool


def pull(user: User, cursor: int = 0, limit: int = 200) -> PullPage:
    """The changes after `cursor` that `user` may see, each record once in its latest state."""
    limit = max(1, min(limit, MAX_PULL))
    picked: dict[tuple[str, str], dict] = {}
    scanned_to = cursor
    scanned = 0
    full = False
    while not full and scanned < SCAN_LIMIT:
        rows = db.session.scalars(
            select(Change).where(Change.seq > scanned_to).order_by(Change.seq).limit(SCAN_CHUNK)
        ).all()
        if not rows:
            break
        payloads = _payloads(user, rows)
        for row in rows:
            key = (row.entity, row.entity_id)
            if key not in picked and len(picked) >= limit:
                full = True
                break
            scanned_to = row.seq
            scanned += 1
            payload = payloads.get(key)
            if payload is not None:
                picked.pop(key, None)  # keep each record at its latest position
                picked[key] = payload
        if len(rows) < SCAN_CHUNK:
            break
    more = full or bool(db.session.scalar(select(exists().where(Change.seq > scanned_to))))
    return PullPage(list(picked.values()), scanned_to, more)


def _tombstone(entity: str, entity_id: str, version: int) -> dict:
    return {"entity": entity, "id": entity_id, "version": version, "deleted": True, "fields": None}


def _change(entity: str, entity_id: str, version: int, fields: dict) -> dict:
    return {"entity": entity, "id": entity_id, "version": version, "deleted": False, "fields": fields}


def _uuids(ids) -> list[uuid.UUID]:
    return [record_id for record_id in map(uuid_or_none, ids) if record_id is not None]


def _photos_by_subject(subject: PhotoSubject, ids) -> dict:
    photos: dict = {}
    if not ids:
        return photos
    for link in db.session.scalars(
        select(PhotoLink).where(PhotoLink.subject == subject, PhotoLink.subject_id.in_(ids)).order_by(PhotoLink.position)
    ):
        photos.setdefault(link.subject_id, []).append(link.photo_sha256)
    return photos


def _payloads(user: User, rows: list[Change]) -> dict:
    """The payload each (entity, id) in `rows` shows `user`, or nothing when it is not theirs."""
    by_entity: dict[str, set[str]] = {}
    hints: dict[tuple[str, str], Change] = {}
    concerned: set[tuple[str, str]] = set()  # a change in these rows was about this user
    for row in rows:
        by_entity.setdefault(row.entity, set()).add(row.entity_id)
        hints[(row.entity, row.entity_id)] = row
        if row.user_id == user.id:
            concerned.add((row.entity, row.entity_id))
    payloads = {}
    for entity, ids in by_entity.items():
        synced = ENTITIES.get(entity)
        if synced is None or not synced.pulled:
            continue
        found = _load(synced, user, ids)
        for entity_id in ids:
            hint = hints[(entity, entity_id)]
            key = (entity, entity_id)
            if hint.deleted or entity_id not in found:
                # Gone from the server: tell whoever it concerned to drop their copy.
                if is_reviewer(user) or key in concerned:
                    payloads[key] = _tombstone(entity, entity_id, hint.version)
            elif found[entity_id] is not None:
                payloads[key] = found[entity_id]
            elif key in concerned:
                # It concerned this user and they may no longer see it (an audit given to
                # another auditor, an action to another owner): their device drops its copy.
                payloads[key] = _tombstone(entity, entity_id, hint.version)
    return payloads


def _load(entity: SyncedEntity, user: User, ids) -> dict:
    """The payload of each record of `entity` in `ids`, or None for one `user` may not see."""
    column = getattr(entity.model, entity.key)
    keys = _uuids(ids) if entity.key == "id" else list(ids)
    rows = db.session.scalars(
        select(entity.model).options(*(selectinload(relation) for relation in entity.eager)).where(column.in_(keys))
    ).all()
    photos = _photos_by_subject(entity.photos, [record.id for record in rows]) if entity.photos else {}
    out = {}
    for record in rows:
        key = str(getattr(record, entity.key))
        if not entity.visible(user, record):
            out[key] = None
            continue
        fields = entity.dump_record(record)
        if entity.photos:
            fields["photos"] = photos.get(record.id, [])
        out[key] = _change(entity.name, key, entity.version(record), fields)
    return out



def bootstrap(user: User) -> dict:
    """What a device needs before it goes offline: who, where, which checklists."""
    areas = db.session.scalars(organisation.areas_in_order()).all()
    templates = db.session.scalars(
        select(Template).options(selectinload(Template.questions))
        .where(Template.status == TemplateStatus.PUBLISHED).order_by(Template.name, Template.version)
    ).all()
    return {"user": user, "areas": areas, "templates": templates, "server_time": utcnow()}
