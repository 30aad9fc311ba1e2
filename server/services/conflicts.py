"""Conflicts: a device's value for a field that changed on the server first.

Nothing is overwritten silently. A supervisor sees both values and chooses: keeping the
server's value closes the conflict; taking the device's applies it through the same
service as any other edit (validated, versioned, in the feed and the trail).
"""

import uuid

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..errors import Invalid, NotFound, StateError
from ..extensions import db
from ..models import Audit, Conflict, ConflictStatus, CorrectiveAction, Finding, Response, User, utcnow
from ..permissions import require
from ..schemas import fieldwork
from . import actions, audits, feed, findings, trail

CHOICES = ("server", "device")
RECORDS = {"audit": Audit, "response": Response, "finding": Finding, "action": CorrectiveAction}


def open_conflicts(user: User, limit: int = 200) -> list[Conflict]:
    """Open conflicts, oldest first. :raise NotAllowed: unless the user may resolve them."""
    require(user, "conflict.resolve")
    return list(db.session.scalars(
        select(Conflict).options(joinedload(Conflict.user))
        .where(Conflict.status == ConflictStatus.OPEN)
        .order_by(Conflict.created_at, Conflict.id).limit(limit)
    ))


def get_conflict(user: User, conflict_id: uuid.UUID) -> Conflict:
    require(user, "conflict.resolve")
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None:
        raise NotFound("There is no such conflict.")
    return conflict


def record_of(conflict: Conflict):
    model = RECORDS.get(conflict.entity)
    try:
        return db.session.get(model, uuid.UUID(conflict.entity_id)) if model else None
    except ValueError:
        return None


def _device_value(conflict: Conflict) -> dict:
    schema = fieldwork.FIELDS_SCHEMAS[conflict.entity](partial=True)
    try:
        return schema.load({conflict.field: conflict.device_value})
    except ValidationError as exc:
        raise Invalid("The device's value is no longer valid.", exc.messages) from None


def _apply_device_value(user: User, conflict: Conflict) -> None:
    record = record_of(conflict)
    if record is None:
        raise StateError("The record is gone; only the server's state can be kept.")
    changes = _device_value(conflict)
    if conflict.entity == "finding":
        findings.edit_finding(user, record, changes)
    elif conflict.entity == "response":
        audits.write_response(user, record, changes, None)
    elif conflict.entity == "audit":
        audits.write_audit(user, record, changes, None)
    else:
        actions.record_progress(user, record, changes)


def resolve(user: User, conflict: Conflict, choice: str) -> Conflict:
    """Close `conflict`, keeping the server's value or applying the device's.

    :raise Invalid: on an unknown choice. :raise StateError: when already resolved, or when
      the record no longer accepts the device's value (a closed finding, an approved audit).
    """
    require(user, "conflict.resolve")
    if choice not in CHOICES:
        raise Invalid("Choose the server's or the device's value.", {"choice": ["server or device"]})
    if conflict.status != ConflictStatus.OPEN:
        raise StateError("This conflict was already resolved.")
    if choice == "device":
        _apply_device_value(user, conflict)
    conflict.status = ConflictStatus.RESOLVED
    conflict.resolution = choice
    conflict.resolved_by_id = user.id
    conflict.resolved_at = utcnow()
    db.session.flush()
    record = record_of(conflict)
    feed.publish("conflict", conflict.id, 2, area_id=getattr(record, "area_id", None), user_id=conflict.user_id)
    trail.record(user, "conflict.resolved", conflict.entity, conflict.entity_id,
                 {"field": conflict.field, "choice": choice, "conflict_id": str(conflict.id),
                  "value": conflict.device_value if choice == "device" else conflict.server_value})
    return conflict
