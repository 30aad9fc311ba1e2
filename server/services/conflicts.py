"""Conflicts: a device's value for a field that changed on the server first.

Nothing is overwritten silently. A supervisor sees both values and chooses: keeping the
server's value closes the conflict; taking the device's applies it through the same
service as any other edit (validated, versioned, in the feed and the trail).
"""


from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..errors import Invalid, StateError
from ..extensions import db
from ..ids import uuid_or_none
from ..models import Conflict, ConflictStatus, User, utcnow
from ..permissions import require, scope_areas
from . import feed, trail
from .records import load_for
from .sync.entities import ENTITIES

CHOICES = ("server", "device")


def open_conflicts(user: User, limit: int = 200) -> list[Conflict]:
    """Open conflicts, oldest first. :raise NotAllowed: unless the user may resolve them."""
    require(user, "conflict.resolve")
    return list(db.session.scalars(
        select(Conflict).options(joinedload(Conflict.user))
        .where(Conflict.status == ConflictStatus.OPEN, scope_areas(user, Conflict.area_id))
        .order_by(Conflict.created_at, Conflict.id).limit(limit)
    ))


def get_conflict(user: User, conflict_id, permission: str = "conflict.resolve") -> Conflict:
    """Load a conflict for `user`, who must have `permission` on it.

    :raise 404: no such conflict. :raise 403: the user may not `permission` it.
    """
    return load_for(user, Conflict, conflict_id, permission, "There is no such conflict.")


def record_of(conflict: Conflict):
    """The record the conflict is about, or None when it is gone."""
    entity = ENTITIES.get(conflict.entity)
    record_id = uuid_or_none(conflict.entity_id)
    return db.session.get(entity.model, record_id) if entity and record_id else None


def _apply_device_value(user: User, conflict: Conflict) -> None:
    entity = ENTITIES[conflict.entity]
    record = record_of(conflict)
    if record is None:
        raise StateError("The record is gone; only the server's state can be kept.")
    try:
        changes = entity.load_fields({conflict.field: conflict.device_value}, partial=True)
    except ValidationError as exc:
        raise Invalid("The device's value is no longer valid.", exc.messages) from None
    entity.accept_device_value(user, record, changes)


def resolve(user: User, conflict: Conflict, choice: str) -> Conflict:
    """Close `conflict`, keeping the server's value or applying the device's.

    :raise Invalid: on an unknown choice. :raise StateError: when already resolved, or when
      the record no longer accepts the device's value (a closed finding, an approved audit).
    """
    require(user, "conflict.resolve", conflict)
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
