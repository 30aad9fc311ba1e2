"""The change feed: every change a device may need to pull, in server order, with its audiences.

Each change is addressed (`change_audience`) to who may see the record now, who was
addressed at its previous change (they may have just lost it: they get a tombstone),
and the people and area the caller names. When a record's audiences change, the records
that hang off it (an audit's answers and findings, a finding's actions and comments,
photos) are published again so that their audiences follow; see sync/audiences.py.
"""

import uuid

from sqlalchemy import func, insert, select

from ..extensions import db
from ..models import Change, ChangeAudience, utcnow
from .serialise import lock_ordered_writes
from .together import queue, queued_audiences

CASCADE_KEY = "gemba_feed_cascade"


def publish(entity: str, entity_id, version: int = 1, *, area_id=None, user_id=None,
            deleted: bool = False, record=None) -> None:
    """Append a change for `entity` `entity_id` at `version` to the feed.

    `record` is the record itself when the caller holds it (a push creating fifty findings
    need not look each one up among the session's pending objects).
    """
    from .sync import audiences
    from .sync.entities import ENTITIES

    entity_id = str(entity_id)
    synced = ENTITIES.get(entity)
    # Nothing here needs the batch's pending rows in the database: flushing them one op at
    # a time would cost a push its single executemany per table.
    with db.session.no_autoflush:
        if record is None or synced is None or not isinstance(record, synced.model):
            record = _record(synced, entity_id) if synced is not None else None
        now = set(synced.audiences(record)) if record is not None and synced.audiences else set()
        before = _previous_audiences(entity, entity_id)
    hints = set()
    if user_id is not None:
        hints.add(audiences.user(user_id))
    if area_id is not None:
        hints |= audiences.placed(area_id)
    current = now if record is not None else before | hints
    # (audience, former): a former audience is told once (a tombstone), then no more.
    addressed = sorted((audience, audience not in current) for audience in now | before | hints)
    values = {"entity": entity, "entity_id": entity_id, "version": version, "deleted": deleted,
              "area_id": area_id, "user_id": user_id, "changed_at": utcnow()}
    pending = queued_audiences()
    if pending is not None and queue(Change.__table__, values | {"_audiences": addressed}):
        pending[(entity, entity_id)] = current
    else:
        lock_ordered_writes()
        write(Change.__table__, [values | {"_audiences": addressed}])
    if record is not None and not deleted and now != before and (before or entity == "action"):
        _cascade(entity, record)


def write(table, rows: list[dict]) -> None:
    """Insert change rows and their audience rows (called by `together` for queued rows)."""
    addressed = [row.pop("_audiences", []) for row in rows]
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite cannot order a multi-row RETURNING by the parameters, so SQLAlchemy would
        # insert row by row. The caller holds the ordered-writes lock (SQLite's one write
        # lock): the seqs after the highest one before this insert are these rows', in order.
        before = db.session.scalar(select(func.max(table.c.seq))) or 0
        db.session.execute(insert(table), rows)
        seqs = db.session.scalars(select(table.c.seq).where(table.c.seq > before).order_by(table.c.seq)).all()
    else:
        seqs = db.session.execute(insert(table).returning(table.c.seq, sort_by_parameter_order=True),
                                  rows).scalars().all()
    if len(seqs) != len(rows):
        raise RuntimeError(f"{len(rows)} changes written but {len(seqs)} seqs read back")
    audience_rows = [{"audience": audience, "seq": seq, "former": former}
                     for seq, names in zip(seqs, addressed) for audience, former in names]
    if audience_rows:
        db.session.execute(insert(ChangeAudience.__table__), audience_rows)


def _record(synced, entity_id: str):
    """The record, from the session if it is there (pending ones too), else the database."""
    key = entity_id
    if synced.key == "id":
        try:
            key = uuid.UUID(entity_id)
        except ValueError:
            return None
    session = db.session()
    found = session.identity_map.get(session.identity_key(synced.model, key))
    if found is not None:
        return found
    for pending in session.new:
        if type(pending) is synced.model and getattr(pending, synced.key) == key:
            return pending
    return session.get(synced.model, key)


def prefetch_audiences(keys) -> None:
    """Read the current audiences of many records at once, for a batch that will publish them.

    Records with no change yet get an empty set, so publishing them asks nothing more.
    """
    pending = queued_audiences()
    keys = {(entity, str(entity_id)) for entity, entity_id in keys} - set(pending or ())
    if pending is None or not keys:
        return
    for key in keys:
        pending[key] = set()
    ids = {entity_id for _, entity_id in keys}
    latest = select(func.max(Change.seq)).where(Change.entity_id.in_(ids)).group_by(Change.entity, Change.entity_id)
    rows = db.session.execute(
        select(Change.entity, Change.entity_id, ChangeAudience.audience)
        .join(ChangeAudience, ChangeAudience.seq == Change.seq)
        .where(Change.seq.in_(latest), ChangeAudience.former.is_(False))
    )
    for entity, entity_id, audience in rows:
        if (entity, entity_id) in keys:
            pending[(entity, entity_id)].add(audience)


def _previous_audiences(entity: str, entity_id: str) -> set[str]:
    pending = queued_audiences()
    if pending is not None and (entity, entity_id) in pending:
        return pending[(entity, entity_id)]
    latest = select(Change.seq).where(Change.entity == entity, Change.entity_id == entity_id) \
        .order_by(Change.seq.desc()).limit(1).scalar_subquery()
    return set(db.session.scalars(
        select(ChangeAudience.audience).where(ChangeAudience.seq == latest, ChangeAudience.former.is_(False))
    ))


def _cascade(entity: str, record) -> None:
    """Publish again what hangs off `record`, whose audiences just changed."""
    from .sync import audiences

    session = db.session()
    outer = CASCADE_KEY not in session.info
    seen = session.info.setdefault(CASCADE_KEY, set())
    seen.add((entity, str(_key(record))))
    try:
        for child_entity, child in audiences.dependents(entity, record):
            key = (child_entity, str(_key(child)))
            if key in seen:
                continue
            seen.add(key)
            publish(child_entity, key[1], getattr(child, "version", 1) if child_entity != "photo" else 1)
    finally:
        if outer:
            session.info.pop(CASCADE_KEY, None)


def _key(record):
    return getattr(record, "sha256", None) or record.id
