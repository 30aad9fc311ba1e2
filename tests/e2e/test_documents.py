"""A controlled document through the register in a real browser: upload, approve, ask, acknowledge.

The supervisor registers a procedure by uploading its PDF, approves revision 1 and asks
the staff of one area to read and understand it; a member of that area's staff, on a
phone-sized browser, sees it waiting, downloads the exact bytes and acknowledges it; the
supervisor's page then shows the rate. The second test does it in the field app: the
document reaches the phone through sync, is pinned for offline use (within the device's
budget) and acknowledged offline; after the next sync the register shows it, once.
"""

import hashlib
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Document, DocumentAcknowledgement, DocumentRevision, Finding, User
from tests import documents as files
from tests import factories
from tests.e2e.fieldapp import FieldApp
from tests.e2e.test_review_round_trip import register_sign_in

pytestmark = pytest.mark.e2e


def seed_people(live_server, tag):
    """A supervisor, and a member of staff of one area (another area exists beside it)."""
    def seed():
        area = factories.area(name=f"Goods in {tag}")
        factories.area(name=f"Dispatch {tag}")
        supervisor = factories.user("supervisor", email=f"doc-boss-{tag}@example.test")
        reader = factories.user("staff", email=f"doc-reader-{tag}@example.test", home_area=area)
        return supervisor.email, reader.email, area.label

    return live_server.run(seed)


def upload_approve_and_ask(office, boss_email, number, pdf, area_label):
    """In the register: upload the procedure, approve rev 1, ask the staff of one area."""
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


def acknowledged_by(live_server, number) -> list[str]:
    return live_server.scalars(
        select(User.email).join(DocumentAcknowledgement, DocumentAcknowledgement.user_id == User.id)
        .join(DocumentRevision, DocumentRevision.id == DocumentAcknowledgement.revision_id)
        .join(Document, Document.id == DocumentRevision.document_id).where(Document.number == number))


def test_upload_approve_ask_and_acknowledge(live_server, office, phone, tmp_path):
    tag = uuid.uuid4().hex[:6]
    boss_email, reader_email, area_label = seed_people(live_server, tag)
    data = files.pdf(f"Receiving procedure {tag}", pad=50_000)
    pdf = tmp_path / f"SOP-{tag}.pdf"
    pdf.write_bytes(data)
    number = f"SOP-{tag}"
    upload_approve_and_ask(office, boss_email, number, pdf, area_label)

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
    assert acknowledged_by(live_server, number) == [reader_email]
    assert office.errors == [] and phone.errors == []


PINNED_SHA = """async (id) => {
  const documents = await import("/app/documents.js");
  const blob = await documents.pinnedFile(id);
  if (!blob) return null;
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}"""
SET_BUDGET = """async (bytes) => { const db = await import("/app/db.js"); await db.setMeta("document_budget", bytes); }"""


def test_a_phone_acknowledges_offline_and_the_register_shows_it_once_after_sync(live_server, office, phone, tmp_path):
    tag = uuid.uuid4().hex[:6]
    boss_email, reader_email, area_label = seed_people(live_server, tag)
    data = files.pdf(f"Loading procedure {tag}", pad=80_000)
    pdf = tmp_path / f"SOP-{tag}.pdf"
    pdf.write_bytes(data)
    number = f"SOP-{tag}"
    upload_approve_and_ask(office, boss_email, number, pdf, area_label)
    document_id = str(live_server.scalars(select(Document.id).where(Document.number == number))[0])

    # The staff member's phone: the document arrives with the first sync and asks them.
    app = FieldApp(phone).open()
    app.sign_in(reader_email)
    app.wait_offline_ready()
    nav = phone.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Documents (1)")).to_be_visible(timeout=30_000)
    nav.get_by_role("link", name="Documents (1)").click()
    card = phone.locator("section", has=phone.get_by_role("heading", name="To read and understand (1)")) \
        .get_by_role("listitem", name=f"{number} rev 1 Receiving goods")
    expect(card).to_be_visible()
    expect(card).to_contain_text(f"{len(data) / 1024:.1f} KB")

    # Pinning within the device's budget: too small a budget says so and keeps nothing.
    phone.evaluate(SET_BUDGET, 10_000)
    card.get_by_role("button", name="Pin for offline").click()
    expect(phone.get_by_role("alert")).to_contain_text("Unpin a document first")
    assert phone.evaluate(PINNED_SHA, document_id) is None
    phone.evaluate(SET_BUDGET, None)  # back to the default (50 MB)
    card.get_by_role("button", name="Pin for offline").click()
    expect(card.locator(".pin-state")).to_have_text("Kept offline")
    expect(phone.locator("#document-budget")).to_contain_text(f"{len(data) / 1024:.1f} KB of 50.0 MB")

    # Offline: the pinned copy is on the phone, byte for byte, and the acknowledgement waits.
    phone.context.set_offline(True)
    assert phone.evaluate(PINNED_SHA, document_id) == hashlib.sha256(data).hexdigest()
    card.get_by_role("button", name="Read and understood").click()
    expect(phone.get_by_role("status").filter(has_text="read and understood, recorded")).to_be_visible()
    expect(nav.get_by_role("link", name="Documents", exact=True)).to_be_visible()
    expect(phone.locator("#unsent-badge")).to_contain_text("1 unsent")
    mine = phone.get_by_role("listitem", name=f"{number} rev 1 Receiving goods")
    expect(mine.locator(".ack-state")).to_contain_text("waiting to sync")
    assert acknowledged_by(live_server, number) == []

    # Back online: one sync sends it; the register shows it, once, however often we sync.
    phone.context.set_offline(False)
    app.sync_now()
    app.expect_all_sent()
    app.sync_now()
    app.expect_idle()
    office.reload()
    expect(office.get_by_text("1 of 1 have acknowledged (100 %)")).to_be_visible()
    assert acknowledged_by(live_server, number) == [reader_email]
    app.go("Documents")
    mine = phone.get_by_role("listitem", name=f"{number} rev 1 Receiving goods")
    expect(mine.locator(".ack-state")).not_to_contain_text("waiting to sync")

    # The procedure no longer matches the floor: a finding against it, citing rev 1.
    mine.get_by_text("Report out of date").click()
    mine.get_by_label("What is out of date?").fill("Step 3 names the old dock door")
    mine.get_by_role("button", name="Raise finding").click()
    expect(phone.get_by_role("status").filter(has_text="is out of date")).to_be_visible()
    app.sync_now()
    app.expect_all_sent()
    cited = live_server.scalars(
        select(DocumentRevision.rev).join(Finding, Finding.document_revision_id == DocumentRevision.id)
        .join(Document, Document.id == DocumentRevision.document_id)
        .where(Document.number == number, Finding.document_outdated.is_(True)))
    assert cited == [1]

    # A finding raised on its own cites the procedure the work was not done as.
    app.go("Raise finding")
    phone.get_by_label("What did you see?").fill("Pallet taken in without the count")
    phone.get_by_text("More details").click()
    phone.get_by_label("Document it cites (optional)").select_option(label=f"{number} rev 1 - Receiving goods")
    expect(phone.get_by_label("The document itself is out of date")).not_to_be_checked()
    phone.get_by_role("button", name="Save finding").click()
    expect(phone.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()
    app.sync_now()
    app.expect_all_sent()
    cited = live_server.query(
        select(DocumentRevision.rev, Finding.document_outdated)
        .join(Finding, Finding.document_revision_id == DocumentRevision.id)
        .where(Finding.title == "Pallet taken in without the count"))
    assert [tuple(row) for row in cited] == [(1, False)]
    assert office.errors == [] and phone.errors == []
