"""The change feed: every change a device may need to pull, in server order."""

from ..extensions import db
from ..models import Change, utcnow
from .serialise import lock_ordered_writes
from .together import queue


def publish(entity: str, entity_id, version: int = 1, *, area_id=None, user_id=None,
            deleted: bool = False) -> None:
    """Append a change for `entity` `entity_id` at `version` to the feed."""
    lock_ordered_writes()
    values = {"entity": entity, "entity_id": str(entity_id), "version": version, "deleted": deleted,
              "area_id": area_id, "user_id": user_id, "changed_at": utcnow()}
    if not queue(Change.__table__, values):
        db.session.add(Change(**values))
