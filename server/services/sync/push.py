"""Push: apply what a device sends exactly once and in seq order.

Each device numbers its ops 1, 2, 3, ...; `Device.last_seq` is the highest one
processed. The device row is locked for the whole batch (SELECT ... FOR UPDATE on
PostgreSQL; SQLite serialises writers by itself), so two connections pushing the same
batch take turns and the second finds every op already there. A batch is first applied
in one SAVEPOINT, its rows written together at the end; almost every batch gets through
so. When any op breaks a rule (or clashes with a row) that savepoint is rolled back and
the batch runs again one SAVEPOINT per op: a rule an op breaks then rolls back that op
only, which is recorded as `rejected` so it never blocks the ops after it. Both passes
run the same handlers, so they give the same results. The caller commits the batch once.
"""

import logging
import uuid
from dataclasses import dataclass

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ...errors import DomainError, Invalid, NotAllowed
from ...extensions import db
from ...ids import uuid_or_none
from ...models import Device, OpStatus, SyncOp, User, utcnow
from ...textin import BadText, problem
from .. import evidence, feed
from ..serialise import lock_ordered_writes
from ..together import queue, rows_together
from .batch import Batch, BatchRecords, Outcome, record_id
from .entities import ENTITIES, PUSHED_MODELS, holding_photos

log = logging.getLogger(__name__)


class UnknownEntity(DomainError):
    status = 400
    code = "unknown_entity"


@dataclass
class Processed:
    """What an op got: the same two attributes as a stored SyncOp row."""

    status: str
    result: dict


@dataclass
class PushResult:
    results: list[dict]
    last_seq: int


