"""Pulled records straight from rows: the payloads of pull and snapshot without ORM objects.

A record's payload is what its dump schema (`server/schemas/fieldwork.py`) says; this
module reads the schema once and compiles, for each pulled entity, a Core select of
exactly the columns those fields name (a dotted attribute such as `finding.title` joins
its relationship; a nested list such as a checklist's `questions` is one more select),
and a converter per field that writes the value as marshmallow would. Who may see a
record is a column of the same select, from the `scope_*` conditions in
`server/permissions.py` that agree with the `*.view` rules. Loading any number of
records of one entity is one select, plus one for the photos they hold (and one for a
checklist's questions): the statements do not grow with the records.

`tests/server/services/test_sync_rows.py` compares every entity's payloads, and who may
see them, with the schema's dump of the ORM record, so the two cannot drift apart.
"""

from collections.abc import Callable
from dataclasses import dataclass

from marshmallow import fields as f
from sqlalchemy import ARRAY, BigInteger, Boolean, Integer, String, Text, Uuid, any_, bindparam, case, cast, inspect, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...ids import uuid_or_none
from ...models import PhotoLink, PhotoSubject, User

KEY = "sync_key"
SEEN = "sync_seen"


def _text(value):
    return None if value is None else str(value)


def _iso(value):
    return None if value is None else value.isoformat()


def _number(kind):
    return lambda value: None if value is None else kind(value)


_INT, _BOOL = _number(int), _number(bool)


def _same(value):
    return value


def _as_read(convert, kind) -> bool:
    """Whether a column of type `kind` is read as `convert` would write it (None stays None)."""
    if convert is _same:
        return True
    if convert is _text:
        return kind in (String, Text)
    return (convert is _INT and kind in (Integer, BigInteger)) or (convert is _BOOL and kind is Boolean)


def _converter(field: f.Field) -> Callable:
    """A function writing a column's value as `field` dumps it (None stays None)."""
    if isinstance(field, (f.UUID, f.String)):
        return _text
    if isinstance(field, (f.DateTime, f.Date)):  # AwareDateTime and Date are DateTimes
        return _iso
    if isinstance(field, f.Integer):
        return _INT
    if isinstance(field, f.Float):
        return _number(float)
    if isinstance(field, f.Boolean):
        return _BOOL
    if isinstance(field, f.List):
        inner = _converter(field.inner)
        return lambda value: None if value is None else [inner(item) for item in value]
    if isinstance(field, f.Dict) and field.key_field is None and field.value_field is None:
        return lambda value: None if value is None else dict(value)
    if type(field) is f.Raw:
        return _same
    # Anything else: the field's own conversion, without the schema around it.
    return lambda value: None if value is None else field._serialize(value, field.name, None)


@dataclass
class _Nested:
    """A list of records held by each record (a checklist's questions), read in one select."""
    name: str
    shape: "Shape"
    parent: object  # the child's column naming its parent
    order: list


def among(column, keys):
    """`column` is one of `keys`. On PostgreSQL one array parameter (`= ANY(...)`): an IN list
    of a page's hundreds of keys was a statement of as many parameters, whose text (new for
    each length) the driver parsed and the server planned afresh on every page, taking longer
    than the lookup itself. Elsewhere an IN list.
    """
    keys = list(keys)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, keys, type_=ARRAY(column.type)))
    return column.in_(keys)


