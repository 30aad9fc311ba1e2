"""A push batch as the ops see it: the device, the user, and the records the batch touches."""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from ...extensions import db
from ...ids import uuid_or_none
from ...models import Area, Audit, Device, OpStatus, Question, Response, SyncOp, User
from ...textin import BAD_TEXT


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


def record_id(op: dict) -> str:
    """The op's record id as the server writes it (a device may send upper-case UUIDs)."""
    record_id = uuid_or_none(op["id"])
    return str(record_id) if record_id else BAD_TEXT.sub("", str(op["id"]))[:64]


class BatchRecords:
    """The records a batch's ops touch, loaded in a few queries rather than one per op.

    Knowing which ids are absent saves a query for every op that creates a record.
    """

    def __init__(self, ops: list[dict], models: dict[str, type]):
        self.models = models
        ids: dict[str, set] = {entity: set() for entity in models}
        audits, questions, areas = set(), set(), set()
        for op in ops:
            fields = op["fields"] if isinstance(op["fields"], dict) else {}
            if (record_id := uuid_or_none(op["id"])) and op["entity"] in models:
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
            model = models[entity]
            found = db.session.scalars(select(model).where(model.id.in_(wanted))).all()
            self.keep.extend(found)
            self.missing |= {(model, record_id) for record_id in wanted - {row.id for row in found}}
        audits |= ids["audit"]
        self.answers = {}
        self.audits: list[Audit] = []
        if audits:
            self.audits = db.session.scalars(select(Audit).where(Audit.id.in_(audits))).all()
            self.keep.extend(self.audits)
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
        model = self.models.get(entity)
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
    # The synced entity whose records hold photos of a subject (the registry, passed in).
    holding_photos: Callable
    versions: dict = field(default_factory=dict)  # (entity, id) -> version after this batch's last op on it

    def base_version(self, op: dict) -> int:
        """The version the device's edit is based on.

        A device that queued several edits of one record before hearing back sends null:
        its base is then what its own previous op on that record left.
        """
        if op.get("base_version") is not None:
            return op["base_version"]
        key = (op["entity"], record_id(op))
        if key in self.versions:
            return self.versions[key]
        previous = db.session.scalar(
            select(SyncOp.result).where(SyncOp.device_id == self.device.id, SyncOp.entity == op["entity"],
                                        SyncOp.entity_id == record_id(op),
                                        SyncOp.status.in_([OpStatus.APPLIED, OpStatus.CONFLICT]))
            .order_by(SyncOp.seq.desc()).limit(1)
        )
        return (previous or {}).get("version") or 0


