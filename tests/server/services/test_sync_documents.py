"""Controlled documents on devices: the `document` and `acknowledgement` entities, their
audiences, the acknowledgement op (once, however often pushed), and findings citing a revision."""

import io
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import DocumentAcknowledgement, DocumentRevision, Finding, Notification, RevisionStatus
from server.services import actions, documents, sync
from tests import documents as files
from tests.syncops import FieldDevice, statuses, wire


WHY = [{"why": "Why was it missed?", "because": "The instruction says otherwise."}]


def make_document(by, number, *, areas=(), sites=(), roles=(), ack_areas=(), approve=True, text="rev 1", owner=None):
    document = documents.create_document(by, {
        "number": number, "title": f"{number} title", "type": "procedure", "owner_id": owner.id if owner else None,
        "area_ids": [a.id for a in areas], "site_ids": [s.id for s in sites]},
        documents.Upload(io.BytesIO(files.pdf(text, pad=64)), f"{number}.pdf"))
    if approve:
        documents.approve_revision(by, document, document.revisions[0])
        if roles or ack_areas:
            documents.ask_acknowledgement(by, document, document.revisions[0], list(roles), list(ack_areas))
    db.session.commit()
    return document


def snapshot_keys(user) -> set[tuple[str, str]]:
    out, token = set(), None
    while True:
        page = sync.snapshot(user, token)
        out |= {(c["entity"], c["id"]) for c in page.changes}
        if not page.more:
            return out
        token = page.token


def pulled(user, cursor=0) -> dict[tuple[str, str], dict]:
    out = {}
    while True:
        page = sync.pull(user, cursor)
        for change in page.changes:
            out[(change["entity"], change["id"])] = change
        cursor = page.cursor
        if not page.more:
            return out


@pytest.fixture
def org(make, supervisor):
    assembly, dispatch = make.area(name="Assembly"), make.area(name="Dispatch")
    other_site = make.area(site="Other site", name="Yard")
    people = {
        "assembler": make.user("staff", home_area=assembly),
        "dispatcher": make.user("staff", home_area=dispatch),
        "yard": make.user("staff", home_area=other_site),
        "homeless": make.user("staff"),
        "auditor": make.user("auditor"),
        "owner": make.user("supervisor"),
    }
    db.session.commit()
    return {"assembly": assembly, "dispatch": dispatch, "yard_area": other_site, "supervisor": supervisor, **people}


def test_a_document_reaches_the_people_of_the_area_it_applies_to_and_no_one_else(org):
    wi = make_document(org["supervisor"], "WI-014", areas=[org["assembly"]], ack_areas=[org["assembly"]])
    key = ("document", str(wi.id))
    # Snapshot and pull agree: the assembly's staff, auditors and the supervisor have it.
    for who in ("assembler", "auditor", "supervisor"):
        assert key in snapshot_keys(org[who]), who
        assert key in pulled(org[who]), who
    for who in ("dispatcher", "yard", "homeless"):
        assert key not in snapshot_keys(org[who]), who
        assert key not in pulled(org[who]), who
    fields = pulled(org["assembler"])[key]["fields"]
    assert fields["current"]["rev"] == 1 and fields["current"]["sha256"] == wi.current.sha256
    assert fields["current"]["ack_area_ids"] == [str(org["assembly"].id)]
    assert fields["area_ids"] == [str(org["assembly"].id)]


def test_site_wide_and_unscoped_documents_and_asking_by_role(org):
    site_doc = make_document(org["supervisor"], "PR-001", sites=[org["assembly"].site])
    everywhere = make_document(org["supervisor"], "POL-001")
    by_role = make_document(org["supervisor"], "WI-099", areas=[org["yard_area"]], roles=["staff"])
    draft = make_document(org["supervisor"], "WI-100", approve=False)
    got = {who: snapshot_keys(org[who]) for who in ("assembler", "dispatcher", "yard", "homeless")}
    assert all(("document", str(everywhere.id)) in keys for keys in got.values())
    assert ("document", str(site_doc.id)) in got["assembler"] and ("document", str(site_doc.id)) in got["dispatcher"]
    assert ("document", str(site_doc.id)) not in got["yard"]
    # Asked to acknowledge by role: every staff member gets it, wherever it applies.
    assert all(("document", str(by_role.id)) in keys for keys in got.values())
    assert all(("document", str(draft.id)) not in keys for keys in got.values())
    assert ("document", str(draft.id)) not in pulled(org["supervisor"])


