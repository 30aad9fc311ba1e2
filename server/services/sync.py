"""The sync engine: apply what devices push exactly once and in order; feed back what changed.

Push. Each device numbers its ops 1, 2, 3, ...; `Device.last_seq` is the highest one
processed. The device row is locked for the whole batch (SELECT ... FOR UPDATE on
PostgreSQL; SQLite serialises writers by itself), so two connections pushing the same
batch take turns and the second finds every op already there. A batch is first applied
in one SAVEPOINT, its rows written together at the end; almost every batch gets through
so. When any op breaks a rule (or clashes with a row) that savepoint is rolled back and
the batch runs again one SAVEPOINT per op: a rule an op breaks then rolls back that op
only, which is recorded as `rejected` so it never blocks the ops after it. Both passes
run the same handlers, so they give the same results. The caller commits the batch once.

Pull. The change feed is read in server order from a cursor (the last `Change.seq`
scanned, visible to the user or not), filtered by the same permission rules as every
other read, and each record appears once per page in its current state.
"""

import logging
import uuid
from dataclasses import dataclass, field

from marshmallow import ValidationError
from sqlalchemy import exists, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import selectinload

from ..errors import DomainError, Invalid, NotAllowed, NotFound, StateError
from ..extensions import db
from ..ids import uuid_or_none
from ..models import (
    Area,
    Audit,
    Change,
    Comment,
    Conflict,
    CorrectiveAction,
    Device,
    Finding,
    OpStatus,
    Photo,
    PhotoLink,
    PhotoSubject,
    Question,
    Response,
    SyncOp,
    Template,
    TemplateStatus,
    User,
    utcnow,
)
from ..permissions import can, is_reviewer, require
from ..schemas import fieldwork
from ..textin import MESSAGE as NUL_MESSAGE
from ..textin import NUL, has_nul
from . import actions, audits, comments, evidence, findings
from .merge import Edit, hold
from .serialise import lock_ordered_writes
from .together import queue, rows_together

log = logging.getLogger(__name__)

# Loading keeps no state in a schema, so one instance per entity serves every op.
FIELD_LOADERS = {entity: schema() for entity, schema in fieldwork.FIELDS_SCHEMAS.items()}
MAX_PULL = 500
SCAN_CHUNK = 500
# A pull stops scanning after this many feed rows even when few were visible, and says
# `more`; the next call goes on from there.
SCAN_LIMIT = 20 * SCAN_CHUNK


@dataclass
class Outcome:
    status: str
    version: int | None = None
    reason: str | None = None
    code: str | None = None
    fields: dict | None = None
    conflicts: list = field(default_factory=list)

    def result(self, op_id) -> dict:
        result = {"op_id": str(op_id), "status": self.status}
        for name in ("version", "reason", "code", "fields"):
            if getattr(self, name) is not None:
                result[name] = getattr(self, name)
        if self.conflicts:
            result["conflicts"] = self.conflicts
        return result


@dataclass
class Processed:
    """What an op got: the same two attributes as a stored SyncOp row."""

    status: str
    result: dict


@dataclass
class PushResult:
    results: list[dict]
    last_seq: int


# ---------------------------------------------------------------- push

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


MODELS = {"audit": Audit, "response": Response, "finding": Finding, "action": CorrectiveAction, "comment": Comment}


def _record_id(op: dict) -> str:
    """The op's record id as the server writes it (a device may send upper-case UUIDs)."""
    record_id = uuid_or_none(op["id"])
    return str(record_id) if record_id else str(op["id"]).replace(NUL, "")[:64]