class Shape:
    """The columns and converters of one dump schema on one model.

    A field whose column the driver already returns as the schema dumps it (text, an
    integer, a boolean; on PostgreSQL a UUID read as text) is taken as it is; only the
    others (dates, UUIDs on SQLite, floats, JSON copies) go through their converter: a
    first sync writes tens of thousands of records, and a call per field was most of
    its time in Python.
    """

    def __init__(self, schema, model, key: str = "id", extra: tuple = (), skip: tuple = ()):
        self.model = model
        self.key = getattr(model, key)
        self.fields: list[tuple[str, Callable]] = []
        self.nested: list[_Nested] = []
        self.joins = []
        self._columns = []  # the fields' columns, in the order of `fields`
        self._plans: dict = {}  # by dialect: (columns, conversions)
        relationships = inspect(model).relationships
        for name, field in schema().fields.items():
            if name in skip:
                continue
            attribute = field.attribute or name
            if isinstance(field, f.List) and isinstance(field.inner, f.Nested):
                relation = relationships[attribute]
                child = relation.mapper.class_
                (_, remote), = relation.local_remote_pairs
                order = list(relation.order_by or ())
                self.nested.append(_Nested(name, Shape(field.inner.nested, child), getattr(child, remote.key), order))
                continue
            if "." in attribute:
                relation_name, column = attribute.split(".", 1)
                target = aliased(relationships[relation_name].mapper.class_)
                self.joins.append((target, getattr(model, relation_name).of_type(target)))
                self._columns.append(getattr(target, column))
            else:
                self._columns.append(getattr(model, attribute))
            self.fields.append((name, _converter(field)))
        self.names = [name for name, _ in self.fields]
        self._extra = [getattr(model, column).label(column) for column in extra if column not in self.names]

    def _plan(self) -> tuple[list, list]:
        """The select's columns and, for the fields that need one, (position, name, converter)."""
        dialect = db.session.get_bind().dialect.name
        plan = self._plans.get(dialect)
        if plan is None:
            columns, conversions = [self.key.label(KEY)], []
            for position, ((name, convert), column) in enumerate(zip(self.fields, self._columns, strict=True)):
                kind = type(column.type)
                if convert is _text and kind is Uuid and dialect == "postgresql":
                    column = cast(column, Text)  # its canonical text, as str(uuid) writes it
                elif not _as_read(convert, kind):
                    conversions.append((position, name, convert))
                columns.append(column.label(name))
            plan = self._plans[dialect] = (columns + self._extra, conversions)
        return plan

    def select(self, *more):
        query = select(*self._plan()[0], *more)
        for target, relation in self.joins:
            query = query.outerjoin(target, relation)
        return query

    def reader(self) -> Callable:
        """A function from a row of `select` to the record's fields (worked out once per query)."""
        names, conversions = self.names, self._plan()[1]
        end = len(names) + 1

        def fields_of(row) -> dict:
            values = tuple(row)[1:end]
            out = dict(zip(names, values, strict=True))
            for position, name, convert in conversions:
                value = values[position]
                if value is not None:
                    out[name] = convert(value)
            return out

        return fields_of

    def children(self, parents: list) -> dict:
        """`{parent id: [child fields, ...]}` for each nested list, in the relationship's order."""
        out = {}
        for nested in self.nested:
            query = nested.shape.select(nested.parent.label("sync_parent")).where(among(nested.parent, parents))
            fields_of = nested.shape.reader()
            for row in db.session.execute(query.order_by(nested.parent, *nested.order)):
                out.setdefault((nested.name, row.sync_parent), []).append(fields_of(row))
        return out


def shape_of(entity) -> Shape:
    """The row shape of a pulled `SyncedEntity` (built once per entity)."""
    skip = (("photos",) if entity.photos else ()) + tuple(entity.rows_extra[0] if entity.rows_extra else ())
    return Shape(entity.dump, entity.model, entity.key, extra=entity.version_columns, skip=skip)


def audit_signatures(audit_ids) -> dict:
    """`{audit id: {"signatures": [...]}}` as `AuditSchema` dumps them (auditor first), one select."""
    from ...models import AuditSignature
    from ...schemas import fieldwork

    out: dict = {audit_id: {"signatures": []} for audit_id in audit_ids}
    for row in db.session.execute(
        select(AuditSignature.audit_id, AuditSignature.role, AuditSignature.signer_name, AuditSignature.signed_at,
               AuditSignature.photo_sha256)
        .where(among(AuditSignature.audit_id, audit_ids)).order_by(AuditSignature.audit_id, AuditSignature.role.desc())
    ):
        out[row.audit_id]["signatures"].append(
            fieldwork.signature_fields(row.role, row.signer_name, row.signed_at, row.photo_sha256))
    return out