def test_a_new_revision_moves_devices_on_and_withdrawal_from_an_area_is_a_tombstone(org, make):
    wi = make_document(org["supervisor"], "WI-014", areas=[org["assembly"]])
    cursor = sync.pull(org["assembler"], 0).cursor
    documents.add_revision(org["supervisor"], wi, documents.Upload(io.BytesIO(files.pdf("rev 2")), "r2.pdf"))
    db.session.commit()
    assert ("document", str(wi.id)) not in pulled(org["assembler"], cursor)  # a draft changes nothing held
    documents.approve_revision(org["supervisor"], wi, wi.revisions[1])
    db.session.commit()
    change = pulled(org["assembler"], cursor)[("document", str(wi.id))]
    assert change["fields"]["current"]["rev"] == 2 and change["version"] > 1
    # The document stops applying to the assembly: its people are sent a tombstone.
    cursor = sync.pull(org["assembler"], 0).cursor
    wi.areas = [org["dispatch"]]
    documents.publish_document(wi)
    db.session.commit()
    assert pulled(org["assembler"], cursor)[("document", str(wi.id))]["deleted"] is True
    assert pulled(org["dispatcher"])[("document", str(wi.id))]["deleted"] is False


def test_a_new_home_area_makes_the_device_take_a_new_snapshot(org):
    before = sync.snapshot(org["dispatcher"]).scope
    org["dispatcher"].home_area_id = org["assembly"].id
    db.session.commit()
    assert sync.pull(org["dispatcher"], 0, scope=before).reset is True


def ack_op(phone, revision, record_id=None):
    return phone.op("acknowledgement", record_id, revision_id=str(revision.id))


def count_acks(revision) -> int:
    return db.session.scalar(select(func.count()).select_from(DocumentAcknowledgement)
                             .where(DocumentAcknowledgement.revision_id == revision.id))


def test_an_acknowledgement_reaches_the_register_once_however_often_it_is_pushed(org):
    wi = make_document(org["supervisor"], "WI-014", areas=[org["assembly"]], ack_areas=[org["assembly"]])
    revision = wi.current
    phone = FieldDevice(org["assembler"])
    op = ack_op(phone, revision)
    assert statuses(phone.push([op])) == ["applied"]
    # The same op again (its answer was lost): duplicate; the same acknowledgement from a
    # second device (a new op, a new id): applied, still one row.
    assert statuses(phone.push([op])) == ["duplicate"]
    tablet = FieldDevice(org["assembler"])
    assert statuses(tablet.push([ack_op(tablet, revision)])) == ["applied"]
    assert count_acks(revision) == 1
    status = documents.acknowledgement_status(revision)
    assert [p.id for p in status.required] == [org["assembler"].id] and status.rate == 1.0
    acknowledgement = db.session.scalar(select(DocumentAcknowledgement))
    assert str(acknowledgement.id) == op["id"]
    # It comes back to the person's devices, and to no one else's.
    key = ("acknowledgement", op["id"])
    assert pulled(org["assembler"])[key]["fields"]["revision_id"] == str(revision.id)
    assert key in snapshot_keys(org["assembler"])
    assert key not in pulled(org["supervisor"]) and key not in snapshot_keys(org["supervisor"])
    # Nothing pending any more.
    assert documents.pending_acknowledgements(org["assembler"]) == []


def test_acknowledgements_that_cannot_be_recorded_are_rejected(org):
    wi = make_document(org["supervisor"], "WI-014", areas=[org["assembly"]], ack_areas=[org["assembly"]])
    old = wi.current
    documents.add_revision(org["supervisor"], wi, documents.Upload(io.BytesIO(files.pdf("rev 2")), "r2.pdf"))
    db.session.commit()
    draft = wi.latest
    outsider, phone = FieldDevice(org["dispatcher"]), FieldDevice(org["assembler"])
    result = outsider.push([ack_op(outsider, old)])
    assert statuses(result) == ["rejected"] and result.results[0]["code"] == "forbidden"
    ops = [ack_op(phone, draft), phone.op("acknowledgement", revision_id=str(uuid.uuid4())),
           phone.op("acknowledgement", revision_id="not-a-uuid"), phone.op("acknowledgement")]
    result = phone.push(ops)
    assert statuses(result) == ["rejected"] * 4
    assert [r["code"] for r in result.results[:2]] == ["not_found", "not_found"]  # a draft is not for staff
    # Superseded while the phone was offline: the old revision is refused, the new one asked.
    documents.approve_revision(org["supervisor"], wi, draft)
    documents.ask_acknowledgement(org["supervisor"], wi, draft, [], [org["assembly"]])
    db.session.commit()
    result = phone.push([ack_op(phone, old)])
    assert statuses(result) == ["rejected"] and result.results[0]["code"] == "state"
    assert count_acks(old) == 0
    # Reusing an acknowledgement's id for another revision is refused.
    first = ack_op(phone, draft)
    phone.push([first])
    result = phone.push([ack_op(phone, old, record_id=first["id"])])
    assert statuses(result) == ["rejected"]


