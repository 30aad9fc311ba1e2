"""Data steps that `gemba db upgrade` runs after the schema migrations, each idempotent.

Until the first release there is one schema migration, regenerated from the models
(`make migration`), so a step that moves data from a table the models no longer have
cannot live in it: a database made by an older migration still has the table, a new one
never had it. Each step here looks for what it moves, moves it in one transaction, and
finds nothing to do the next time.

- `qualifications_to_competences`: the auditor qualification table (user, standard,
  expiry) became competence records of each standard's auditor competence ("ISO 9001
  internal auditor", `Competence.audits_standard`). Each row becomes a record with the
  same id (an old link to it still works), the same person and expiry, and no day gained
  (not known: qualified from the start, as before). A person who already holds that
  competence keeps the longer-lived of the two. The old table is then renamed
  `qualification_migrated`, kept as it was.
"""

import uuid
from collections.abc import Callable
from datetime import date

from sqlalchemy import inspect, text

from .extensions import db
from .models import CompetenceRecord, utcnow
from .services import trail
from .services.programme import auditor_competence, standard_family

OLD_QUALIFICATIONS = "qualification"
KEPT_QUALIFICATIONS = "qualification_migrated"


def _later(a, b):
    """The later of two expiries, None (never) being the latest."""
    return None if a is None or b is None else max(a, b)


def qualifications_to_competences() -> int:
    """Move the auditor qualification table's rows to competence records; returns how many moved."""
    tables = set(inspect(db.session.connection()).get_table_names())
    if OLD_QUALIFICATIONS not in tables:
        return 0
    if KEPT_QUALIFICATIONS in tables:
        raise RuntimeError(f"Both {OLD_QUALIFICATIONS} and {KEPT_QUALIFICATIONS} exist: move or drop one by hand.")
    rows = db.session.execute(text(
        f"SELECT id, user_id, standard, expires_on FROM {OLD_QUALIFICATIONS} ORDER BY user_id, standard")).all()
    moved = 0
    for row in rows:
        family = standard_family(row.standard)
        if not family:
            continue
        competence = auditor_competence(family, create=True)
        qualification_id, user_id = _uuid(row.id), _uuid(row.user_id)
        expires_on = _date(row.expires_on)
        record = db.session.query(CompetenceRecord).filter_by(user_id=user_id, competence_id=competence.id).one_or_none()
        if record is None:
            record = CompetenceRecord(id=qualification_id, user_id=user_id, competence_id=competence.id,
                                      gained_on=None, expires_on=expires_on, recorded_at=utcnow())
            db.session.add(record)
        else:
            record.expires_on = _later(record.expires_on, expires_on)
        db.session.flush()
        trail.record(None, "qualification.migrated", "competence_record", record.id, {
            "qualification_id": str(qualification_id), "user_id": str(user_id), "standard": row.standard,
            "expires_on": expires_on, "competence": competence.name})
        moved += 1
    db.session.execute(text(f"ALTER TABLE {OLD_QUALIFICATIONS} RENAME TO {KEPT_QUALIFICATIONS}"))
    return moved


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _date(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


STEPS: list[tuple[str, Callable[[], int]]] = [
    ("auditor qualifications to competences", qualifications_to_competences),
]


def run_all() -> list[tuple[str, int]]:
    """Run every data step, each in its own transaction (committed, or rolled back on error)."""
    done = []
    for name, step in STEPS:
        try:
            count = step()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        done.append((name, count))
    return done