def _photos_by_subject(subject: PhotoSubject, ids) -> dict:
    photos: dict = {}
    if not ids:
        return photos
    for subject_id, sha256 in db.session.execute(
        select(PhotoLink.subject_id, PhotoLink.photo_sha256)
        .where(PhotoLink.subject == subject, among(PhotoLink.subject_id, ids)).order_by(PhotoLink.position)
    ):
        photos.setdefault(subject_id, []).append(sha256)
    return photos


def _keys(entity, ids) -> list:
    if entity.key != "id":
        return list(ids)
    return [key for key in map(uuid_or_none, ids) if key is not None]


def load(entity, user: User, ids) -> dict:
    """`{key: change}` for the records of `entity` in `ids`; the change is None for one `user` may not see.

    A key with no record is left out (the caller sends a tombstone).
    """
    keys = _keys(entity, ids)
    if not keys:
        return {}
    return dict(_changes(entity, user, among(getattr(entity.model, entity.key), keys)))


def page(entity, user: User, where, order=None, limit: int | None = None) -> tuple[list[dict], str | None, int]:
    """The changes of the records of `entity` matching `where` that `user` may see, in `order`
    (by key unless given), reading at most `limit` records.

    Returns the changes, the key of the last record read (seen or not) and how many were read.
    """
    order = order if order is not None else (getattr(entity.model, entity.key),)
    found = _changes(entity, user, where, order, limit)
    return [change for _, change in found if change is not None], found[-1][0] if found else None, len(found)


def _orm_changes(entity, user: User, where, order=(), limit: int | None = None) -> list[tuple[str, dict | None]]:
    """The same from ORM records and the schema, for an entity whose payload is worked out in
    Python (a document's current revision, an acknowledgement's document): few per person."""
    from sqlalchemy.orm import selectinload

    query = select(entity.model).where(where).options(*(selectinload(e) for e in entity.eager))
    query = query.order_by(*(order or (getattr(entity.model, entity.key),)))
    if limit is not None:
        query = query.limit(limit)
    out = []
    for record in db.session.scalars(query):
        key = str(getattr(record, entity.key))
        if not entity.visible(user, record):
            out.append((key, None))
            continue
        out.append((key, {"entity": entity.name, "id": key, "version": entity.version(record), "deleted": False,
                          "fields": entity.dump_record(record)}))
    return out


def _changes(entity, user: User, where, order=(), limit: int | None = None) -> list[tuple[str, dict | None]]:
    if entity.seen is None:
        return _orm_changes(entity, user, where, order, limit)
    shape = entity.shape
    query = shape.select(case((entity.seen(user), True), else_=False).label(SEEN)).where(where)
    if order:
        query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    rows = db.session.execute(query).all()
    record_ids = [row.sync_key for row in rows if row.sync_seen]
    photos = _photos_by_subject(entity.photos, record_ids) if entity.photos and record_ids else {}
    children = shape.children(record_ids) if shape.nested and record_ids else {}
    extra = entity.rows_extra[1](record_ids) if entity.rows_extra and record_ids else {}
    out, fields_of = [], shape.reader()
    for row in rows:
        key = str(row.sync_key)
        if not row.sync_seen:
            out.append((key, None))
            continue
        fields = fields_of(row)
        for nested in shape.nested:
            fields[nested.name] = children.get((nested.name, row.sync_key), [])
        if entity.photos:
            fields["photos"] = photos.get(row.sync_key, [])
        if entity.rows_extra:
            fields.update(extra[row.sync_key])
        out.append((key, {"entity": entity.name, "id": key, "version": entity.version(row), "deleted": False,
                          "fields": fields}))
    return out
