"""The append-only audit trail: who did what, when, from which device, what changed."""

import hashlib
import json
import uuid
from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Event, TrailVerified, User, utcnow
from .serialise import lock_ordered_writes
from .together import queue

GENESIS = "0" * 64


def _canonical(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def event_digest(event: Event) -> str:
    """The hash that chains `event` to the one before it."""
    return _digest(event.prev_hash, event.at, event.actor_id, event.device_id, event.action, event.entity,
                   event.entity_id, event.changes)


def _digest(prev_hash, at, actor_id, device_id, action, entity, entity_id, changes) -> str:
    body = {
        "prev": prev_hash,
        "at": at.isoformat(),
        "actor": str(actor_id) if actor_id else None,
        "device": str(device_id) if device_id else None,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "changes": changes,
    }
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(encoded.encode()).hexdigest()


def record(actor: User | None, action: str, entity: str, entity_id, changes: dict | None = None,
           device_id=None) -> None:
    """Append one event to the trail, chained to the latest one.

    While rows are written together the event is queued unchained: `chain` links the
    queued events to the head when they are written, under the ordered-writes lock.
    """
    # JSON round trip so the stored changes hash the same once read back.
    changes = json.loads(json.dumps(changes or {}, default=_canonical))
    values = {"at": utcnow().replace(microsecond=0), "actor_id": actor.id if actor else None,
              "device_id": device_id, "action": action, "entity": entity, "entity_id": str(entity_id),
              "changes": changes}
    session = db.session()
    if queue(Event.__table__, values):
        return
    lock_ordered_writes()
    values["prev_hash"] = _head() or GENESIS
    values["hash"] = _digest(**values)
    event = Event(**values)
    db.session.add(event)  # flushed with the rows it describes
    session.info["trail_head"] = (session.get_transaction(), event.hash, event)


def chain(rows: list[dict]) -> None:
    """Link queued events (in order) to the trail's head; the caller holds the ordered-writes lock."""
    last = _head() or GENESIS
    for values in rows:
        values["prev_hash"] = last
        values["hash"] = last = _digest(**values)
    session = db.session()
    session.info["trail_head"] = (session.get_transaction(), last, None)


def _head() -> str | None:
    """The newest event's hash.

    While this transaction holds the ordered-writes lock nobody else appends, so the
    event this transaction wrote last is the head - unless a savepoint rolled it back
    (which expunges it, so it is neither pending nor persistent). A queued event is the
    head until its rows are written or dropped (`together.rows_together`).
    """
    session = db.session()
    transaction, head, event = session.info.get("trail_head", (None, None, None))
    if transaction is session.get_transaction():
        if event is None and head is not None:
            return head
        if event is not None and (inspect(event).pending or inspect(event).persistent):
            return head
    return db.session.scalar(select(Event.hash).order_by(Event.id.desc()).limit(1))


def verify_chain(batch: int = 1000) -> Event | None:
    """Return the first event whose hash or link is wrong, or None when the chain holds."""
    previous = GENESIS
    last_id = 0
    while True:
        events = db.session.scalars(
            select(Event).where(Event.id > last_id).order_by(Event.id).limit(batch)
        ).all()
        if not events:
            return None
        for event in events:
            if event.prev_hash != previous or event_digest(event) != event.hash:
                return event
            previous = event.hash
            last_id = event.id


def verify_recent(batch: int = 1000) -> Event | None:
    """Verify the chain from the last checkpoint on; return the first bad event, or None when it holds.

    The checkpoint event itself is re-hashed too, so an edit to it shows. The checkpoint moves
    to the newest event when the chain holds (the caller commits it).
    """
    checkpoint = db.session.get(TrailVerified, "readiness")
    previous, last_id = GENESIS, 0
    if checkpoint is not None:
        event = db.session.get(Event, checkpoint.event_id)
        if event is None or event.hash != checkpoint.hash or event_digest(event) != event.hash:
            return event or Event(id=checkpoint.event_id, hash=checkpoint.hash)
        previous, last_id = event.hash, event.id
    while True:
        events = db.session.scalars(select(Event).where(Event.id > last_id).order_by(Event.id).limit(batch)).all()
        if not events:
            break
        for event in events:
            if event.prev_hash != previous or event_digest(event) != event.hash:
                return event
            previous, last_id = event.hash, event.id
    if last_id and (checkpoint is None or checkpoint.event_id != last_id):
        if checkpoint is None:
            try:
                with db.session.begin_nested():
                    db.session.add(TrailVerified(name="readiness", event_id=last_id, hash=previous, checked_at=utcnow()))
            except IntegrityError:
                pass  # another request set it first; it moves on next time
        else:
            checkpoint.event_id, checkpoint.hash, checkpoint.checked_at = last_id, previous, utcnow()
    return None


def event_query(entity: str | None = None, entity_id: str | None = None, action: str | None = None,
                actor_id=None, since: datetime | None = None, until: datetime | None = None):
    """Events matching the trail page's filters, newest first. `action` matches a prefix."""
    query = select(Event)
    if entity:
        query = query.where(Event.entity == entity)
    if entity_id:
        query = query.where(Event.entity_id == str(entity_id))
    if action:
        query = query.where(Event.action.startswith(action, autoescape=True))
    if actor_id:
        query = query.where(Event.actor_id == actor_id)
    if since:
        query = query.where(Event.at >= since)
    if until:
        query = query.where(Event.at < until)
    return query.order_by(Event.id.desc())