class BatchRecords:
    """The records a batch's ops touch, loaded in a few queries rather than one per op.

    Knowing which ids are absent saves a query for every op that creates a record.
    """

    def __init__(self, ops: list[dict]):
        ids: dict[str, set] = {entity: set() for entity in MODELS}
        audits, questions, areas = set(), set(), set()
        for op in ops:
            fields = op["fields"] if isinstance(op["fields"], dict) else {}
            if (record_id := uuid_or_none(op["id"])) and op["entity"] in MODELS:
                ids[op["entity"]].add(record_id)
            for name, bucket in (("audit_id", audits), ("question_id", questions), ("area_id", areas)):
                if value := uuid_or_none(fields.get(name)):
                    bucket.add(value)
        self.keep: list = []  # strong references: the identity map only holds records weakly
        self.missing: set = set()
        self.created: dict = {}
        for entity, wanted in ids.items():
            if not wanted:
                continue
            model = MODELS[entity]
            found = db.session.scalars(select(model).where(model.id.in_(wanted))).all()
            self.keep.extend(found)
            self.missing |= {(model, record_id) for record_id in wanted - {row.id for row in found}}
        audits |= ids["audit"]
        self.answers = {}
        if audits:
            self.keep.extend(db.session.scalars(select(Audit).where(Audit.id.in_(audits))).all())
            for response in db.session.scalars(select(Response).where(Response.audit_id.in_(audits))):
                self.answers[(response.audit_id, response.question_id)] = response
                self.keep.append(response)
        for model, wanted in ((Question, questions), (Area, areas)):
            if wanted:
                self.keep.extend(db.session.scalars(select(model).where(model.id.in_(wanted))).all())

    def get(self, model, record_id):
        if (model, record_id) in self.missing:
            return None
        # A record an earlier op of the batch created may not be flushed yet.
        return self.created.get((model, record_id)) or db.session.get(model, record_id)

    def answer_for(self, response_id, fields: dict) -> Response | None:
        response = self.get(Response, response_id)
        if response is None:
            response = self.answers.get((fields.get("audit_id"), fields.get("question_id")))
        return response

    def applied(self, entity: str, record) -> None:
        """An op succeeded: its record exists from now on."""
        model = MODELS.get(entity)
        if model is not None and isinstance(record, model):
            self.missing.discard((model, record.id))
            self.created[(model, record.id)] = record
        if isinstance(record, Response):
            self.answers[(record.audit_id, record.question_id)] = record


@dataclass
class Batch:
    user: User
    device: Device
    records: BatchRecords
    versions: dict = field(default_factory=dict)  # (entity, id) -> version after this batch's last op on it

    def base_version(self, op: dict) -> int:
        """The version the device's edit is based on.

        A device that queued several edits of one record before hearing back sends null:
        its base is then what its own previous op on that record left.
        """
        if op.get("base_version") is not None:
            return op["base_version"]
        key = (op["entity"], _record_id(op))
        if key in self.versions:
            return self.versions[key]
        previous = db.session.scalar(
            select(SyncOp.result).where(SyncOp.device_id == self.device.id, SyncOp.entity == op["entity"],
                                        SyncOp.entity_id == _record_id(op),
                                        SyncOp.status.in_([OpStatus.APPLIED, OpStatus.CONFLICT]))
            .order_by(SyncOp.seq.desc()).limit(1)
        )
        return (previous or {}).get("version") or 0


def apply_push(user: User, device_id: uuid.UUID, ops: list[dict]) -> PushResult:
    """Apply `ops` from `device_id` in seq order; one result per op processed.

    An op already processed gets `duplicate` with the result it got the first time. A
    gap in seq stops processing: ops after it get no result and `last_seq` says where
    the device must resume. Flushes; the caller commits.
    :raise NotAllowed: when the device belongs to another user (nothing is applied).
    """
    device = claim_device(user, device_id)
    lock_ordered_writes()  # outside any savepoint, so a rolled-back op cannot release it
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
            batch = Batch(user, device, BatchRecords(fresh))
            results, last_seq = _run(batch, ops, dict(stored), _apply_in_batch)
    except IntegrityError:  # an op clashed with a row: the slow pass finds which
        results = None
    except SQLAlchemyError:
        raise  # the database failed, not an op: answer 5xx so the device retries the batch
    except Exception:  # an op broke a rule (or met a bug): the slow pass finds which
        results = None
    if results is None:
        batch = Batch(user, device, BatchRecords(fresh))
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
            batch.versions[(op["entity"], _record_id(op))] = row.result["version"]
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
            "entity_id": _record_id(op), "status": status, "result": result,
            "device_at": op.get("at"), "received_at": utcnow()}


