"""The document register pages: register with a file, approve, add a revision, review with no change."""

import io
from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Document, utcnow
from server.services import checklists
from tests import documents as files


def _register(pages, data=None, **fields):
    pages.get("/documents/new")
    form = {"csrf_token": pages.tokens["csrf_token"], "number": "SOP-7", "title": "Handling returns",
            "type": "procedure", "owner": "", "review_every_months": "12", "change_note": "First issue",
            "file": (io.BytesIO(data or files.pdf("sop 7")), "SOP-7.pdf")} | fields
    return pages.client.post("/documents/new", data=form, content_type="multipart/form-data")


def test_register_approve_revise_and_review_through_the_pages(register, supervisor, staff):
    staff_pages = register(staff)
    pages = register(supervisor)
    response = _register(pages)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    document = db.session.scalars(select(Document)).one()
    url = f"/documents/{document.id}"
    html = pages.text(url)
    assert "SOP-7 Handling returns" in html and "Approve rev 1" in html and "SOP-7.pdf" in html

    assert pages.post(f"{url}/revisions/1/approve").status_code == 302
    html = pages.text(url)
    assert "Approve rev 1" not in html and "Reviewed, no change" in html

    pages.get(url)
    revised = pages.client.post(f"{url}/revisions", content_type="multipart/form-data", data={
        "csrf_token": pages.tokens["csrf_token"], "change_note": "Step 3 clarified",
        "file": (io.BytesIO(files.docx("rev 2")), "SOP-7 rev 2.docx")})
    assert revised.status_code == 302
    assert pages.post(f"{url}/revisions/2/approve").status_code == 302
    db.session.expire_all()
    assert [r.status for r in db.session.get(Document, document.id).revisions] == ["obsolete", "approved"]

    # Overdue, then reviewed with no change: off the overdue list, no new revision.
    db.session.get(Document, document.id).next_review_due = utcnow().date() - timedelta(days=1)
    db.session.commit()
    assert "review was due" in pages.text("/documents")
    assert "SOP-7" in pages.text("/documents?overdue=1")
    assert pages.post(f"{url}/review").status_code == 302
    assert "No documents overdue for review" in pages.text("/documents?overdue=1")
    db.session.expire_all()
    assert len(db.session.get(Document, document.id).revisions) == 2

    # Staff read the register and the current revision, but may not manage it.
    html = staff_pages.text(url)
    assert "SOP-7 rev 2.docx" in html and "Approve rev" not in html and "New revision" not in html
    assert staff_pages.get("/documents/new").status_code == 403


def test_an_active_file_is_refused_on_the_form(register, supervisor):
    pages = register(supervisor)
    response = _register(pages, data=files.SVG)
    assert response.status_code == 415
    assert "a browser would run" in response.get_data(as_text=True)
    assert db.session.scalars(select(Document)).first() is None


def test_ask_and_acknowledge_through_the_pages(register, supervisor, make):
    area = make.area(name="Goods in")
    reader = make.user("staff", name="Rita Reader", home_area=area)
    reader_pages = register(reader)
    pages = register(supervisor)
    assert _register(pages).status_code == 302
    document = db.session.scalars(select(Document)).one()
    url = f"/documents/{document.id}"
    pages.get(url)
    assert pages.post(f"{url}/revisions/1/approve").status_code == 302
    pages.get(url)
    asked = pages.client.post(f"{url}/acknowledgements", data={"csrf_token": pages.tokens["csrf_token"],
                                                              "areas": [str(area.id)]})
    assert asked.status_code == 302, asked.get_data(as_text=True)[:2000]
    assert "0 of 1 have acknowledged" in pages.text(url)

    assert "Waiting for you to read and acknowledge" in reader_pages.text("/documents")
    assert "I have read and understood rev 1" in reader_pages.text(url)
    assert reader_pages.post(f"{url}/revisions/1/acknowledge").status_code == 302
    assert "You have acknowledged rev 1" in reader_pages.text(url)
    assert "1 of 1 have acknowledged (100 %)" in pages.text(url)


def test_a_checklist_question_cites_the_current_revision_through_the_builder(register, supervisor):
    pages = register(supervisor)
    assert _register(pages).status_code == 302
    document = db.session.scalars(select(Document)).one()
    pages.get(f"/documents/{document.id}")
    pages.post(f"/documents/{document.id}/revisions/1/approve")
    draft = checklists.create_draft(supervisor, "Returns walk", "ISO 9001:2015")
    db.session.commit()
    html = pages.text(f"/checklists/{draft.id}")
    assert "SOP-7 rev 1: Handling returns" in html  # offered in the question form
    revision_id = str(db.session.get(Document, document.id).current.id)
    added = pages.post(f"/checklists/{draft.id}/questions", {
        "section": "Returns", "text": "Returns booked as the procedure says?", "kind": "yes_no_na",
        "required": "y", "document_revision_id": revision_id})
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]
    assert "as SOP-7 rev 1 says" in pages.text(f"/checklists/{draft.id}")
