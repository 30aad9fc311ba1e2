"""Competence: the catalogue, people's records, requirements, training sessions and the matrix.

The matrix's cell for a person and a competence is, on a given day:
- `held`: a record that does not expire, or expires more than the warning window ahead;
- `expiring`: a record expiring within the window (`COMPETENCE_EXPIRING_DAYS`, default 30);
- `expired`: a record whose expiry has passed;
- `missing`: required (by the person's role or home area) and no record;
- None: not required and not held.
"""

import hashlib
import io
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import repeat
from typing import NamedTuple

from flask import current_app
from sqlalchemy import String, case, cast, func, select

from ..errors import Invalid, NotAllowed, NotFound
from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import (
    Area,
    Competence,
    CompetenceRecord,
    CompetenceRequirement,
    Role,
    TrainingSession,
    User,
    happened_at,
)
from ..permissions import require, sites_in_scope
from ..storage import file_store, object_key
from . import trail
from .documents import DocumentTooLarge, Upload
from .doctypes import detect
from .programme import add_months

HELD, EXPIRING, EXPIRED, MISSING = "held", "expiring", "expired", "missing"
STATES = (HELD, EXPIRING, EXPIRED, MISSING)
EVIDENCE_KIND = "evidence"
MAX_VALIDITY_MONTHS = 240


# --- the catalogue -------------------------------------------------------------------------

def competences() -> list[Competence]:
    return list(db.session.scalars(select(Competence).order_by(Competence.name)))


def get_competence(competence_id) -> Competence:
    competence = db.session.get(Competence, competence_id) if isinstance(competence_id, uuid.UUID) else None
    if competence is None:
        raise NotFound("There is no such competence.")
    return competence


def create_competence(user: User, name: str, validity_months: int | None = None, description: str = "",
                      at: datetime | None = None) -> Competence:
    """Add a competence to the catalogue. :raise Invalid: no name, a name taken, a bad validity."""
    require(user, "competence.manage")
    errors = FieldErrors()
    name = errors.text("name", name, "name", required=True, label="A name")
    description = errors.text("description", description, "comment")
    if validity_months is not None and (isinstance(validity_months, bool) or not isinstance(validity_months, int)
                                        or not 1 <= validity_months <= MAX_VALIDITY_MONTHS):
        errors.add("validity_months", f"Must be a whole number of months from 1 to {MAX_VALIDITY_MONTHS}, or empty.")
    if "name" not in errors and db.session.scalar(select(Competence.id).where(Competence.name == name)):
        errors.add("name", "A competence with this name exists.")
    errors.raise_if_any("The competence cannot be added.")
    competence = Competence(name=name, validity_months=validity_months, description=description[:2000],
                            created_at=happened_at(at))
    db.session.add(competence)
    db.session.flush()
    trail.record(user, "competence.created", "competence", competence.id,
                 {"name": name, "validity_months": validity_months})
    return competence


def require_competence(user: User, competence: Competence, role: str | None = None, area: Area | None = None
                       ) -> CompetenceRequirement:
    """Say that people with `role`, in `area`, or both need `competence` (saying it twice changes nothing)."""
    require(user, "competence.manage", area)
    if role is None and area is None:
        raise Invalid("Say who needs it.", {"role": ["Choose a role, an area, or both."]})
    if role is not None and role not in set(Role):
        raise Invalid("Say who needs it.", {"role": [f"Must be one of {', '.join(Role)}."]})
    area_id = area.id if area else None
    existing = db.session.scalar(select(CompetenceRequirement).where(
        CompetenceRequirement.competence_id == competence.id, CompetenceRequirement.role.is_(None) if role is None
        else CompetenceRequirement.role == role,
        CompetenceRequirement.area_id.is_(None) if area_id is None else CompetenceRequirement.area_id == area_id))
    if existing:
        return existing
    requirement = CompetenceRequirement(competence=competence, role=role, area_id=area_id)
    db.session.add(requirement)
    db.session.flush()
    trail.record(user, "competence.required", "competence", competence.id,
                 {"role": role, "area_id": str(area_id) if area_id else None})
    return requirement


# --- people's records ----------------------------------------------------------------------

def expiry_for(competence: Competence, gained_on: date) -> date | None:
    return add_months(gained_on, competence.validity_months) if competence.validity_months else None


def _store_evidence(upload: Upload) -> tuple[str, str]:
    limit = current_app.config["GEMBA_MAX_DOCUMENT_BYTES"]
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(f"The file is over the limit of {limit // (1024 * 1024)} MB.")
    if not data:
        raise Invalid("The evidence file is empty.", {"file": ["Choose a file with something in it."]})
    detected = detect(io.BytesIO(data))
    sha = hashlib.sha256(data).hexdigest()
    key = object_key(EVIDENCE_KIND, sha)
    store = file_store()
    if not store.exists(key):
        store.put(key, data)
    return sha, detected.content_type


