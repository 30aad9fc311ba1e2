"""Serialise database writers where order matters (the trail's hash chain, the change feed).

PostgreSQL hands out sequence numbers at insert time but makes rows visible at commit;
without a lock a reader could see seq 12 before seq 11 commits and skip 11 for ever.
A transaction-scoped advisory lock makes such writers commit in the order they
numbered. On SQLite a no-op write takes the database's write lock at once, so that
what the transaction reads next (the trail's last hash) cannot change under it.
"""

from sqlalchemy import text

from ..extensions import db

FEED_LOCK = 0x6E6261  # any constant; one lock for the feed and the trail


def lock_ordered_writes() -> None:
    session = db.session()  # the real Session behind the scoped proxy
    # Taken once per transaction; the lock itself ends with the transaction.
    transaction = session.get_transaction()
    if transaction is not None and session.info.get("ordered_lock") is transaction:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})
    else:
        session.execute(text("UPDATE event SET id = id WHERE 1 = 0"))
    session.info["ordered_lock"] = session.get_transaction()
