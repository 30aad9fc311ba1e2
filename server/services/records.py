"""Load a record for a person: the one shape every `get_x(user, id, permission)` loader has."""

from ..errors import NotFound
from ..extensions import db
from ..ids import uuid_or_none
from ..permissions import require


def load_for(user, model, record_id, permission: str, missing: str):
    """The `model` row `record_id` names, which `user` must have `permission` on.

    :raise 404: no such record (or an id that names none), with `missing` as the message.
    :raise 403: the user may not `permission` it.
    """
    key = uuid_or_none(record_id)
    record = db.session.get(model, key) if key else None
    if record is None:
        raise NotFound(missing)
    require(user, permission, record)
    return record
