"""The sync engine: apply what devices push exactly once and in order; feed back what changed.

`push` applies a device's ops (push.py), `pull` reads the change feed for one person
(pull.py); both go through the one table of synced entities (entities.py), whose op
handlers (ops.py) call the services that own the rules.
"""

from .entities import ENTITIES, SyncedEntity
from .pull import MAX_PULL, PullPage, bootstrap, pull
from .push import PushResult, UnknownEntity, apply_push, claim_device
from .snapshot import SnapshotPage, snapshot

__all__ = ["ENTITIES", "MAX_PULL", "PullPage", "PushResult", "SnapshotPage", "SyncedEntity", "UnknownEntity", "apply_push",
           "bootstrap", "claim_device", "pull", "snapshot"]
