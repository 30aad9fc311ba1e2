"""Every entity a device syncs, declared once.

An entry says what the entity is (its model), how a pushed op is read and applied (its
field schema and handler), what a device may edit and what a supervisor applies when
taking the device's side of a conflict, how it is pulled (dump schema, who may see it,
its version) and which photos travel with it. Push, pull, conflicts and photo links all
read this table; nothing else lists the entities. The checklist for adding one is in
docs/SYNC.md.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter

import marshmallow as ma
from sqlalchemy import false

from ...models import (
    Audit,
    Comment,
    Conflict,
    CorrectiveAction,
    Document,
    DocumentAcknowledgement,
    Finding,
    Photo,
    PhotoLink,
    PhotoSubject,
    Response,
    Template,
    TemplateStatus,
)
from ...permissions import (
    can,
    scope_actions,
    scope_audits,
    scope_comments,
    scope_conflicts,
    scope_findings,
    scope_photos,
    scope_responses,
)
from ...schemas import fieldwork
from .. import actions, audits, documents, findings
from . import audiences, ops, rows


@dataclass(frozen=True)
class SyncedEntity:
    name: str
    model: type
    label: str  # what a person calls one, for messages: "answer", "corrective action"
    # Push: the op's fields (shape only), the handler, a device's edit of a record it holds,
    # and a supervisor taking the device's side of a conflict.
    fields: type[ma.Schema] | None = None
    apply: Callable | None = None
    edit: Callable | None = None
    accept_device_value: Callable | None = None
    # Pull: how a record is dumped, who may see it (the rule on a record, and the same rule
    # as a SQL condition for a user: pull and snapshot build payloads from rows, rows.py),
    # its version and the columns that version is read from, what to load with it.
    dump: type[ma.Schema] | None = None
    visible: Callable | None = None
    # None: the payload is worked out in Python from the ORM record (few per person).
    seen: Callable | None = None
    # Fields read apart from the record's row: (names, ids -> {id: {name: value}}).
    rows_extra: tuple | None = None
    version: Callable = attrgetter("version")
    version_columns: tuple = ("version",)
    # Pull: who a change of one is addressed to (audiences.py); a superset of `visible`.
    audiences: Callable | None = None
    key: str = "id"
    eager: tuple = ()
    # The photos it holds travel as `photos` in its payload; photo_link ops add to them.
    photos: PhotoSubject | None = None
    _loader: ma.Schema | None = field(default=None, init=False, repr=False, compare=False)
    _dumper: ma.Schema | None = field(default=None, init=False, repr=False, compare=False)
    _shape: rows.Shape | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        # Schemas keep no state while loading, so one instance serves every op.
        object.__setattr__(self, "_loader", self.fields() if self.fields else None)
        object.__setattr__(self, "_dumper", self.dump() if self.dump else None)

    @property
    def pushed(self) -> bool:
        return self.apply is not None

    @property
    def pulled(self) -> bool:
        return self.dump is not None

    def load_fields(self, data: dict, partial: bool = False) -> dict:
        """:raise ValidationError: when `data` has the wrong shape for this entity's op."""
        return self._loader.load(data, partial=partial)

    def dump_record(self, record) -> dict:
        return self._dumper.dump(record)

    @property
    def shape(self) -> rows.Shape:
        """The columns and converters its payload is built from (compiled once, on first use)."""
        if self._shape is None:
            object.__setattr__(self, "_shape", rows.shape_of(self))
        return self._shape


def _rule(action: str) -> Callable:
    return lambda user, record: can(user, action, record)


def _scoped(scope: Callable) -> Callable:
    """`scope` (a `permissions.scope_*`) as `seen`: nothing for an inactive account, as `can` answers."""
    return lambda user: scope(user) if user.active else false()


def _accept_response(user, response, changes):
    return audits.write_response(user, response, changes, None)


def _accept_audit(user, audit, changes):
    return audits.write_audit(user, audit, changes, None)


PULLED_TEMPLATES = (TemplateStatus.PUBLISHED, TemplateStatus.RETIRED)

