"""A device as the sync tests see it: it numbers its ops and pushes them like the field app."""

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from server.extensions import db
from server.models import Change, Comment, Conflict, Device, Event, Finding, Response, SyncOp
from server.services import sync

SHA_A = "a" * 64
SHA_B = "b" * 64


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class FieldDevice:
    """One tablet or phone: a device id, a user, and the next seq."""

    def __init__(self, user, device_id: uuid.UUID | None = None):
        self.user = user
        self.id = device_id or uuid.uuid4()
        self.seq = 0

    def op(self, entity: str, record_id=None, base_version=None, **fields) -> dict:
        self.seq += 1
        return {
            "op_id": uuid.uuid4(),
            "seq": self.seq,
            "entity": entity,
            "id": str(record_id or uuid.uuid4()),
            "base_version": base_version,
            "fields": json.loads(json.dumps(fields, default=str)),
            "at": datetime.now(UTC),
        }

    def finding(self, area, record_id=None, base_version=None, **fields) -> dict:
        values = {"kind": "minor_nc", "title": "Guard missing on press 4", "area_id": str(area.id),
                  "raised_at": now_iso(), "photos": []} | fields
        return self.op("finding", record_id, base_version, **values)

    def response(self, audit, question, value, record_id=None, base_version=None, **fields) -> dict:
        values = {"audit_id": str(audit.id), "question_id": str(question.id), "value": value} | fields
        return self.op("response", record_id, base_version, **values)

    def push(self, ops, commit: bool = True) -> sync.PushResult:
        result = sync.apply_push(self.user, self.id, ops)
        if commit:
            db.session.commit()
        return result


def wire(op: dict) -> dict:
    """An op as JSON on the wire."""
    return json.loads(json.dumps(op, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)))


def statuses(result) -> list[str]:
    return [r["status"] for r in result.results]


COUNTED = (Finding, Response, Comment, SyncOp, Change, Event, Conflict, Device)


def row_counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in COUNTED}