# --- findings citing a revision ---------------------------------------------------------------

def test_a_finding_cites_the_current_revision_and_never_an_obsolete_one(org):
    wi = make_document(org["supervisor"], "WI-014", areas=[org["assembly"]])
    rev1 = wi.current
    phone = FieldDevice(org["auditor"])
    cited = phone.finding(org["assembly"], title="Not as WI-014 rev 1 says", document_revision_id=str(rev1.id))
    assert statuses(phone.push([cited])) == ["applied"]
    finding = db.session.get(Finding, uuid.UUID(cited["id"]))
    assert finding.document_revision_id == rev1.id and finding.document_outdated is False
    assert pulled(org["auditor"])[("finding", cited["id"])]["fields"]["document_revision_id"] == str(rev1.id)

    documents.add_revision(org["supervisor"], wi, documents.Upload(io.BytesIO(files.pdf("rev 2")), "r2.pdf"))
    db.session.commit()
    draft = wi.latest
    documents.approve_revision(org["supervisor"], wi, draft)
    db.session.commit()
    assert db.session.get(DocumentRevision, rev1.id).status == RevisionStatus.OBSOLETE
    # Rev 1 is obsolete: a new finding cannot cite it; the existing one keeps its citation
    # through other edits.
    result = phone.push([phone.finding(org["assembly"], document_revision_id=str(rev1.id))])
    assert statuses(result) == ["rejected"] and "document_revision_id" in result.results[0]["fields"]
    edit = phone.op("finding", cited["id"], 1, title="Not as WI-014 says", document_revision_id=str(rev1.id))
    assert statuses(phone.push([edit])) == ["applied"]
    assert db.session.get(Finding, uuid.UUID(cited["id"])).title == "Not as WI-014 says"
    # Hostile or wrong: no such revision, not a UUID, outdated without a citation.
    bad = [phone.finding(org["assembly"], document_revision_id=str(uuid.uuid4())),
           phone.finding(org["assembly"], document_revision_id="WI-014"),
           phone.finding(org["assembly"], document_outdated=True),
           phone.finding(org["assembly"], document_outdated=[1], document_revision_id=str(wi.current.id))]
    result = phone.push(bad)
    assert statuses(result) == ["rejected"] * 4
    assert "document_revision_id" in result.results[0]["fields"]
    assert "document_outdated" in result.results[2]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 1


def test_approving_the_action_of_a_document_out_of_date_starts_its_next_revision(org):
    wi = make_document(org["supervisor"], "WI-014", areas=[org["assembly"]], owner=org["owner"])
    current = wi.current
    phone = FieldDevice(org["auditor"])
    op = phone.finding(org["assembly"], title="WI-014 still names the old press", document_outdated=True,
                       document_revision_id=str(current.id))
    assert statuses(phone.push([op])) == ["applied"]
    finding = db.session.get(Finding, uuid.UUID(op["id"]))
    plan = {"plan": "Rewrite step 4", "root_cause": "Press replaced in May", "whys": WHY, "owner_id": str(wi.owner_id), "due_date": (date.today() + timedelta(days=14)).isoformat()}
    actions.plan_action(org["supervisor"], finding, plan)
    db.session.commit()
    assert [(r.rev, r.status) for r in wi.revisions] == [(1, "approved"), (2, "draft")]
    started = wi.latest
    assert started.started_by_finding_id == finding.id and started.sha256 == current.sha256
    assert "WI-014 rev 1 is out of date" in started.change_note
    # The owner is told (here the owner is someone other than the supervisor who planned it).
    told = db.session.scalars(select(Notification).where(Notification.kind == "document.revision_started")).all()
    assert [(n.user_id, n.link) for n in told] == [(wi.owner_id, f"/documents/{wi.id}")]
    # A second action does not start a third revision.
    actions.plan_action(org["supervisor"], finding, plan | {"plan": "Train the team"})
    db.session.commit()
    assert len(wi.revisions) == 2
    # The owner's new file takes the copy's place (not refused as "a draft awaits approval").
    new = files.pdf("rev 2 text")
    revised = documents.add_revision(org["supervisor"], wi, documents.Upload(io.BytesIO(new), "r2.pdf"), "Step 4")
    db.session.commit()
    assert revised.id == started.id and revised.sha256 == files.sha(new) and len(wi.revisions) == 2
    documents.approve_revision(org["supervisor"], wi, revised)
    db.session.commit()
    assert wi.current.rev == 2 and db.session.get(DocumentRevision, current.id).status == RevisionStatus.OBSOLETE


