"""Field-level merge of an edit made offline into a record that may have moved meanwhile."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from ..extensions import db
from ..models import Conflict, User
from ..models.base import Versioned
from . import feed


def jsonable(value):
    """The JSON form of a field value, as a device would send it back."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return value


@dataclass
class Merge:
    """What to write now, and what to hold back because the server changed it first."""

    apply: dict = field(default_factory=dict)
    held: dict = field(default_factory=dict)  # field -> (server value, device value)


@dataclass
class Edit:
    """The outcome of an edit: fields written now, fields held back as conflicts."""

    record: object
    changed: list[str] = field(default_factory=list)
    held: dict = field(default_factory=dict)  # field -> (server value, device value)


def merge(record: Versioned, changes: dict, current: dict, base_version: int | None) -> Merge:
    """Split `changes` into fields to apply and fields that conflict.

    A field conflicts when the server changed it after `base_version` and the device
    wants a different value. A value equal to the server's is neither. `base_version`
    None means the caller is the authority (a supervisor resolving a conflict): no
    field is held back.
    """
    result = Merge()
    for name, value in changes.items():
        if jsonable(current[name]) == jsonable(value):
            continue
        if base_version is not None and record.changed_since(name, base_version):
            result.held[name] = (current[name], value)
        else:
            result.apply[name] = value
    return result


def created(record: Versioned, fields) -> None:
    """Stamp a new record as version 1 with every field set at version 1."""
    record.version = 0
    record.field_versions = {}
    record.bump(fields)


def hold(user: User, entity: str, record: Versioned, held: dict, base_version: int, *,
         device_id=None, op_id=None, area_id=None) -> list[Conflict]:
    """Keep each held-back device value in a Conflict for a supervisor to decide."""
    conflicts = []
    for name, (server_value, device_value) in held.items():
        conflict = Conflict(
            entity=entity, entity_id=str(record.id), field=name,
            server_value=jsonable(server_value), device_value=jsonable(device_value),
            base_version=base_version or 0, server_version=record.version,
            device_id=device_id, op_id=op_id, user_id=user.id if user else None, area_id=area_id,
        )
        db.session.add(conflict)
        conflicts.append(conflict)
    if conflicts:
        db.session.flush()
        for conflict in conflicts:
            feed.publish("conflict", conflict.id, 1, area_id=area_id, user_id=conflict.user_id)
    return conflicts
