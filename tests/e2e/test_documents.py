"""A controlled document through the register in a real browser: upload, approve, ask, acknowledge.

The supervisor registers a procedure by uploading its PDF, approves revision 1 and asks
the staff of one area to read and understand it; a member of that area's staff, on a
phone-sized browser, sees it waiting, downloads the exact bytes and acknowledges it; the
supervisor's page then shows the rate. (Acknowledging from the field app offline is not
built yet: this is the register's online path.)
"""

import hashlib
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Document, DocumentAcknowledgement, DocumentRevision, User
from tests import documents as files
from tests import factories
from tests.e2e.test_review_round_trip import register_sign_in

pytestmark = pytest.mark.e2e


def test_upload_approve_ask_and_acknowledge(live_server, office, phone, tmp_path):
    tag = uuid.uuid4().hex[:6]

    def seed():
        area = factories.area(name=f"Goods in {tag}")
        factories.area(name=f"Dispatch {tag}")
        supervisor = factories.user("supervisor", email=f"doc-boss-{tag}@example.test")
        reader = factories.user("staff", email=f"doc-reader-{tag}@example.test", home_area=area)
        return supervisor.email, reader.email, area.label

    boss_email, reader_email, area_label = live_server.run(seed)
    data = files.pdf(f"Receiving procedure {tag}", pad=50_000)
    pdf = tmp_path / f"SOP-{tag}.pdf"
    pdf.write_bytes(data)
    number = f"SOP-{tag}"

    register_sign_in(office, boss_email)
    office.goto("/documents")
    office.get_by_role("link", name="Register a document").click()
    office.get_by_label("Number").fill(number)
    office.get_by_label("Title").fill("Receiving goods")
    office.get_by_label("Type").select_option("procedure")
    office.get_by_label("File", exact=False).first.set_input_files(str(pdf))
    office.get_by_role("button", name="Register").click()
    expect(office.get_by_role("heading", name=f"{number} Receiving goods")).to_be_visible()
    office.get_by_role("button", name="Approve rev 1").click()
    expect(office.get_by_text("rev 1 approved")).to_be_visible()
    office.get_by_label("Home areas asked").select_option(label=area_label)
    office.get_by_role("button", name="Ask to acknowledge").click()
    expect(office.get_by_text("0 of 1 have acknowledged")).to_be_visible()

    register_sign_in(phone, reader_email)
    phone.goto("/documents")
    waiting = phone.locator("section", has=phone.get_by_role("heading", name="Waiting for you to read and acknowledge"))
    waiting.get_by_role("link", name=f"{number} Receiving goods").click()
    download = phone.request.get(phone.get_by_role("link", name=f"{number}.pdf").get_attribute("href"))
    assert download.body() == data
    assert download.headers["x-content-sha256"] == hashlib.sha256(data).hexdigest()
    phone.get_by_role("button", name="I have read and understood rev 1").click()
    expect(phone.get_by_text("You have acknowledged rev 1")).to_be_visible()

    office.reload()
    expect(office.get_by_text("1 of 1 have acknowledged (100 %)")).to_be_visible()
    readers = live_server.scalars(
        select(User.email).join(DocumentAcknowledgement, DocumentAcknowledgement.user_id == User.id)
        .join(DocumentRevision, DocumentRevision.id == DocumentAcknowledgement.revision_id)
        .join(Document, Document.id == DocumentRevision.document_id).where(Document.number == number))
    assert readers == [reader_email]
    assert office.errors == [] and phone.errors == []
