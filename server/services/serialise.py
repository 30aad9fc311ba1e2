"""Serialise database writers where order matters (the trail's hash chain, the change feed).

PostgreSQL hands out sequence numbers at insert time but makes rows visible at commit;
without a lock a reader could see seq 12 before seq 11 commits and skip 11 for ever.
A transaction-scoped advisory lock makes such writers commit in the order they
numbered. On SQLite a no-op write takes the database's write lock at once, so that
what the transaction reads next (the trail's last hash) cannot change under it.
"""

import time

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from ..extensions import db

FEED_LOCK = 0x6E6261  # any constant; one lock for the feed and the trail


def lock_ordered_writes() -> None:
    """Take the ordered-writes lock until the end of this transaction.

    Writers that queue their rows (`together.rows_together`) take it only when the rows
    are written, just before commit; it is then held for milliseconds, not for the
    batch's rules and flushes.
    """
    session = db.session()  # the real Session behind the scoped proxy
    # Taken once per (sub)transaction: a savepoint rolled back releases what it took.
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is not None and session.info.get("ordered_lock") is transaction:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})
    else:
        session.execute(text("UPDATE event SET id = id WHERE 1 = 0"))
    session.info["ordered_lock"] = transaction
    session.info.setdefault("ordered_lock_at", time.perf_counter())


# How long transactions held the lock (for bench/push.py): total seconds and count, per process.
HELD = {"seconds": 0.0, "count": 0}


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _released(session) -> None:
    taken = session.info.pop("ordered_lock_at", None)
    session.info.pop("ordered_lock", None)
    if taken is not None:
        HELD["seconds"] += time.perf_counter() - taken
        HELD["count"] += 1