def _already_recorded(device: Device, op: dict) -> Processed:
    """Another connection recorded this op first: answer with what it got."""
    row = db.session.scalar(select(SyncOp).where(SyncOp.device_id == device.id, SyncOp.op_id == op["op_id"]))
    return Processed(OpStatus.DUPLICATE,
                     _duplicate(row) if row else {"op_id": str(op["op_id"]), "status": "duplicate"})


def _apply(batch: Batch, op: dict):
    """Run the op's handler; return its outcome and the record it touched."""
    schema = FIELD_LOADERS[op["entity"]]
    entity_id = uuid_or_none(op["id"])
    if entity_id is None:
        raise Invalid("The record id is not a UUID.", {"id": ["Not a UUID."]})
    if has_nul(op["fields"]):
        raise Invalid(NUL_MESSAGE, {"fields": ["Contains a NUL character."]})
    try:
        fields = schema.load(op["fields"])
    except ValidationError as exc:  # the op is bad, not the request: reject this op only
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise Invalid("Some fields are not valid.", messages) from None
    return HANDLERS[op["entity"]](batch, op, entity_id, fields)


def _outcome(batch: Batch, op: dict, entity: str, edit: Edit, base: int, area_id):
    conflicts = hold(batch.user, entity, edit.record, edit.held, base, device_id=batch.device.id,
                     op_id=op["op_id"], area_id=area_id)
    if not conflicts:
        return Outcome(OpStatus.APPLIED, version=edit.record.version), edit.record
    return Outcome(OpStatus.CONFLICT, version=edit.record.version, conflicts=[
        {"field": c.field, "server_value": c.server_value, "device_value": c.device_value, "conflict_id": str(c.id)}
        for c in conflicts
    ]), edit.record


def _audit_op(batch: Batch, op, audit_id, fields):
    user, device = batch.user, batch.device
    audit = batch.records.get(Audit, audit_id)
    status = fields.get("status")
    if audit is None:
        if not fields.get("template_id") or not fields.get("area_id"):
            raise NotFound("There is no such audit. An ad-hoc audit needs template_id and area_id.")
        audit = audits.create_adhoc_audit(user, audit_id, fields["template_id"], fields["area_id"],
                                          at=op.get("at"), device_id=device.id)
        if fields.get("summary"):
            audits.edit_audit(user, audit, {"summary": fields["summary"]}, None, device.id)
        if status == "submitted":
            audits.submit_audit(user, audit, device_id=device.id)
        return Outcome(OpStatus.APPLIED, version=audit.version), audit
    for name in ("template_id", "area_id"):
        if name in fields and fields[name] != getattr(audit, name):
            raise Invalid("The audit is not valid.", {name: ["Fixed when the audit was created."]})
    base = batch.base_version(op)
    edit = Edit(audit)
    if "summary" in fields:
        edit = audits.edit_audit(user, audit, {"summary": fields["summary"]}, base, device.id)
    if status == "in_progress":
        audits.start_audit(user, audit, at=op.get("at"), device_id=device.id)
    elif status == "submitted":
        audits.submit_audit(user, audit, device_id=device.id)
    elif status is None and "summary" not in fields:
        require(user, "audit.work", audit)
    return _outcome(batch, op, "audit", edit, base, audit.area_id)


def _response_op(batch: Batch, op, response_id, fields):
    existing = batch.records.answer_for(response_id, fields)
    base = op.get("base_version")
    if existing is not None and existing.id == response_id:
        base = batch.base_version(op)
    edit = audits.record_response(batch.user, response_id, fields, base, batch.device.id, existing=existing)
    # By id: a new answer is not flushed yet, so its relationship to the audit is not loaded.
    audit = batch.records.get(Audit, edit.record.audit_id)
    return _outcome(batch, op, "response", edit, base or 0, audit.area_id)


