"""The append-only audit trail: who did what, when, from which device, what changed."""

import hashlib
import json
import uuid
from datetime import datetime

from sqlalchemy import inspect, select

from ..extensions import db
from ..models import Event, User, utcnow
from .serialise import lock_ordered_writes

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
    body = {
        "prev": event.prev_hash,
        "at": event.at.isoformat(),
        "actor": str(event.actor_id) if event.actor_id else None,
        "device": str(event.device_id) if event.device_id else None,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "changes": event.changes,
    }
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(encoded.encode()).hexdigest()


def record(actor: User | None, action: str, entity: str, entity_id, changes: dict | None = None,
           device_id=None) -> Event:
    """Append one event to the trail, chained to the latest one."""
    lock_ordered_writes()
    last = _head()
    # JSON round trip so the stored changes hash the same once read back.
    changes = json.loads(json.dumps(changes or {}, default=_canonical))
    event = Event(
        at=utcnow().replace(microsecond=0),
        actor_id=actor.id if actor else None,
        device_id=device_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        changes=changes,
        prev_hash=last or GENESIS,
    )
    event.hash = event_digest(event)
    db.session.add(event)  # flushed with the rows it describes
    session = db.session()
    session.info["trail_head"] = (session.get_transaction(), event)
    return event


def _head() -> str | None:
    """The newest event's hash.

    While this transaction holds the ordered-writes lock nobody else appends, so the
    event this transaction wrote last is the head - unless a savepoint rolled it back
    (which expunges it, so it is neither pending nor persistent).
    """
    session = db.session()
    transaction, event = session.info.get("trail_head", (None, None))
    state = inspect(event) if event is not None else None
    if state is not None and transaction is session.get_transaction() and (state.pending or state.persistent):
        return event.hash
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