def test_a_finding_without_out_of_date_starts_nothing(org):
    wi = make_document(org["supervisor"], "WI-014", areas=[org["assembly"]])
    phone = FieldDevice(org["auditor"])
    op = phone.finding(org["assembly"], document_revision_id=str(wi.current.id))
    phone.push([op])
    finding = db.session.get(Finding, uuid.UUID(op["id"]))
    actions.plan_action(org["supervisor"], finding, {"plan": "Retrain", "root_cause": "New starter", "whys": WHY, "owner_id": str(wi.owner_id),
                                                       "due_date": (date.today() + timedelta(days=14)).isoformat()})
    db.session.commit()
    assert len(wi.revisions) == 1


def test_the_register_shows_the_citation_and_the_revision_a_finding_started(org, register):
    wi = make_document(org["supervisor"], "WI-014", areas=[org["assembly"]])
    phone = FieldDevice(org["auditor"])
    op = phone.finding(org["assembly"], title="WI-014 names the old press", document_outdated=True,
                       document_revision_id=str(wi.current.id))
    phone.push([op])
    finding = db.session.get(Finding, uuid.UUID(op["id"]))
    actions.plan_action(org["supervisor"], finding, {
        "plan": "Rewrite step 4", "root_cause": "Press replaced", "whys": WHY, "owner_id": str(wi.owner_id),
        "due_date": (date.today() + timedelta(days=14)).isoformat()})
    db.session.commit()
    pages = register(org["supervisor"])
    page = pages.text(f"/findings/{finding.id}")
    assert "WI-014 rev 1" in page and "the document is out of date" in page
    page = pages.text(f"/documents/{wi.id}")
    assert "started this revision" in page and f"/findings/{finding.id}" in page


def test_over_http_an_acknowledgement_pushed_twice_lands_once_and_hostile_ids_are_refused(org, signed_in):
    wi = make_document(org["supervisor"], "WI-014", areas=[org["assembly"]], ack_areas=[org["assembly"]])
    revision_id = str(wi.current.id)
    auth = signed_in(org["assembler"])
    phone = FieldDevice(org["assembler"])
    op = wire(ack_op(phone, wi.current))
    body = {"device_id": str(phone.id), "ops": [op]}
    first, again = auth.post("/api/sync/push", json=body), auth.post("/api/sync/push", json=body)
    assert first.status_code == again.status_code == 200, first.json
    assert [r["status"] for r in first.json["results"] + again.json["results"]] == ["applied", "duplicate"]
    assert count_acks(wi.current) == 1
    status = auth.client.get("/api/documents/acknowledgements/pending")
    assert status.status_code == 200 and status.json["revisions"] == []
    # A citation of a revision that does not exist, a nonsense id, an extra field: rejected ops, nothing raised.
    ops = [wire(phone.finding(org["assembly"], document_revision_id=str(uuid.uuid4()))),
           wire(phone.finding(org["assembly"], document_revision_id="../../etc")),
           wire(phone.op("acknowledgement", revision_id=revision_id, user_id=str(org["supervisor"].id)))]
    refused = auth.post("/api/sync/push", json={"device_id": str(phone.id), "ops": ops})
    assert refused.status_code == 200
    assert [r["status"] for r in refused.json["results"]] == ["rejected"] * 3
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0
    # The register's view of it, over the API: acknowledged once, by the assembler.
    boss = signed_in(org["supervisor"])
    rate = boss.client.get(f"/api/documents/{wi.id}/revisions/1/acknowledgements")
    assert rate.status_code == 200 and (rate.json["asked"], rate.json["acknowledged"]) == (1, 1)
