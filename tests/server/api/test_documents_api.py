"""The controlled-document contract: register, revise, approve, download the exact bytes."""

import io
import uuid
from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Document, DocumentRevision, RevisionStatus, utcnow
from server.storage import EXTENSION_KEY, S3Store
from tests import documents as files


def register(auth, data: bytes, number="WI-014", name="wi-014.pdf", **fields):
    form = {"number": number, "title": "Forklift pre-use check", "type": "work_instruction"} | fields
    return auth.post("/api/documents", data=form | {"file": (io.BytesIO(data), name)},
                     content_type="multipart/form-data")


def revise(auth, document_id, data: bytes, name="next.pdf", **fields):
    return auth.post(f"/api/documents/{document_id}/revisions", data=fields | {"file": (io.BytesIO(data), name)},
                     content_type="multipart/form-data")


@pytest.fixture
def as_supervisor(signed_in, supervisor):
    return signed_in(supervisor)


@pytest.fixture
def as_staff(signed_in, staff):
    return signed_in(staff)


@pytest.fixture(params=["local", "s3"])
def store_kind(request, app):
    """Run a test against the local directory and against the S3 API server on loopback."""
    if request.param == "s3":
        app.extensions[EXTENSION_KEY] = S3Store.from_config(request.getfixturevalue("s3_settings"))
    return request.param


def test_register_approve_and_download_byte_exact(store_kind, as_supervisor, as_staff):
    data = files.pdf(pad=300_000)
    created = register(as_supervisor, data, review_every_months="6")
    assert created.status_code == 201, created.json
    document, revision = created.json["document"], created.json["revision"]
    assert (document["number"], document["status"], document["review_every_months"]) == ("WI-014", "draft", 6)
    assert revision == document["revisions"][0]
    assert (revision["rev"], revision["status"], revision["sha256"], revision["byte_size"],
            revision["content_type"]) == (1, "draft", files.sha(data), len(data), "application/pdf")

    # A draft is not for staff yet: neither the document nor its file.
    assert as_staff.client.get(f"/api/documents/{document['id']}").status_code == 403
    assert as_staff.client.get(f"/api/documents/{document['id']}/revisions/1/file").status_code == 403

    approved = as_supervisor.post(f"/api/documents/{document['id']}/revisions/1/approve")
    assert approved.status_code == 200, approved.json
    assert approved.json["revision"]["status"] == "approved"
    assert approved.json["document"]["status"] == "approved" and approved.json["document"]["next_review_due"]

    download = as_staff.client.get(f"/api/documents/{document['id']}/revisions/1/file")
    assert download.status_code == 200
    assert download.data == data
    assert download.headers["X-Content-SHA256"] == files.sha(download.data) == revision["sha256"]
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]


def test_a_new_revision_supersedes_the_old_which_stays_readable(as_supervisor, as_staff):
    first, second = files.pdf("rev 1"), files.docx("rev 2")
    document_id = register(as_supervisor, first).json["document"]["id"]
    as_supervisor.post(f"/api/documents/{document_id}/revisions/1/approve")
    added = revise(as_supervisor, document_id, second, name="WI-014 r2.docx", change_note="New step 4")
    assert added.status_code == 201, added.json
    assert added.json["revision"]["rev"] == 2 and added.json["revision"]["status"] == "draft"
    assert added.json["revision"]["file_name"] == "WI-014 r2.docx" and added.json["revision"]["download_only"]
    assert added.json["document"]["current_rev"] == 1  # rev 1 stays current until rev 2 is approved
    # one draft at a time
    assert revise(as_supervisor, document_id, files.pdf("rev 3")).status_code == 409

    assert as_supervisor.post(f"/api/documents/{document_id}/revisions/2/approve").status_code == 200
    revisions = {r["rev"]: r for r in as_staff.client.get(f"/api/documents/{document_id}").json["revisions"]}
    assert (revisions[1]["status"], revisions[2]["status"]) == ("obsolete", "approved")
    assert revisions[1]["obsoleted_at"]
    old = as_staff.client.get(f"/api/documents/{document_id}/revisions/1/file")
    assert old.status_code == 200 and old.data == first
    new = as_staff.client.get(f"/api/documents/{document_id}/revisions/2/file")
    assert new.data == second and new.headers["Content-Disposition"].startswith("attachment")
    assert new.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    # approved and superseded revisions cannot be approved again
    assert as_supervisor.post(f"/api/documents/{document_id}/revisions/1/approve").status_code == 409
    assert as_supervisor.post(f"/api/documents/{document_id}/revisions/2/approve").status_code == 409


def test_an_approved_revision_file_cannot_change(app, as_supervisor):
    document_id = register(as_supervisor, files.pdf()).json["document"]["id"]
    as_supervisor.post(f"/api/documents/{document_id}/revisions/1/approve")
    revision = db.session.query(DocumentRevision).one()
    assert revision.status == RevisionStatus.APPROVED
    with pytest.raises(ValueError, match="approved"):
        revision.sha256 = "0" * 64
    with pytest.raises(ValueError, match="approved"):
        revision.byte_size = 1


