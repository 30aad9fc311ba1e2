"""Field-level merge, case by case: what an offline edit writes, and what it holds back.

The record in every case is a finding at version 5 whose title last changed at version 4,
its clause at 5 and its description at 1; its location was never set. A device sends
`changes` based on the version it last saw (`base`).
"""

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Conflict, ConflictStatus, Finding
from server.services import merge
from tests.register_helpers import changes as feed_rows

AREA = uuid.UUID("5d0c3c57-0a47-4c4e-9d35-3f1f8a6c2b10")  # fixed: test ids must agree across xdist workers
CURRENT = {"title": "Leak at pump 2", "description": "Drips", "clause": "8.5.1", "location": None,
           "area_id": AREA, "due_date": date(2026, 3, 1), "photos": [AREA]}
FIELD_VERSIONS = {"title": 4, "clause": 5, "description": 1, "area_id": 5, "due_date": 5, "photos": 5}

CASES = [
    # (what it shows, changes, base, written, held back as (server value, device value))
    ("a field untouched since the device's version is written",
     {"description": "Drips onto a cable"}, 3, {"description": "Drips onto a cable"}, {}),
    ("a field the server changed since, to another value, is held back",
     {"title": "Leak at pump 3"}, 3, {}, {"title": ("Leak at pump 2", "Leak at pump 3")}),
    ("a field the server changed since, to the same value, is neither",
     {"title": "Leak at pump 2"}, 3, {}, {}),
    ("a change made at the device's own version was seen by it: written",
     {"title": "Leak at pump 3"}, 4, {"title": "Leak at pump 3"}, {}),
    ("a device that saw the latest version writes everything it changed",
     {"title": "Pump 3", "clause": "8.7"}, 5, {"title": "Pump 3", "clause": "8.7"}, {}),
    ("a field never set counts as changed at version 0",
     {"location": "Bay 4"}, 0, {"location": "Bay 4"}, {}),
    ("version 0 holds back a field changed at version 1",
     {"description": "Dry now"}, 0, {}, {"description": ("Drips", "Dry now")}),
    ("no base version (the authority deciding) holds nothing back",
     {"title": "Pump 3", "clause": "8.7"}, None, {"title": "Pump 3", "clause": "8.7"}, {}),
    ("the authority's value equal to the server's writes nothing",
     {"title": "Leak at pump 2"}, None, {}, {}),
    ("one batch: written, held back and unchanged fields side by side",
     {"title": "Pump 3", "description": "Dry now", "clause": "8.5.1"}, 3,
     {"description": "Dry now"}, {"title": ("Leak at pump 2", "Pump 3")}),
    ("an id as text equals the same UUID: nothing to write or hold",
     {"area_id": str(AREA)}, 1, {}, {}),
    ("a date as ISO text equals the same date",
     {"due_date": "2026-03-01"}, 1, {}, {}),
    ("a list of ids as text equals the same list",
     {"photos": [str(AREA)]}, 1, {}, {}),
    ("a different date the server also changed is held back",
     {"due_date": "2026-04-01"}, 1, {}, {"due_date": (date(2026, 3, 1), "2026-04-01")}),
    ("nothing sent, nothing done", {}, 3, {}, {}),
]


def _record() -> Finding:
    return Finding(version=5, field_versions=dict(FIELD_VERSIONS))


@pytest.mark.parametrize(("changes", "base", "written", "held"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_merge(changes, base, written, held):
    result = merge.merge(_record(), changes, CURRENT, base)
    assert result.apply == written
    assert result.held == held


def test_merge_leaves_the_record_alone():
    record = _record()
    merge.merge(record, {"title": "Pump 3", "description": "Dry"}, CURRENT, 3)
    assert record.version == 5 and record.field_versions == FIELD_VERSIONS


@pytest.mark.parametrize(("value", "json_form"), [
    (AREA, str(AREA)),
    (date(2026, 3, 1), "2026-03-01"),
    (datetime(2026, 3, 1, 8, 30, tzinfo=UTC), "2026-03-01T08:30:00+00:00"),
    ((AREA, 1), [str(AREA), 1]),
    ({"a": [AREA, {"b": date(2026, 1, 2)}]}, {"a": [str(AREA), {"b": "2026-01-02"}]}),
    ("text", "text"), (3, 3), (2.5, 2.5), (None, None), (True, True),
])
def test_jsonable_gives_what_a_device_sends_back(value, json_form):
    assert merge.jsonable(value) == json_form


def test_created_stamps_version_1_on_every_field():
    record = Finding(version=7, field_versions={"old": 7})
    merge.created(record, ["title", "kind"])
    assert record.version == 1 and record.field_versions == {"title": 1, "kind": 1}


def test_hold_keeps_each_held_value_as_an_open_conflict_in_the_feed(make):
    staff = make.user()
    finding = make.finding(make.area(), staff)
    finding.version = 5
    held = {"title": ("Leak at pump 2", "Leak at pump 3"), "due_date": (date(2026, 3, 1), AREA)}
    conflicts = merge.hold(staff, "finding", finding, held, None)
    assert [(c.field, c.server_value, c.device_value) for c in conflicts] == [
        ("title", "Leak at pump 2", "Leak at pump 3"), ("due_date", "2026-03-01", str(AREA))]
    for conflict in conflicts:
        assert db.session.get(Conflict, conflict.id) is conflict
        assert (conflict.entity, conflict.entity_id, conflict.user_id) == ("finding", str(finding.id), staff.id)
        assert (conflict.base_version, conflict.server_version, conflict.status) == (0, 5, ConflictStatus.OPEN)
        assert [row.version for row in feed_rows("conflict", conflict.id)] == [1]


def test_hold_with_nothing_held_writes_nothing(make):
    staff = make.user()
    finding = make.finding(make.area(), staff)
    assert merge.hold(staff, "finding", finding, {}, 3) == []
    assert db.session.scalar(select(func.count()).select_from(Conflict)) == 0
