"""Payloads built from rows are the schema's dump of the ORM record, for every pulled entity and person.

Pull and snapshot build payloads from Core rows (`services/sync/rows.py`); the reference
here is the way they were built before: load the ORM record, ask the `*.view` rule, dump
it with the entity's schema and add its photos. Any drift in a field, a format, who may
see a record or the SQL statements growing with the records fails here.
"""

import hashlib
import io
import json
import uuid
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import event, select

from server.extensions import db
from server.models import (
    AuditSignature, AuditStatus, Conflict, PhotoLink, PhotoSubject, PhotoUpload, Response, TemplateStatus, utcnow,
)
from server.services import documents, evidence, photos
from server.services.sync import ENTITIES, rows
from tests import documents as files


def _png(colour) -> tuple[str, bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), colour).save(buffer, "PNG")
    data = buffer.getvalue()
    return hashlib.sha256(data).hexdigest(), data


def _reference(entity, user, record) -> dict | None:
    """The payload as pull built it from the ORM record and the schema (before rows.py)."""
    if not entity.visible(user, record):
        return None
    fields = entity.dump_record(record)
    if entity.photos:
        fields["photos"] = list(db.session.scalars(
            select(PhotoLink.photo_sha256).where(PhotoLink.subject == entity.photos, PhotoLink.subject_id == record.id)
            .order_by(PhotoLink.position)))
    key = str(getattr(record, entity.key))
    return {"entity": entity.name, "id": key, "version": entity.version(record), "deleted": False, "fields": fields}


@pytest.fixture
def register(make, commit):
    """Two sites, people of every kind, and a record of each entity tied to different people."""
    north, south = make.site("North"), make.site("South")
    home = make.area(site=north, name="Assembly")
    away = make.area(site=south, name="Dispatch")
    people = {
        "staff": make.user("staff", home_area=home),
        "owner": make.user("staff"),
        "auditor": make.user("auditor", home_area=home),
        "sup_north": make.user("supervisor"),
        "sup_all": make.user("supervisor"),
        "admin": make.user("admin"),
        "gone": make.user("auditor", active=False),
    }
    people["sup_north"].sites = [north]
    template = make.template(questions=3, description="Walk the line")
    make.template(questions=1, name="Draft", status=TemplateStatus.DRAFT, published_at=None)
    make.template(questions=2, name="Old", status=TemplateStatus.RETIRED)
    audits = [
        make.audit(template, home, people["auditor"], status=AuditStatus.IN_PROGRESS, started_at=utcnow(),
                   summary="Half done"),
        make.audit(template, away, people["gone"], status=AuditStatus.SUBMITTED, started_at=utcnow(),
                   submitted_at=utcnow(), score=87.5),
        make.audit(template, away, None, planned_date=date.today() + timedelta(days=9)),
    ]
    answers = []
    for audit in audits[:2]:
        for question, value in zip(template.questions, ("yes", "fail", 4), strict=False):
            answer = Response(audit_id=audit.id, question_id=question.id, value=value, note="seen",
                              answered_at=utcnow())
            db.session.add(answer)
            answers.append(answer)
    db.session.flush()
    mine = make.finding(home, people["staff"], description="By the press", location="Bay 2")
    in_audit = make.finding(away, people["auditor"], audit_id=audits[1].id, question_id=template.questions[1].id)
    elsewhere = make.finding(away, people["sup_all"], kind="observation")
    owned = make.action(elsewhere, people["owner"], whys=[{"why": "a", "because": "b"}], root_cause="wear")
    make.action(mine, None)
    make.comment(people["auditor"], audit_id=audits[0].id)
    make.comment(people["sup_all"], body="Who owns this?", finding_id=elsewhere.id)
    db.session.add_all([
        Conflict(entity="finding", entity_id=str(mine.id), field="title", server_value="a", device_value=["b"],
                 base_version=1, server_version=2, user_id=people["staff"].id, area_id=home.id),
        Conflict(entity="response", entity_id=str(answers[0].id), field="value", server_value=None,
                 device_value="no", base_version=1, server_version=3, user_id=people["auditor"].id,
                 area_id=away.id, status="resolved", resolution="server", resolved_at=utcnow()),
    ])
    # Photos: on the staff finding, on an audit answer, on an action, and one only named (not proven).
    shots = [_png(colour) for colour in ((200, 0, 0), (0, 200, 0), (0, 0, 200), (90, 90, 90))]
    for (sha, data), (person, subject, subject_id) in zip(shots[:3], (
        ("staff", PhotoSubject.FINDING, mine.id),
        ("auditor", PhotoSubject.RESPONSE, answers[0].id),
        ("owner", PhotoSubject.ACTION, owned.id),
    ), strict=True):
        photos.intake(people[person], sha, data, "image/png")
        evidence.link_photos(people[person], subject, subject_id, [sha])
    photos.intake(people["sup_all"], shots[3][0], shots[3][1], "image/png")
    evidence.link_photos(people["staff"], PhotoSubject.FINDING, mine.id, [shots[0][0], shots[3][0]])
    db.session.add(PhotoUpload(photo_sha256=shots[1][0], user_id=people["owner"].id))
    # A signed-off audit (the drawings are photos), and a document for the assembly's staff,
    # acknowledged by one of them.
    for role, name in (("auditee", "Area lead"), ("auditor", "Gone auditor")):
        db.session.add(AuditSignature(audit_id=audits[1].id, role=role, signer_name=name, signed_at=utcnow(),
                                      photo_sha256=shots[3][0]))
    document = documents.create_document(people["admin"], {
        "number": "WI-014", "title": "Press set-up", "type": "work_instruction", "owner_id": None,
        "area_ids": [home.id], "site_ids": []}, documents.Upload(io.BytesIO(files.pdf("rev 1", pad=64)), "WI-014.pdf"))
    documents.approve_revision(people["admin"], document, document.revisions[0])
    documents.ask_acknowledgement(people["admin"], document, document.revisions[0], ["staff"], [])
    documents.acknowledge(people["staff"], document, document.revisions[0])
    commit()
    return people


