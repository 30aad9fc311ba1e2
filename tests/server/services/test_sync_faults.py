"""Exactly once under a bad network: concurrent pushes, and a randomised fault model."""

import random
import threading
import uuid
from dataclasses import dataclass, field

import pytest
from flask import current_app
from sqlalchemy import func, select

from server.errors import NotAllowed
from server.extensions import db
from server.models import Change, Device, Finding, Response, SyncOp, User
from server.services import sync, trail
from tests.syncops import FieldDevice


def push_from_threads(app, user_id, device_id, batches: list[list[dict]]) -> list:
    """Push each batch from its own thread, app context and connection, all at once."""
    barrier = threading.Barrier(len(batches))
    results: list = [None] * len(batches)
    errors: list = []

    def run(index: int, ops: list[dict]) -> None:
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                barrier.wait(timeout=10)
                results[index] = sync.apply_push(user, device_id, ops)
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, ops)) for i, ops in enumerate(batches)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.postgres_only
def test_the_same_batch_pushed_at_once_from_several_connections_applies_once(app, make):
    area = make.area()
    staff = make.user("staff")
    device = FieldDevice(staff)
    ops = [device.finding(area, title=f"Finding {i}") for i in range(20)]
    db.session.commit()

    results = push_from_threads(current_app._get_current_object(), staff.id, device.id, [ops] * 4)

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 20
    assert db.session.scalar(select(func.count()).select_from(SyncOp)) == 20
    for position, op in enumerate(ops):
        got = [result.results[position]["status"] for result in results]
        assert got.count("applied") == 1 and got.count("duplicate") == 3, (op["op_id"], got)
    assert db.session.get(Device, device.id).last_seq == 20
    # Each finding is in the feed once: no op ran twice.
    assert db.session.scalar(select(func.count()).select_from(Change).where(Change.entity == "finding")) == 20


@pytest.mark.postgres_only
def test_overlapping_batches_from_several_connections_apply_each_op_once(app, make):
    area = make.area()
    staff = make.user("staff")
    device = FieldDevice(staff)
    ops = [device.finding(area, title=f"Finding {i}") for i in range(30)]
    db.session.commit()

    results = push_from_threads(current_app._get_current_object(), staff.id, device.id,
                                [ops[:10], ops[:20], ops, ops[:30:2]])

    applied = [r["op_id"] for result in results for r in result.results if r["status"] == "applied"]
    assert sorted(applied) == sorted(str(op["op_id"]) for op in ops)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 30