def record_competence(user: User, person: User, competence: Competence, gained_on: date,
                      expires_on: date | None = None, assessed_by: User | None = None,
                      evidence: Upload | None = None, training: TrainingSession | None = None,
                      at: datetime | None = None) -> CompetenceRecord:
    """Record (or renew) that `person` holds `competence` from `gained_on`.

    The expiry defaults to `gained_on` + the competence's validity. :raise Invalid: an
    expiry before the day gained. :raise NotAllowed: not a reviewer of the person's site.
    """
    require(user, "competence.manage", person.home_area)
    if gained_on > happened_at(at).date() + timedelta(days=1):
        raise Invalid("The record is not valid.", {"gained_on": ["Cannot be in the future."]})
    expires_on = expires_on or expiry_for(competence, gained_on)
    if expires_on is not None and expires_on < gained_on:
        raise Invalid("The record is not valid.", {"expires_on": ["Must be on or after the day it was gained."]})
    record = db.session.scalar(select(CompetenceRecord).where(
        CompetenceRecord.user_id == person.id, CompetenceRecord.competence_id == competence.id))
    if record is None:
        record = CompetenceRecord(user_id=person.id, competence_id=competence.id)
        db.session.add(record)
    record.gained_on, record.expires_on = gained_on, expires_on
    record.assessed_by_id = assessed_by.id if assessed_by else None
    record.training_session_id = training.id if training else None
    record.recorded_at = happened_at(at)
    if evidence is not None:
        record.evidence_sha256, record.evidence_content_type = _store_evidence(evidence)
        record.evidence_file_name = (evidence.file_name or "evidence")[:255]
    db.session.flush()
    trail.record(user, "competence.recorded", "competence_record", record.id, {
        "user_id": str(person.id), "competence_id": str(competence.id), "gained_on": gained_on,
        "expires_on": expires_on, "training_session_id": str(training.id) if training else None,
        "evidence_sha256": record.evidence_sha256})
    return record


def record_training(user: User, title: str, held_on: date, trainer: User | None, attendees: list[User],
                    granted: list[Competence], at: datetime | None = None) -> TrainingSession:
    """Record a training session; every attendee gains (or renews) every competence it grants, together."""
    require(user, "competence.manage")
    errors = FieldErrors()
    title = errors.text("title", title, "title", required=True, label="A title")
    if not attendees:
        errors.add("attendee_ids", "Name at least one attendee.")
    if not granted:
        errors.add("competence_ids", "Name at least one competence it grants.")
    errors.raise_if_any("The training session cannot be recorded.")
    session = TrainingSession(title=title, held_on=held_on, trainer=trainer, recorded_by_id=user.id,
                              attendees=attendees, competences=granted, recorded_at=happened_at(at))
    db.session.add(session)
    db.session.flush()
    trail.record(user, "training.recorded", "training_session", session.id, {
        "title": title, "held_on": held_on, "trainer_id": str(trainer.id) if trainer else None,
        "attendee_ids": [str(a.id) for a in attendees], "competence_ids": [str(c.id) for c in granted]})
    for person in attendees:
        for competence in granted:
            record_competence(user, person, competence, held_on, assessed_by=trainer, training=session, at=at)
    return session


# --- the matrix ----------------------------------------------------------------------------

class MatrixPerson(NamedTuple):
    id: uuid.UUID
    name: str
    role: str
    home_area_id: uuid.UUID | None


class MatrixColumn(NamedTuple):
    id: uuid.UUID
    name: str
    validity_months: int | None


class Matrix(NamedTuple):
    competences: list[MatrixColumn]
    people: list[MatrixPerson]
    cells: list[list[str | None]]  # one row per person, one cell per competence, in the lists' order
    counts: dict[str, int]
    used: list[int]  # the columns with at least one cell that is not None, in order


def _people_query(user: User, site_id, area_id):
    query = select(User.id, User.name, User.role, User.home_area_id).where(User.active.is_(True))
    scope = sites_in_scope(user)
    if scope is not None and site_id is not None and site_id not in scope:
        raise NotAllowed("You do not cover that site.")
    if area_id is not None:
        query = query.where(User.home_area_id == area_id)
    if site_id is not None or scope is not None:
        query = query.join(Area, Area.id == User.home_area_id)
        query = query.where(Area.site_id == site_id) if site_id is not None else query.where(Area.site_id.in_(scope))
    return query


# A cell's state as a number: its index in STATES. A record's is decided in the database (the
# rule in SQL, once) and sent with its column as one number, column * 4 + state, so that a
# person's cells are read back with C-level calls (split, int, divmod), not a Python loop.
CODE = {state: code for code, state in enumerate(STATES)}
MISSING_CODE = CODE[MISSING]


def _record_state(today: date, window: date):
    expires = CompetenceRecord.expires_on
    return case((expires.is_(None), CODE[HELD]), (expires > window, CODE[HELD]), (expires >= today, CODE[EXPIRING]),
                else_=CODE[EXPIRED])


