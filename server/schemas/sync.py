"""The sync wire contract: push, pull and bootstrap (see docs in DESIGN.md, issue 3).

A push op's `fields` are checked per entity by `fieldwork.*FieldsSchema` while the op is
applied, so one bad op is `rejected` on its own; only the envelope is checked here, and
a bad envelope refuses the whole request.
"""

import marshmallow as ma
from flask import current_app
from marshmallow import fields as f
from marshmallow import validate as v

from .accounts import UserSchema
from .fieldwork import TemplateSchema

OP_STATUSES = ["applied", "duplicate", "conflict", "rejected"]


class OpSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    op_id = f.UUID(required=True, metadata={"description": "Client-generated; unique per device"})
    seq = f.Integer(required=True, strict=True, validate=v.Range(min=1, max=2**62),
                    metadata={"description": "1, 2, 3, ... per device; applied in this order"})
    entity = f.String(required=True, validate=v.Length(min=1, max=40),
                      metadata={"description": "audit | response | finding | action | comment | photo_link"})
    id = f.String(required=True, validate=v.Length(min=1, max=64),
                  metadata={"description": "The record's client-generated UUID"})
    base_version = f.Integer(load_default=None, allow_none=True, strict=True, validate=v.Range(min=0, max=2**31 - 1),
                             metadata={"description": "The record's version the edit is based on; 0 or null for a new record"})
    fields = f.Dict(required=True, keys=f.String(), metadata={"description": "The fields the op sets"})
    at = f.AwareDateTime(load_default=None, allow_none=True, metadata={"description": "When the op was made, device clock"})


class PushRequestSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    device_id = f.UUID(required=True)
    ops = f.List(f.Nested(OpSchema), required=True)

    @ma.validates("ops")
    def _not_too_many(self, ops, **kwargs):
        limit = current_app.config["GEMBA_MAX_SYNC_OPS"]
        if len(ops) > limit:
            raise ma.ValidationError(f"At most {limit} ops per push; send the rest in another push.")


class ConflictRefSchema(ma.Schema):
    field = f.String()
    server_value = f.Raw(allow_none=True)
    device_value = f.Raw(allow_none=True)
    conflict_id = f.UUID()


class OpResultSchema(ma.Schema):
    op_id = f.UUID(required=True)
    status = f.String(required=True, validate=v.OneOf(OP_STATUSES))
    original_status = f.String(metadata={"description": "For a duplicate: the status the op got first"})
    version = f.Integer(metadata={"description": "The record's version after the op"})
    reason = f.String(metadata={"description": "Why the op was rejected, for a person"})
    code = f.String(metadata={"description": "Why the op was rejected, for a program"})
    fields = f.Dict(metadata={"description": "Per-field messages of a rejected op"})
    conflicts = f.List(f.Nested(ConflictRefSchema))


class PushResponseSchema(ma.Schema):
    results = f.List(f.Nested(OpResultSchema), required=True,
                     metadata={"description": "One per op processed; ops after a seq gap get none"})
    last_seq = f.Integer(required=True, metadata={"description": "The highest seq processed for this device"})


class WorkingSetQuerySchema(ma.Schema):
    sites = f.List(f.UUID(), load_default=list, validate=v.Length(max=200),
                   metadata={"description": "A reviewer's working set: these sites (repeat the parameter)"})
    areas = f.List(f.UUID(), load_default=list, validate=v.Length(max=500),
                   metadata={"description": "A reviewer's working set: these areas (repeat the parameter)"})


class PullQuerySchema(WorkingSetQuerySchema):
    cursor = f.Integer(load_default=0, validate=v.Range(min=0, max=2**63 - 1),
                       metadata={"description": "From the last page (or the snapshot's cursor)"})
    limit = f.Integer(load_default=200, validate=v.Range(min=1, max=500))
    scope = f.String(load_default=None, validate=v.Length(max=64),
                     metadata={"description": "The scope the snapshot was taken under; a changed one answers reset"})


class SnapshotQuerySchema(WorkingSetQuerySchema):
    token = f.String(load_default=None, validate=v.Length(max=200),
                     metadata={"description": "From the last page; none to start"})
    limit = f.Integer(load_default=500, validate=v.Range(min=1, max=500))
    days = f.Integer(load_default=None, validate=v.Range(min=1, max=3660),
                     metadata={"description": "A reviewer's window: open items and changes of the last N days (90)"})


class ChangeSchema(ma.Schema):
    entity = f.String(required=True)
    id = f.String(required=True)
    version = f.Integer(required=True)
    deleted = f.Boolean(required=True)
    fields = f.Dict(allow_none=True, metadata={"description": "The record now; null for a tombstone"})


class Changes(f.List):
    """A list of `ChangeSchema` that pull and snapshot have already built as its dump.

    Their changes are made from rows (`services/sync/rows.py`, `pull._tombstone`) as plain
    dicts of exactly `ChangeSchema`'s keys and types, so they go out as they are: dumping
    each of a page's 500 changes again, field by field, cost a first sync more than its SQL.
    `tests/server/services/test_sync_rows.py` checks they equal `ChangeSchema`'s dump.
    """

    def __init__(self, **kwargs):
        super().__init__(f.Nested(ChangeSchema), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else list(value)


class PullResponseSchema(ma.Schema):
    changes = Changes(required=True)
    cursor = f.Integer(required=True)
    more = f.Boolean(required=True)
    scope = f.String(metadata={"description": "What decides the person's audiences, as a fingerprint"})
    reset = f.Boolean(metadata={"description": "The scope changed: take a new snapshot"})


class SnapshotResponseSchema(ma.Schema):
    changes = Changes(required=True)
    cursor = f.Integer(required=True, attribute="position",
                       metadata={"description": "The feed position to pull from after the last page"})
    more = f.Boolean(required=True)
    token = f.String(allow_none=True, metadata={"description": "For the next page; null after the last"})
    scope = f.String(metadata={"description": "Send it back with every pull"})


class BootstrapAreaSchema(ma.Schema):
    id = f.UUID()
    name = f.String()
    code = f.String(metadata={"description": "The short code on the area's QR label; the field app looks it up offline"})
    site = f.String(attribute="site.name")
    site_id = f.UUID()
    timezone = f.String(attribute="site.timezone", metadata={"description": "The site's IANA time zone"})
    responsible_id = f.UUID(allow_none=True)  # who answers for the area; they may not audit it


class BootstrapSchema(ma.Schema):
    user = f.Nested(UserSchema)
    areas = f.List(f.Nested(BootstrapAreaSchema))
    templates = f.List(f.Nested(TemplateSchema))
    csrf_token = f.String()
    server_time = f.AwareDateTime()