@pytest.mark.parametrize("name", [name for name, entity in ENTITIES.items() if entity.pulled])
def test_payloads_from_rows_equal_the_schema_dump_for_everyone(register, name):
    entity = ENTITIES[name]
    records = db.session.scalars(select(entity.model)).all()
    assert records, f"the register has no {name}"
    keys = [str(getattr(record, entity.key)) for record in records]
    for person, user in register.items():
        built = rows.load(entity, user, keys)
        expected = {str(getattr(record, entity.key)): _reference(entity, user, record) for record in records}
        assert built == expected, (name, person)
        # ...and the same JSON on the wire.
        assert json.dumps(built, sort_keys=True, default=str) == json.dumps(expected, sort_keys=True, default=str)
    seen = {person for person, user in register.items() if any(rows.load(entity, user, keys).values())}
    # An acknowledgement goes to the device of the person who gave it, no one else's.
    assert ("admin" in seen) == (name != "acknowledgement"), name
    assert ("gone" in seen) == (name == "template"), name  # checklists go to every device, as before


def test_every_register_record_was_seen_by_someone_and_hidden_from_someone(register):
    for name, entity in ENTITIES.items():
        if not entity.pulled or name == "template":
            continue
        keys = [str(key) for key in db.session.scalars(select(getattr(entity.model, entity.key)))]
        loads = {person: rows.load(entity, user, keys) for person, user in register.items()}
        assert any(None in found.values() for found in loads.values()), name


def test_a_missing_record_or_a_bad_key_is_left_out(register):
    assert rows.load(ENTITIES["finding"], register["admin"], ["not-a-uuid", str(uuid.uuid4())]) == {}


def test_the_statements_do_not_grow_with_the_records(register, make, commit, app):
    template = db.session.scalar(select(ENTITIES["audit"].model.template_id).limit(1))
    area = make.area(name="More")
    audit = ENTITIES["audit"].model(template_id=template, area_id=area.id, auditor_id=register["auditor"].id,
                                    planned_date=date.today(), status=AuditStatus.PLANNED)
    db.session.add(audit)
    for n in range(30):
        make.finding(area, register["staff"], title=f"Finding {n}")
        make.comment(register["staff"], body=f"Comment {n}", audit_id=audit.id)
    commit()

    def statements(name, limit):
        entity = ENTITIES[name]
        keys = [str(k) for k in db.session.scalars(select(getattr(entity.model, entity.key)).limit(limit))]
        count = []
        listener = lambda *args: count.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            found = rows.load(entity, register["admin"], keys)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(found) == len(keys)
        return len(count)

    register["admin"].active  # noqa: B018 - read the person back after the commit, outside the count
    for name in ("finding", "comment", "template", "photo", "response"):
        assert statements(name, 2) == statements(name, 1000), name


def test_pull_and_snapshot_changes_go_out_as_the_change_schema_dumps_them(register):
    """The response schemas send the changes as built (`schemas.sync.Changes`); that is
    `ChangeSchema`'s dump of them, field for field, for every person's snapshot and pull,
    tombstones included."""
    from server.schemas.sync import ChangeSchema, PullResponseSchema, SnapshotResponseSchema
    from server.services import sync
    from server.services.sync.pull import _tombstone

    reference = ChangeSchema(many=True)
    checked = 0
    for person, user in register.items():
        token = None
        while True:
            page = sync.snapshot(user, token, 7)
            sent = SnapshotResponseSchema().dump(page)["changes"]
            assert sent == reference.dump(page.changes), person
            assert json.dumps(sent, sort_keys=True) == json.dumps(reference.dump(page.changes), sort_keys=True)
            checked += len(sent)
            if not page.more:
                break
            token = page.token
        pulled = sync.pull(user, 0, 500)
        pulled.changes.append(_tombstone("finding", str(uuid.uuid4()), 3))
        sent = PullResponseSchema().dump(pulled)["changes"]
        assert sent == reference.dump(pulled.changes), person
        assert json.dumps(sent, sort_keys=True) == json.dumps(reference.dump(pulled.changes), sort_keys=True)
        checked += len(sent)
    assert checked > 50