def _finding_op(batch: Batch, op, finding_id, fields):
    finding = batch.records.get(Finding, finding_id)
    if finding is None:
        finding = findings.raise_finding(batch.user, finding_id, fields, device_id=batch.device.id)
        return Outcome(OpStatus.APPLIED, version=finding.version), finding
    base = batch.base_version(op)
    edit = findings.edit_finding(batch.user, finding, fields, base, device_id=batch.device.id)
    return _outcome(batch, op, "finding", edit, base, finding.area_id)


def _action_op(batch: Batch, op, action_id, fields):
    action = batch.records.get(CorrectiveAction, action_id)
    if action is None:
        raise NotFound("There is no such corrective action; actions are planned in the register.")
    base = batch.base_version(op)
    edit = actions.record_progress(batch.user, action, fields, base, device_id=batch.device.id)
    return _outcome(batch, op, "action", edit, base, action.finding.area_id)


def _comment_op(batch: Batch, op, comment_id, fields):
    comment = batch.records.get(Comment, comment_id)
    if comment is not None:
        same = (comment.author_id == batch.user.id and comment.body == (fields.get("body") or "").strip()
                and comment.audit_id == fields.get("audit_id") and comment.finding_id == fields.get("finding_id"))
        if not same:
            raise StateError("A comment cannot be changed once it was sent.")
        return Outcome(OpStatus.APPLIED, version=comment.version), comment
    comment = comments.comment_from_device(batch.user, comment_id, fields, device_id=batch.device.id)
    return Outcome(OpStatus.APPLIED, version=comment.version), comment


def _photo_link_op(batch: Batch, op, link_id, fields):
    """Add one photo to a response, finding or action, through the subject's own rules."""
    user, device = batch.user, batch.device
    subject, subject_id = fields["subject"], fields["subject_id"]
    sha = evidence.check_hashes([fields["sha256"]])[0]
    if subject == PhotoSubject.RESPONSE:
        record = db.session.get(Response, subject_id)
        if record is None:
            raise NotFound("There is no such answer.")
        require(user, "audit.work", record.audit)
        photos = evidence.photos_of(PhotoSubject.RESPONSE, record.id)
        edit = audits.write_response(user, record, {"photos": photos + [sha]}, None, device.id)
    elif subject == PhotoSubject.FINDING:
        record = db.session.get(Finding, subject_id)
        if record is None:
            raise NotFound("There is no such finding.")
        photos = evidence.photos_of(PhotoSubject.FINDING, record.id)
        edit = findings.edit_finding(user, record, {"photos": photos + [sha]}, None, device_id=device.id)
    else:
        record = db.session.get(CorrectiveAction, subject_id)
        if record is None:
            raise NotFound("There is no such corrective action.")
        photos = evidence.photos_of(PhotoSubject.ACTION, record.id)
        edit = actions.record_progress(user, record, {"photos": photos + [sha]}, None, device_id=device.id)
    return Outcome(OpStatus.APPLIED, version=edit.record.version), None


HANDLERS = {
    "audit": _audit_op,
    "response": _response_op,
    "finding": _finding_op,
    "action": _action_op,
    "comment": _comment_op,
    "photo_link": _photo_link_op,
}


# ---------------------------------------------------------------- pull

@dataclass
class PullPage:
    changes: list[dict]
    cursor: int
    more: bool


def pull(user: User, cursor: int = 0, limit: int = 200) -> PullPage:
    """The changes after `cursor` that `user` may see, each record once in its latest state."""
    limit = max(1, min(limit, MAX_PULL))
    picked: dict[tuple[str, str], dict] = {}
    scanned_to = cursor
    scanned = 0
    full = False
    while not full and scanned < SCAN_LIMIT:
        rows = db.session.scalars(
            select(Change).where(Change.seq > scanned_to).order_by(Change.seq).limit(SCAN_CHUNK)
        ).all()
        if not rows:
            break
        payloads = _payloads(user, rows)
        for row in rows:
            key = (row.entity, row.entity_id)
            if key not in picked and len(picked) >= limit:
                full = True
                break
            scanned_to = row.seq
            scanned += 1
            payload = payloads.get(key)
            if payload is not None:
                picked.pop(key, None)  # keep each record at its latest position
                picked[key] = payload
        if len(rows) < SCAN_CHUNK:
            break
    more = full or bool(db.session.scalar(select(exists().where(Change.seq > scanned_to))))
    return PullPage(list(picked.values()), scanned_to, more)