def held_states_query(people_query, today: date, window: date):
    """Each person's records as one row: (user id, "<column * 4 + state code>,..."), aggregated in the database."""
    position = select(Competence.id, (func.row_number().over(order_by=(Competence.name, Competence.id)) - 1)
                      .label("n")).subquery()
    pairs = func.aggregate_strings(cast(position.c.n * 4 + _record_state(today, window), String), ",")
    ids = people_query.with_only_columns(User.id).subquery()
    return (select(CompetenceRecord.user_id, pairs).join(position, position.c.id == CompetenceRecord.competence_id)
            .where(CompetenceRecord.user_id.in_(select(ids.c.id))).group_by(CompetenceRecord.user_id))


class MatrixRows(NamedTuple):
    """The matrix as it is read: its columns, then each person's states one at a time.

    `rows` yields (person, {column: state code}) with only the cells that are not None
    (`STATES[code]` is the state); `tally` counts the codes as the rows are read, and
    `counts()` gives them by state once they all have been.
    """
    competences: list[MatrixColumn]
    rows: Iterator[tuple[MatrixPerson, dict[int, int]]]
    tally: Counter

    def counts(self) -> dict[str, int]:
        return {state: self.tally[code] for code, state in enumerate(STATES)}


def matrix_query(people_query, today: date, window: date):
    """Each person (by name) with their records' states, in one statement: the people left-joined
    to their records aggregated by the database (`held_states_query`), one row a person."""
    held = held_states_query(people_query, today, window).subquery()
    states = list(held.c)[1]
    return (people_query.add_columns(states).outerjoin(held, held.c.user_id == User.id)
            .order_by(User.name, User.id))


def matrix_rows(user: User, site_id: uuid.UUID | None = None, area_id: uuid.UUID | None = None,
                today: date | None = None, expiring_days: int | None = None) -> MatrixRows:
    """People (active, by name) x competences (by name), each cell's state on `today`.

    Three statements (the columns, the requirements, the people with their records
    aggregated to one string a person by the database), no ORM objects; a person's cells
    are worked out as the rows are read. Checks run before the first row is read.

    :raise NotAllowed: not a reviewer, or a site the reviewer does not cover.
    """
    require(user, "competence.view")
    today = today or happened_at(None).date()
    window = today + timedelta(days=expiring_days if expiring_days is not None
                               else current_app.config.get("COMPETENCE_EXPIRING_DAYS", 30))
    people_query = _people_query(user, site_id, area_id)
    columns = [MatrixColumn(*row) for row in db.session.execute(
        select(Competence.id, Competence.name, Competence.validity_months).order_by(Competence.name, Competence.id))]
    index = {column.id: i for i, column in enumerate(columns)}

    by_role, by_area, by_both = defaultdict(set), defaultdict(set), defaultdict(set)
    for competence_id, role, req_area in db.session.execute(
            select(CompetenceRequirement.competence_id, CompetenceRequirement.role, CompetenceRequirement.area_id)):
        # by column, so that a row is filled by position
        if role and req_area:
            by_both[(role, req_area)].add(index[competence_id])
        elif role:
            by_role[role].add(index[competence_id])
        else:
            by_area[req_area].add(index[competence_id])
    result = db.session.execute(matrix_query(people_query, today, window)).all()
    tally: Counter = Counter()

    def rows() -> Iterator[tuple[MatrixPerson, dict[int, int]]]:
        required: dict[tuple, dict[int, int]] = {}  # people share a few (role, area) pairs: work each out once
        fours = repeat(4)
        for person_id, name, role, home_area_id, held in result:
            key = (role, home_area_id)
            if key not in required:
                required[key] = dict.fromkeys(sorted(by_role.get(role, set()) | by_area.get(home_area_id, set())
                                                     | by_both.get(key, set())), MISSING_CODE)
            states = required[key].copy()
            if held:
                states.update(map(divmod, map(int, held.split(",")), fours))  # column * 4 + code -> (column, code)
            tally.update(states.values())
            yield MatrixPerson(person_id, name, role, home_area_id), states

    return MatrixRows(columns, rows(), tally)


def competence_matrix(user: User, site_id: uuid.UUID | None = None, area_id: uuid.UUID | None = None,
                      today: date | None = None, expiring_days: int | None = None) -> Matrix:
    """The whole matrix in memory, a list of cells a person (for the pages, exports and readiness);
    the API streams `matrix_rows` instead. :raise NotAllowed: as `matrix_rows`."""
    read = matrix_rows(user, site_id, area_id, today, expiring_days)
    width = len(read.competences)
    people, cells, used = [], [], set()
    for person, states in read.rows:
        row: list[str | None] = [None] * width
        for column, code in states.items():
            row[column] = STATES[code]
        used.update(states)
        people.append(person)
        cells.append(row)
    return Matrix(read.competences, people, cells, read.counts(), sorted(used))


def export_columns(matrix: Matrix) -> list[str]:
    return ["person", "role", "home area"] + [c.name for c in matrix.competences]


def export_rows(matrix: Matrix, area_labels: dict) -> Iterator[list]:
    """The matrix's rows for `reports.csv_stream` / `xlsx_file`: a person and their cells' states."""
    for person, row in zip(matrix.people, matrix.cells, strict=True):
        yield [person.name, person.role, area_labels.get(person.home_area_id, "")] + [s or "" for s in row]
