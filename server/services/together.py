"""Bookkeeping rows written together: one executemany per table instead of a flush per row.

Inside `rows_together()` the change feed, the trail and the sync engine queue plain rows
with `queue()`; when the block ends they are inserted, each table's rows in one statement,
in the order they were queued. If the block fails nothing is written and the trail forgets
the head it had queued, so whatever runs next chains to the last event in the database.
"""

from contextlib import contextmanager

from sqlalchemy import Table, insert

from ..extensions import db

KEY = "gemba_rows_together"
AUDIENCES_KEY = "gemba_rows_together_audiences"
ORDERED = {"change", "event", "outbox_event"}  # tables whose order is the order of commit


@contextmanager
def rows_together():
    session = db.session()
    rows: dict[Table, list[dict]] = {}
    session.info[KEY] = rows
    session.info[AUDIENCES_KEY] = {}
    try:
        yield
        session.flush()  # the records first, so that whatever fails fails inside this block
        if any(table.name in ORDERED for table in rows):
            from . import trail
            from .serialise import lock_ordered_writes

            # The feed's seqs and the trail's chain must follow commit order: from here
            # to commit this transaction holds the lock (milliseconds, not the batch).
            lock_ordered_writes()
            for table, batch in rows.items():
                if table.name == "event":
                    trail.chain(batch)
        for table, batch in rows.items():
            if table.name == "change":
                from .feed import write  # the feed writes each change's audiences with it

                write(table, batch)
            else:
                session.execute(insert(table), batch)
    except BaseException:
        session.info.pop("trail_head", None)
        raise
    finally:
        session.info.pop(KEY, None)
        session.info.pop(AUDIENCES_KEY, None)


def queue(table: Table, row: dict) -> bool:
    """Queue `row` for `table` when rows are being written together; False when not."""
    rows = db.session().info.get(KEY)
    if rows is None:
        return False
    rows.setdefault(table, []).append(row)
    return True


def queued_audiences() -> dict | None:
    """While rows are queued: the current audiences of each record published in the block."""
    return db.session().info.get(AUDIENCES_KEY)


def writing_together() -> bool:
    """Whether rows are being queued now (they are written under the ordered-writes lock at the end)."""
    return KEY in db.session().info