ENTITIES: dict[str, SyncedEntity] = {entity.name: entity for entity in (
    SyncedEntity(
        "template", Template, "checklist",
        dump=fieldwork.TemplateSchema, eager=(Template.questions,),
        visible=lambda user, template: template.status in PULLED_TEMPLATES,
        seen=lambda user: Template.status.in_(PULLED_TEMPLATES),
        audiences=audiences.of_template,
    ),
    SyncedEntity(
        "audit", Audit, "audit",
        fields=fieldwork.AuditFieldsSchema, apply=ops.audit_op, edit=audits.edit_audit,
        accept_device_value=_accept_audit,
        dump=fieldwork.AuditSchema, seen=_scoped(scope_audits), visible=_rule("audit.view"), audiences=audiences.of_audit,
        eager=(Audit.signatures,), rows_extra=(("signatures",), rows.audit_signatures),
    ),
    SyncedEntity(
        "response", Response, "answer",
        fields=fieldwork.ResponseFieldsSchema, apply=ops.response_op, edit=audits.edit_response,
        accept_device_value=_accept_response,
        dump=fieldwork.ResponseSchema, seen=_scoped(scope_responses), visible=_rule("response.view"), eager=(Response.audit,),
        audiences=audiences.of_response,
        photos=PhotoSubject.RESPONSE,
    ),
    SyncedEntity(
        "finding", Finding, "finding",
        fields=fieldwork.FindingFieldsSchema, apply=ops.finding_op, edit=findings.edit_finding,
        accept_device_value=findings.edit_finding,
        dump=fieldwork.FindingSchema, seen=_scoped(scope_findings), visible=_rule("finding.view"), eager=(Finding.audit, Finding.actions),
        audiences=audiences.of_finding,
        photos=PhotoSubject.FINDING,
    ),
    SyncedEntity(
        "action", CorrectiveAction, "corrective action",
        fields=fieldwork.ActionFieldsSchema, apply=ops.action_op, edit=actions.record_progress,
        accept_device_value=actions.record_progress,
        dump=fieldwork.ActionSchema, seen=_scoped(scope_actions), visible=_rule("action.view"), eager=(CorrectiveAction.finding,),
        audiences=audiences.of_action,
        photos=PhotoSubject.ACTION,
    ),
    SyncedEntity(
        "comment", Comment, "comment",
        fields=fieldwork.CommentFieldsSchema, apply=ops.comment_op,
        dump=fieldwork.CommentSchema, seen=_scoped(scope_comments), visible=_rule("comment.view"), eager=(Comment.author,),
        audiences=audiences.of_comment,
    ),
    SyncedEntity(
        "photo", Photo, "photo", key="sha256", version=lambda photo: 1, version_columns=(),
        dump=fieldwork.PhotoSchema, seen=_scoped(scope_photos), visible=_rule("photo.view"), audiences=audiences.of_photo,
    ),
    SyncedEntity(
        "photo_link", PhotoLink, "photo link",
        fields=fieldwork.PhotoLinkFieldsSchema, apply=ops.photo_link_op,
    ),
    SyncedEntity(
        "document", Document, "document",
        dump=fieldwork.SyncedDocumentSchema, visible=documents.applies_to, audiences=audiences.of_document,
        eager=(Document.revisions, Document.areas, Document.sites),
    ),
    SyncedEntity(
        "acknowledgement", DocumentAcknowledgement, "acknowledgement", version=lambda acknowledgement: 1,
        fields=fieldwork.AcknowledgementFieldsSchema, apply=ops.acknowledgement_op,
        dump=fieldwork.SyncedAcknowledgementSchema, eager=(DocumentAcknowledgement.revision,),
        visible=lambda user, acknowledgement: acknowledgement.user_id == user.id,
        audiences=audiences.of_acknowledgement,
    ),
    SyncedEntity(
        "conflict", Conflict, "conflict", version=lambda conflict: 2 if conflict.resolved_at else 1,
        version_columns=("resolved_at",),
        dump=fieldwork.ConflictSchema, seen=_scoped(scope_conflicts), visible=_rule("conflict.view"), audiences=audiences.of_conflict,
    ),
)}

# The tables whose rows push ops create or edit, by entity: a batch loads them up front.
PUSHED_MODELS = {name: entity.model for name, entity in ENTITIES.items() if entity.pushed}
BY_PHOTO_SUBJECT = {entity.photos: entity for entity in ENTITIES.values() if entity.photos}


def holding_photos(subject) -> SyncedEntity:
    """The entity whose records hold photos as `subject` (response, finding, action)."""
    return BY_PHOTO_SUBJECT[PhotoSubject(subject)]