def _tombstone(entity: str, entity_id: str, version: int) -> dict:
    return {"entity": entity, "id": entity_id, "version": version, "deleted": True, "fields": None}


def _change(entity: str, entity_id: str, version: int, fields: dict) -> dict:
    return {"entity": entity, "id": entity_id, "version": version, "deleted": False, "fields": fields}


def _uuids(ids) -> list[uuid.UUID]:
    return [record_id for record_id in map(uuid_or_none, ids) if record_id is not None]


def _photos_by_subject(subject: PhotoSubject, ids) -> dict:
    photos: dict = {}
    if not ids:
        return photos
    for link in db.session.scalars(
        select(PhotoLink).where(PhotoLink.subject == subject, PhotoLink.subject_id.in_(ids)).order_by(PhotoLink.position)
    ):
        photos.setdefault(link.subject_id, []).append(link.photo_sha256)
    return photos


def _payloads(user: User, rows: list[Change]) -> dict:
    """The payload each (entity, id) in `rows` shows `user`, or nothing when it is not theirs."""
    by_entity: dict[str, set[str]] = {}
    hints: dict[tuple[str, str], Change] = {}
    concerned: set[tuple[str, str]] = set()  # a change in these rows was about this user
    for row in rows:
        by_entity.setdefault(row.entity, set()).add(row.entity_id)
        hints[(row.entity, row.entity_id)] = row
        if row.user_id == user.id:
            concerned.add((row.entity, row.entity_id))
    payloads = {}
    for entity, ids in by_entity.items():
        loader = LOADERS.get(entity)
        if loader is None:
            continue
        found = loader(user, ids)
        for entity_id in ids:
            hint = hints[(entity, entity_id)]
            key = (entity, entity_id)
            if hint.deleted or entity_id not in found:
                # Gone from the server: tell whoever it concerned to drop their copy.
                if is_reviewer(user) or key in concerned:
                    payloads[key] = _tombstone(entity, entity_id, hint.version)
            elif found[entity_id] is not None:
                payloads[key] = found[entity_id]
            elif key in concerned:
                # It concerned this user and they may no longer see it (an audit given to
                # another auditor, an action to another owner): their device drops its copy.
                payloads[key] = _tombstone(entity, entity_id, hint.version)
    return payloads


def _load_templates(user, ids) -> dict:
    rows = db.session.scalars(
        select(Template).options(selectinload(Template.questions)).where(Template.id.in_(_uuids(ids)))
    ).all()
    schema = fieldwork.TemplateSchema()
    return {
        str(t.id): _change("template", str(t.id), t.version, schema.dump(t))
        if t.status in (TemplateStatus.PUBLISHED, TemplateStatus.RETIRED) else None
        for t in rows
    }


def _load_audits(user, ids) -> dict:
    rows = db.session.scalars(select(Audit).where(Audit.id.in_(_uuids(ids)))).all()
    schema = fieldwork.AuditSchema()
    return {str(a.id): _change("audit", str(a.id), a.version, schema.dump(a)) if can(user, "audit.view", a) else None
            for a in rows}


def _load_responses(user, ids) -> dict:
    rows = db.session.scalars(
        select(Response).options(selectinload(Response.audit)).where(Response.id.in_(_uuids(ids)))
    ).all()
    photos = _photos_by_subject(PhotoSubject.RESPONSE, [r.id for r in rows])
    schema = fieldwork.ResponseSchema()
    out = {}
    for r in rows:
        if can(user, "audit.view", r.audit):
            out[str(r.id)] = _change("response", str(r.id), r.version, schema.dump(r) | {"photos": photos.get(r.id, [])})
        else:
            out[str(r.id)] = None
    return out


