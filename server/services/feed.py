"""The change feed: every change a device may need to pull, in server order."""

from ..extensions import db
from ..models import Change
from .serialise import lock_ordered_writes


def publish(entity: str, entity_id, version: int = 1, *, area_id=None, user_id=None,
            deleted: bool = False) -> Change:
    """Append a change for `entity` `entity_id` at `version` to the feed."""
    lock_ordered_writes()
    change = Change(
        entity=entity,
        entity_id=str(entity_id),
        version=version,
        deleted=deleted,
        area_id=area_id,
        user_id=user_id,
    )
    db.session.add(change)
    return change
