"""Whatever fields a device sends, each op gets one result and the batch never breaks.

Hypothesis builds batches of ops whose fields mix plausible values (the seeded audit, its
questions, areas, the records earlier ops created) with arbitrary JSON. The engine must
answer every op with applied, conflict or rejected, keep seq order, leave the trail
intact, and apply every applied op exactly once - whether the batch went through the
one-pass path or fell back to one savepoint per op.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from server.extensions import db
from server.models import Audit
from server.services.sync import ENTITIES
from server.schemas.sync import PushRequestSchema
from server.services import sync, trail
from tests.syncops import row_counts


@dataclass
class World:
    user: object
    audit_id: str
    question_ids: list
    area_ids: list
    template_id: str


@pytest.fixture
def world(make, commit):
    home, audited = make.area(name="Home"), make.area(name="Audited")
    auditor = make.user("auditor", home_area=home)
    template = make.template(questions=4)
    audit = make.audit(template, audited, auditor)
    commit()
    return World(auditor, str(audit.id), [str(q.id) for q in template.questions], [str(home.id), str(audited.id)],
                 str(template.id))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
NOW = datetime.now(UTC)


def plausible(world: World, name: str, created: list[str]):
    """Values of the right kind for `name` (which may still break a rule), or anything at all."""
    ids = {
        "audit_id": st.sampled_from([world.audit_id, str(uuid.uuid4())]),
        "question_id": st.sampled_from(world.question_ids),
        "area_id": st.sampled_from(world.area_ids),
        "template_id": st.just(world.template_id),
        "finding_id": st.sampled_from(created or [str(uuid.uuid4())]),
        "subject_id": st.sampled_from(created + [world.audit_id] if created else [world.audit_id]),
    }
    typed = {
        "kind": st.sampled_from(["major_nc", "minor_nc", "observation", "improvement", "other"]),
        "title": st.text(max_size=300), "description": st.text(max_size=100), "clause": st.text(max_size=30),
        "location": st.text(max_size=30), "note": st.text(max_size=50), "summary": st.text(max_size=50),
        "body": st.text(max_size=50), "root_cause": st.text(max_size=50), "plan": st.text(max_size=50),
        "value": st.sampled_from(["yes", "no", "na", "pass", "fail", 3, 7, "2026-02-30", "text", None]),
        "raised_at": st.sampled_from([(NOW - timedelta(hours=1)).isoformat(), (NOW + timedelta(days=3)).isoformat(),
                                      "yesterday"]),
        "status": st.sampled_from(["in_progress", "submitted", "open", "closed"]),
        "photos": st.lists(st.sampled_from(["a" * 64, "b" * 64, "not-a-hash"]), max_size=2),
        "sha256": st.sampled_from(["c" * 64, "xyz"]),
        "subject": st.sampled_from(["response", "finding", "action", "audit"]),
        "done": st.booleans(),
    }
    fitting = ids.get(name, typed.get(name, JSON))
    return st.one_of(fitting, JSON)


def well_formed(draw, world: World, entity: str, findings: list[str]) -> tuple[str, dict]:
    """An op a real device could send (it may still break a rule: a rating out of range, ...)."""
    text = st.text(min_size=1, max_size=60).filter(str.strip)
    if entity == "finding":
        return str(uuid.uuid4()), {"kind": draw(st.sampled_from(["major_nc", "minor_nc", "observation"])),
                                   "title": draw(text), "area_id": world.area_ids[1],
                                   "raised_at": (NOW - timedelta(hours=1)).isoformat(),
                                   "photos": draw(st.lists(st.sampled_from(["a" * 64, "b" * 64]), max_size=2))}
    if entity == "response":
        return str(uuid.uuid4()), {"audit_id": world.audit_id, "question_id": draw(st.sampled_from(world.question_ids)),
                                   "value": draw(st.sampled_from(["yes", "no", "pass", "fail", 3, "All labelled"])),
                                   "note": draw(st.text(max_size=40))}
    if entity == "audit":
        return world.audit_id, {"status": "in_progress"} if draw(st.booleans()) else {"summary": draw(text)}
    if entity == "comment":
        target = {"finding_id": draw(st.sampled_from(findings))} if findings else {"audit_id": world.audit_id}
        return str(uuid.uuid4()), target | {"body": draw(text)}
    if entity == "photo_link" and findings:
        return str(uuid.uuid4()), {"subject": "finding", "subject_id": draw(st.sampled_from(findings)),
                                   "sha256": draw(st.sampled_from(["a" * 64, "c" * 64]))}
    return str(uuid.uuid4()), {"containment": draw(text)}  # an action nobody planned: refused


PUSHED = [name for name, entity in ENTITIES.items() if entity.pushed]


@st.composite
def batches(draw, world: World):
    ops, findings, ids = [], [], []
    for seq in range(1, draw(st.integers(min_value=1, max_value=8)) + 1):
        entity = draw(st.sampled_from(PUSHED))
        record_id, fields = well_formed(draw, world, entity, findings)
        if draw(st.integers(min_value=0, max_value=3)) == 0:  # one in four: a noisy op
            names = list(ENTITIES[entity].fields().fields) + ["not_a_field"]
            for name in draw(st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=3)):
                fields[name] = draw(plausible(world, name, ids))
            if ids and draw(st.booleans()):
                record_id = draw(st.sampled_from(ids + ["not-a-uuid"]))
        if entity == "finding":
            findings.append(record_id)
        if record_id != world.audit_id:  # ids reused later are only ones this batch made up
            ids.append(record_id)
        ops.append({"op_id": str(uuid.uuid4()), "seq": seq, "entity": entity, "id": record_id,
                    "base_version": draw(st.none() | st.integers(min_value=0, max_value=5)),
                    "fields": fields, "at": NOW.isoformat()})
    return ops


# How many batches: the profile decides (tests/conftest.py), a few here, many in CI.
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_fields_get_one_result_per_op_and_applied_ops_land_once(world, data):
    ops = data.draw(batches(world))
    request = PushRequestSchema().load({"device_id": str(uuid.uuid4()), "ops": ops})
    before = row_counts()

    result = sync.apply_push(world.user, request["device_id"], request["ops"])
    db.session.commit()

    for r in result.results:
        event(f"{r['status']} {next(op['entity'] for op in ops if op['op_id'] == r['op_id'])}")  # --hypothesis-show-statistics
    assert [r["op_id"] for r in result.results] == [op["op_id"] for op in ops]
    assert {r["status"] for r in result.results} <= {"applied", "conflict", "rejected"}
    assert result.last_seq == len(ops)
    after = row_counts()
    assert after["SyncOp"] == before["SyncOp"] + len(ops)

    def applied_ids(entity):
        return {op["id"] for op, r in zip(ops, result.results, strict=True)
                if op["entity"] == entity and r["status"] == "applied"}

    # Every finding and comment id in a batch is made up for it (examples share one database),
    # so each applied one is one new row; an answer may merge into the one given to its question.
    assert after["Finding"] - before["Finding"] == len(applied_ids("finding"))
    assert after["Comment"] - before["Comment"] == len(applied_ids("comment"))
    assert after["Response"] - before["Response"] <= len(applied_ids("response"))
    assert trail.verify_chain() is None

    # The same batch again: every op is a duplicate carrying its first result.
    again = sync.apply_push(world.user, request["device_id"], request["ops"])
    db.session.commit()
    assert [r["status"] for r in again.results] == ["duplicate"] * len(ops)
    assert [r["original_status"] for r in again.results] == [r["status"] for r in result.results]
    assert row_counts() == after  # nothing changes
    assert db.session.get(Audit, uuid.UUID(world.audit_id)) is not None