def _load_findings(user, ids) -> dict:
    rows = db.session.scalars(
        select(Finding).options(selectinload(Finding.audit), selectinload(Finding.actions))
        .where(Finding.id.in_(_uuids(ids)))
    ).all()
    photos = _photos_by_subject(PhotoSubject.FINDING, [f.id for f in rows])
    schema = fieldwork.FindingSchema()
    out = {}
    for f in rows:
        if can(user, "finding.view", f):
            out[str(f.id)] = _change("finding", str(f.id), f.version, schema.dump(f) | {"photos": photos.get(f.id, [])})
        else:
            out[str(f.id)] = None
    return out


def _load_actions(user, ids) -> dict:
    rows = db.session.scalars(
        select(CorrectiveAction).options(selectinload(CorrectiveAction.finding))
        .where(CorrectiveAction.id.in_(_uuids(ids)))
    ).all()
    photos = _photos_by_subject(PhotoSubject.ACTION, [a.id for a in rows])
    schema = fieldwork.ActionSchema()
    out = {}
    for a in rows:
        if can(user, "action.view", a):
            out[str(a.id)] = _change("action", str(a.id), a.version, schema.dump(a) | {"photos": photos.get(a.id, [])})
        else:
            out[str(a.id)] = None
    return out


def _load_comments(user, ids) -> dict:
    rows = db.session.scalars(
        select(Comment).options(selectinload(Comment.author)).where(Comment.id.in_(_uuids(ids)))
    ).all()
    schema = fieldwork.CommentSchema()
    return {
        str(c.id): _change("comment", str(c.id), c.version, schema.dump(c)) if comments.may_see(user, c) else None
        for c in rows
    }


def _load_photos(user, ids) -> dict:
    rows = db.session.scalars(select(Photo).where(Photo.sha256.in_(list(ids)))).all()
    schema = fieldwork.PhotoSchema()
    out = {}
    for photo in rows:
        visible = is_reviewer(user) or photo.uploaded_by_id == user.id or _photo_seen_by(user, photo.sha256)
        out[photo.sha256] = _change("photo", photo.sha256, 1, schema.dump(photo)) if visible else None
    return out


def _photo_seen_by(user: User, sha256: str) -> bool:
    for link in db.session.scalars(select(PhotoLink).where(PhotoLink.photo_sha256 == sha256).limit(20)):
        if link.subject == PhotoSubject.RESPONSE:
            response = db.session.get(Response, link.subject_id)
            if response is not None and can(user, "audit.view", response.audit):
                return True
        elif link.subject == PhotoSubject.FINDING:
            finding = db.session.get(Finding, link.subject_id)
            if finding is not None and can(user, "finding.view", finding):
                return True
        else:
            action = db.session.get(CorrectiveAction, link.subject_id)
            if action is not None and can(user, "action.view", action):
                return True
    return False


def _load_conflicts(user, ids) -> dict:
    rows = db.session.scalars(select(Conflict).where(Conflict.id.in_(_uuids(ids)))).all()
    schema = fieldwork.ConflictSchema()
    return {
        str(c.id): _change("conflict", str(c.id), 2 if c.resolved_at else 1, schema.dump(c))
        if can(user, "conflict.resolve") or c.user_id == user.id else None
        for c in rows
    }


LOADERS = {
    "template": _load_templates,
    "audit": _load_audits,
    "response": _load_responses,
    "finding": _load_findings,
    "action": _load_actions,
    "comment": _load_comments,
    "photo": _load_photos,
    "conflict": _load_conflicts,
}


# ---------------------------------------------------------------- bootstrap

def bootstrap(user: User) -> dict:
    """What a device needs before it goes offline: who, where, which checklists."""
    areas = db.session.scalars(select(Area).order_by(Area.site, Area.name)).all()
    templates = db.session.scalars(
        select(Template).options(selectinload(Template.questions))
        .where(Template.status == TemplateStatus.PUBLISHED).order_by(Template.name, Template.version)
    ).all()
    return {"user": user, "areas": areas, "templates": templates, "server_time": utcnow()}