@pytest.mark.postgres_only
def test_a_new_device_claimed_at_once_by_two_users_goes_to_one(app, make):
    area = make.area()
    first, second = make.user("staff"), make.user("staff")
    device_id = uuid.uuid4()
    db.session.commit()
    app = current_app._get_current_object()
    outcomes: list = []

    def run(user_id):
        with app.app_context():
            user = db.session.get(User, user_id)
            try:
                sync.apply_push(user, device_id, [FieldDevice(user, device_id).finding(area)])
                db.session.commit()
                outcomes.append("applied")
            except NotAllowed:
                db.session.rollback()
                outcomes.append("refused")
            db.session.remove()

    threads = [threading.Thread(target=run, args=(u.id,)) for u in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["applied", "refused"]


# ---------------------------------------------------------------- randomised faults

@dataclass
class SimDevice:
    """A device's outbox: every op it made, which ones it has heard back about."""

    device: FieldDevice
    ops: list = field(default_factory=list)
    acked: set = field(default_factory=set)
    delayed: list = field(default_factory=list)  # batches sent but not yet arrived

    def pending(self) -> list:
        return [op for op in self.ops if op["op_id"] not in self.acked]


def _model_ops(rng: random.Random, staff_dev, auditor_dev, area, audit, questions):
    """Generate ops and what applying each exactly once, in order, must leave behind."""
    findings: dict[str, dict] = {}
    responses: dict[str, object] = {}
    expect_status: dict = {}
    for n in range(60):
        if rng.random() < 0.5 or not findings:
            if rng.random() < 0.15:
                op = staff_dev.device.finding(area, title="")  # invalid: rejected, never blocks
                expect_status[op["op_id"]] = "rejected"
            else:
                record = uuid.uuid4()
                op = staff_dev.device.finding(area, record_id=record, title=f"T{n}", description="")
                findings[str(record)] = {"title": f"T{n}", "description": "", "version": 1}
                expect_status[op["op_id"]] = "applied"
            staff_dev.ops.append(op)
        else:
            record = rng.choice(list(findings))
            name = rng.choice(["title", "description"])
            op = staff_dev.device.op("finding", record, **{name: f"{name} {n}"})
            findings[record][name] = f"{name} {n}"
            findings[record]["version"] += 1
            expect_status[op["op_id"]] = "applied"
            staff_dev.ops.append(op)
        question = rng.choice(questions)
        value = rng.choice(["yes", "no", "na", "maybe"])
        op = auditor_dev.device.response(audit, question, value, record_id=uuid.uuid5(audit.id, str(question.id)))
        expect_status[op["op_id"]] = "rejected" if value == "maybe" else "applied"
        if value != "maybe":
            responses[str(question.id)] = value
        auditor_dev.ops.append(op)
    return findings, responses, expect_status


@dataclass
class Ledger:
    """What the server must answer: each op's own status once, `duplicate` ever after."""

    expect: dict
    processed: set = field(default_factory=set)

    def check(self, result) -> None:
        for r in result.results:
            op_id = uuid.UUID(r["op_id"])
            if op_id in self.processed:
                assert (r["status"], r["original_status"]) == ("duplicate", self.expect[op_id])
            else:
                assert r["status"] == self.expect[op_id], r
        self.processed.update(uuid.UUID(r["op_id"]) for r in result.results)


def _push(sim: SimDevice, batch: list, rng: random.Random, fault: str, ledger: Ledger) -> None:
    """Send `batch` the way a flaky network would deliver it, and acknowledge what came back."""
    if fault == "reorder":
        batch = rng.sample(batch, len(batch))
    result = sync.apply_push(sim.device.user, sim.device.id, batch)
    if fault == "crash":  # the server died before committing: nothing happened
        db.session.rollback()
        return
    db.session.commit()
    ledger.check(result)
    if fault == "lost_answer":  # committed, but the answer never reached the device
        return
    sim.acked.update(uuid.UUID(r["op_id"]) for r in result.results)
    if fault == "duplicate":
        again = sync.apply_push(sim.device.user, sim.device.id, batch)
        db.session.commit()
        ledger.check(again)


def test_random_drops_duplicates_reorders_and_delays_apply_every_op_exactly_once(app, make):
    rng = random.Random(20261201)
    area = make.area()
    staff, auditor = make.user("staff"), make.user("auditor")
    template = make.template(questions=6)
    questions = [q for q in template.questions if q.kind == "yes_no_na"]
    audit = make.audit(template, area, auditor)
    db.session.commit()
    sims = [SimDevice(FieldDevice(staff)), SimDevice(FieldDevice(auditor))]
    findings, responses, expect_status = _model_ops(rng, sims[0], sims[1], area, audit, questions)

    ledger = Ledger(expect_status)
    faults = ["none", "drop", "delay", "reorder", "duplicate", "lost_answer", "crash", "skip_ahead"]
    for _ in range(300):
        sim = rng.choice(sims)
        if sim.delayed and rng.random() < 0.3:
            _push(sim, sim.delayed.pop(rng.randrange(len(sim.delayed))), rng, "none", ledger)  # a late arrival
            continue
        pending = sim.pending()
        if not pending:
            continue
        size = rng.randint(1, 8)
        fault = rng.choice(faults)
        if fault == "drop":
            continue
        if fault == "delay":
            sim.delayed.append(pending[:size])
            continue
        if fault == "skip_ahead":  # a later batch overtakes an earlier one: a seq gap
            start = rng.randint(1, 3)
            _push(sim, pending[start:start + size], rng, "none", ledger)
            continue
        _push(sim, pending[:size], rng, fault, ledger)

    for sim in sims:  # the network heals: late arrivals land, then the outbox drains
        for batch in sim.delayed:
            _push(sim, batch, rng, "none", ledger)
        while sim.pending():
            _push(sim, sim.pending()[:50], rng, "none", ledger)

    assert ledger.processed == set(expect_status)
    db.session.expire_all()
    rows = db.session.scalars(select(SyncOp)).all()
    assert len(rows) == len(expect_status)
    assert {row.op_id: row.status for row in rows} == expect_status
    for sim in sims:
        assert db.session.get(Device, sim.device.id).last_seq == len(sim.ops)
    got = {str(f.id): {"title": f.title, "description": f.description, "version": f.version}
           for f in db.session.scalars(select(Finding))}
    assert got == findings
    got_responses = {str(r.question_id): r.value for r in db.session.scalars(select(Response))}
    assert got_responses == responses
    # No version of any record was published twice, and the trail's hash chain holds.
    published = db.session.execute(select(Change.entity, Change.entity_id, Change.version)).all()
    assert len(published) == len(set(published))
    assert trail.verify_chain() is None