@pytest.mark.parametrize("data, name, code", [
    (files.HTML, "page.pdf", "active_content"),
    (files.SVG, "drawing.svg", "active_content"),
    (files.docm(), "macro.docx", "active_content"),
    (files.odt_with_macros(), "macro.odt", "active_content"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(200), "tool.pdf", "unsupported_media_type"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old.doc", "unsupported_media_type"),
], ids=["html", "svg", "docm", "odt-macros", "binary", "ole2"])
def test_active_content_and_unknown_types_are_refused(as_supervisor, data, name, code):
    response = register(as_supervisor, data, name=name)
    assert response.status_code == 415, response.json
    assert response.json["error"]["code"] == code
    assert db.session.query(Document).count() == 0


def test_contract_errors(app, as_supervisor, as_staff):
    assert register(as_staff, files.pdf()).status_code == 403
    assert register(as_supervisor, files.pdf(), type="memo").status_code == 422
    assert register(as_supervisor, b"").status_code == 422
    assert register(as_supervisor, files.pdf(), review_every_months="0").json["error"]["fields"]["review_every_months"]
    missing_file = as_supervisor.post("/api/documents", data={"number": "P-1", "title": "T", "type": "policy"},
                                      content_type="multipart/form-data")
    assert missing_file.status_code == 422
    assert register(as_supervisor, files.pdf("a")).status_code == 201
    taken = register(as_supervisor, files.pdf("b"))
    assert taken.status_code == 422 and "number" in taken.json["error"]["fields"]
    app.config["GEMBA_MAX_DOCUMENT_BYTES"] = 10_000
    too_big = register(as_supervisor, files.pdf(pad=20_000), number="P-2")
    assert too_big.status_code == 413 and too_big.json["error"]["code"] == "too_large"
    document_id = db.session.query(Document).one().id
    assert as_staff.client.get(f"/api/documents/{document_id}/revisions/9/file").status_code in (403, 404)
    assert as_supervisor.client.get(f"/api/documents/{document_id}/revisions/9/file").status_code == 404


def test_reviewed_no_change_and_the_overdue_listing(app, as_supervisor, as_staff):
    document_id = register(as_supervisor, files.pdf()).json["document"]["id"]
    assert as_supervisor.post(f"/api/documents/{document_id}/review").status_code == 409  # nothing approved yet
    as_supervisor.post(f"/api/documents/{document_id}/revisions/1/approve")
    document = db.session.get(Document, uuid.UUID(document_id))
    document.next_review_due = utcnow().date() - timedelta(days=3)
    db.session.commit()
    overdue = as_staff.client.get("/api/documents?overdue=true").json["documents"]
    assert [d["number"] for d in overdue] == ["WI-014"]
    reviewed = as_supervisor.post(f"/api/documents/{document_id}/review")
    assert reviewed.status_code == 200
    assert reviewed.json["next_review_due"] > utcnow().date().isoformat()
    assert reviewed.json["current_rev"] == 1 and len(reviewed.json["revisions"]) == 1
    assert as_staff.client.get("/api/documents?overdue=true").json["documents"] == []


def test_read_and_understood_by_staff_of_one_area(app, make, signed_in, supervisor):
    assembly, dispatch = make.area(name="Assembly"), make.area(name="Dispatch")
    asked = [make.user("staff", name=f"Asked {n}", home_area=assembly) for n in range(2)]
    elsewhere = make.user("staff", home_area=dispatch)
    boss = signed_in(supervisor)
    document_id = register(boss, files.pdf()).json["document"]["id"]
    url = f"/api/documents/{document_id}/revisions/1"
    # a draft is not read yet: only the approved revision is acknowledged
    boss.post(f"{url}/approve")
    status = boss.put(f"{url}/acknowledgements", json={"roles": [], "area_ids": [str(assembly.id)]})
    assert status.status_code == 200, status.json
    assert (status.json["asked"], status.json["acknowledged"], status.json["rate"]) == (2, 0, 0.0)

    first = signed_in(asked[0])
    assert [p["number"] for p in first.client.get("/api/documents/acknowledgements/pending").json["revisions"]] == [
        "WI-014"]
    done = first.post(f"{url}/acknowledge")
    assert done.status_code == 201 and done.json["user_id"] == str(asked[0].id)
    assert first.post(f"{url}/acknowledge").status_code == 200  # again: nothing changes
    assert first.client.get("/api/documents/acknowledgements/pending").json["revisions"] == []
    assert signed_in(elsewhere).post(f"{url}/acknowledge").status_code == 403

    status = boss.client.get(f"{url}/acknowledgements").json
    assert (status["asked"], status["acknowledged"], status["rate"]) == (2, 1, 0.5)
    assert {p["name"]: bool(p["acknowledged_at"]) for p in status["people"]} == {"Asked 0": True, "Asked 1": False}
    # A superseded revision is not acknowledged any more.
    revise(boss, document_id, files.pdf("rev 2"))
    boss.post(f"/api/documents/{document_id}/revisions/2/approve")
    assert signed_in(asked[1]).post(f"{url}/acknowledge").status_code == 409