def claim_device(user: User, device_id: uuid.UUID) -> Device:
    """Return the device row, locked for this transaction; the first user to push owns it.

    :raise NotAllowed: when the device belongs to someone else.
    """
    now = utcnow()
    upsert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # The write comes first: on SQLite it takes the database's write lock before we read.
    db.session.execute(
        upsert(Device)
        .values(id=device_id, user_id=user.id, label="", last_seq=0, created_at=now, last_seen_at=now)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    device = db.session.scalar(
        select(Device).where(Device.id == device_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if device.user_id != user.id:
        raise NotAllowed("This device is registered to another user. Sign out on it, clear its data, "
                         "and sign in again.", code="device_owner")
    return device


def apply_push(user: User, device_id: uuid.UUID, ops: list[dict]) -> PushResult:
    """Apply `ops` from `device_id` in seq order; one result per op processed.

    An op already processed gets `duplicate` with the result it got the first time. A
    gap in seq stops processing: ops after it get no result and `last_seq` says where
    the device must resume. Flushes; the caller commits.
    :raise NotAllowed: when the device belongs to another user (nothing is applied).
    :raise UnknownEntity: when an op names an entity devices do not push (nothing is applied).
    """
    unknown = {f"ops.{index}.entity": ["Not an entity devices push."]
               for index, op in enumerate(ops) if ENTITIES.get(op["entity"]) is None or not ENTITIES[op["entity"]].pushed}
    if unknown:
        raise UnknownEntity(f"Devices push only {', '.join(sorted(n for n, e in ENTITIES.items() if e.pushed))}.",
                            unknown)
    device = claim_device(user, device_id)
    if current_app.config.get("GEMBA_PUSH_LOCK_WHOLE_BATCH"):
        lock_ordered_writes()  # the behaviour before issue 12, kept for the benchmark's comparison
    ops = sorted(ops, key=lambda op: op["seq"])
    stored = {
        row.op_id: row
        for row in db.session.scalars(
            select(SyncOp).where(SyncOp.device_id == device.id, SyncOp.op_id.in_({op["op_id"] for op in ops}))
        )
    } if ops else {}
    fresh = [op for op in ops if op["op_id"] not in stored]
    try:
        with db.session.begin_nested(), rows_together():
            batch = Batch(user, device, BatchRecords(fresh, PUSHED_MODELS), holding_photos)
            feed.prefetch_audiences([(op["entity"], record_id(op)) for op in fresh]
                                    + [("audit", audit.id) for audit in batch.records.audits])
            results, last_seq = _run(batch, ops, dict(stored), _apply_in_batch)
    except IntegrityError:  # an op clashed with a row: the slow pass finds which
        results = None
    except SQLAlchemyError:
        raise  # the database failed, not an op: answer 5xx so the device retries the batch
    except Exception:  # an op broke a rule (or met a bug): the slow pass finds which
        results = None
    if results is None:
        lock_ordered_writes()  # outside the per-op savepoints, so a rolled-back op cannot release it
        batch = Batch(user, device, BatchRecords(fresh, PUSHED_MODELS), holding_photos)
        results, last_seq = _run(batch, ops, stored, _process)
    device.last_seq = last_seq
    device.last_seen_at = utcnow()
    db.session.flush()
    return PushResult(results, device.last_seq)


def _run(batch: Batch, ops: list[dict], stored: dict, step) -> tuple[list[dict], int]:
    """Take `ops` in seq order through `step`; return their results and the last seq processed."""
    # Kept in a local and written once: a dirty device row would be flushed before every savepoint.
    last_seq = batch.device.last_seq
    results = []
    for op in ops:
        row = stored.get(op["op_id"])
        if row is not None:
            results.append(_duplicate(row))
            continue
        if op["seq"] <= last_seq:
            # Never stored: the seq belongs to another op. The device is confused; say so.
            results.append(Outcome(OpStatus.REJECTED, reason=f"Seq {op['seq']} was already used by another op.",
                                   code="seq_reused").result(op["op_id"]))
            continue
        if op["seq"] > last_seq + 1:
            break
        row = step(batch, op)
        stored[op["op_id"]] = row
        if row.status == OpStatus.DUPLICATE:
            results.append(row.result)
            continue
        last_seq = op["seq"]
        if row.result.get("version") is not None:
            batch.versions[(op["entity"], record_id(op))] = row.result["version"]
        results.append(row.result)
    return results, last_seq


def _duplicate(row: SyncOp) -> dict:
    result = dict(row.result)
    result["original_status"] = result.get("status")
    result["status"] = OpStatus.DUPLICATE.value
    return result


def _apply_in_batch(batch: Batch, op: dict) -> Processed:
    """The fast pass: apply one op with no savepoint of its own; any error ends the pass."""
    outcome, record = _apply(batch, op)
    batch.records.applied(op["entity"], record)
    result = outcome.result(op["op_id"])
    queue(SyncOp.__table__, _sync_row(batch.device, op, outcome.status, result))
    return Processed(outcome.status, result)


def _process(batch: Batch, op: dict) -> Processed:
    """Apply one op inside a savepoint and record its result with it."""
    stage = "apply"
    try:
        with db.session.begin_nested():
            # Without autoflush the op's rows go out together when the trail flushes its
            # event, not once more when the trail first reads the previous event.
            with db.session.no_autoflush:
                outcome, record = _apply(batch, op)
            db.session.flush()
            stage = "record"
            row = _record(batch.device, op, outcome)
        batch.records.applied(op["entity"], record)
        return row
    except DomainError as exc:
        outcome = Outcome(OpStatus.REJECTED, reason=exc.message, code=exc.code, fields=exc.fields)
    except IntegrityError:
        if stage == "record":
            return _already_recorded(batch.device, op)
        outcome = Outcome(OpStatus.REJECTED, reason="This record clashes with one already on the server.",
                          code="integrity")
    except SQLAlchemyError:
        raise  # the database failed, not the op: answer 5xx so the device retries the batch
    except Exception:
        # A bug met by this op must not block every op behind it for ever; it is logged,
        # and the op shows under "needs attention" on the device.
        log.exception("sync op %s (%s) failed", op["op_id"], op["entity"])
        outcome = Outcome(OpStatus.REJECTED, reason="The server could not process this change.",
                          code="server_error")
    try:
        with db.session.begin_nested():
            return _record(batch.device, op, outcome)
    except IntegrityError:
        return _already_recorded(batch.device, op)


def _record(device: Device, op: dict, outcome: Outcome) -> Processed:
    # A Core insert: one op's bookkeeping row needs none of the unit of work's machinery.
    result = outcome.result(op["op_id"])
    db.session.execute(insert(SyncOp.__table__), [_sync_row(device, op, outcome.status, result)])
    return Processed(outcome.status, result)


def _sync_row(device: Device, op: dict, status: str, result: dict) -> dict:
    return {"device_id": device.id, "op_id": op["op_id"], "seq": op["seq"], "entity": op["entity"],
            "entity_id": record_id(op), "status": status, "result": result,
            "device_at": op.get("at"), "received_at": utcnow()}


def _already_recorded(device: Device, op: dict) -> Processed:
    """Another connection recorded this op first: answer with what it got."""
    row = db.session.scalar(select(SyncOp).where(SyncOp.device_id == device.id, SyncOp.op_id == op["op_id"]))
    return Processed(OpStatus.DUPLICATE,
                     _duplicate(row) if row else {"op_id": str(op["op_id"]), "status": "duplicate"})


def _apply(batch: Batch, op: dict):
    """Run the op's handler; return its outcome and the record it touched."""
    entity = ENTITIES[op["entity"]]
    entity_id = uuid_or_none(op["id"])
    if entity_id is None:
        raise Invalid("The record id is not a UUID.", {"id": ["Not a UUID."]})
    if (found := problem(op["fields"])) is not None:  # text the database cannot store: this op only
        raise BadText(found, "fields")
    try:
        fields = entity.load_fields(op["fields"])
    except ValidationError as exc:  # the op is bad, not the request: reject this op only
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise Invalid("Some fields are not valid.", messages) from None
    # Capture times ride along with the photos a record holds; they are not its fields.
    taken = evidence.capture_times(fields.pop("photo_taken", None))
    # So do annotations: which of its photos is a copy drawn on which other.
    annotated = evidence.annotations(fields.pop("photo_annotates", None), fields.get("photos"))
    result = entity.apply(batch, op, entity_id, fields)
    if taken:
        evidence.note_capture_times(taken, fields.get("photos"))
    if annotated:
        evidence.note_annotations(annotated)
    return result


