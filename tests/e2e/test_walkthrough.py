"""The field walkthrough: capture offline on a tablet and a phone, and see it all arrive once."""

import hashlib
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from server.models import Audit, Finding, Photo, PhotoLink, PhotoState, Response, SyncOp
from server.storage import object_key, photo_store
from tests.e2e.conftest import PHONE, watched
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e

LOCAL_PHOTOS = """
import('/app/db.js').then(async (db) => {
  const photos = await db.getAll('photos');
  return photos.map((p) => ({ sha256: p.sha256, width: p.width, height: p.height, size: p.size, has_bytes: !!p.bytes, type: p.type }));
})
"""


def answer_checklist(app: FieldApp, field, photo_files):
    page = app.page
    q = app.question
    texts = [text for _, _, text in field.questions]
    # "No" calls for a finding: the pre-filled finding form opens at once.
    q(texts[0]).get_by_label("No", exact=True).check()
    dialog = page.get_by_role("dialog", name="Finding for this answer")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("What did you see?")).to_have_value("8.1 Are emergency exits clear: no")
    expect(dialog.get_by_label("Clause")).to_have_value("8.1")
    expect(dialog.get_by_label("Area")).to_have_value(field.area_id)
    dialog.get_by_label("Take photo for this finding").set_input_files(photo_files["wide"])
    expect(dialog.get_by_role("status").filter(has_text="1 photo attached")).to_be_visible()
    dialog.get_by_label("Location (optional)").fill("Exit B, behind the pallets")
    dialog.get_by_role("button", name="Save finding").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("region", name="Findings from this audit")).to_contain_text("8.1 Are emergency exits clear: no")
    # The finding's photo is the answer's evidence too; a second one is added to the answer.
    expect(q(texts[0]).get_by_role("img", name="Photo 1 for question 1")).to_be_visible()
    q(texts[0]).get_by_label("Take photo for question 1", exact=True).set_input_files(photo_files["rotated"])
    expect(q(texts[0]).get_by_role("img", name="Photo 2 for question 1")).to_be_visible()

    q(texts[1]).get_by_label("Pass", exact=True).check()
    q(texts[1]).get_by_role("button", name="Note box for question 2").click()  # the note is one tap away
    q(texts[1]).get_by_label("Note for question 2", exact=True).fill("Tag dated last month")
    q(texts[2]).get_by_label("4", exact=True).check()

    # Submitting is blocked while required questions are unanswered.
    page.get_by_role("link", name="Review and submit").click()
    blocking = page.get_by_role("alert").filter(has_text="block submission")
    expect(blocking).to_contain_text(texts[3])
    expect(blocking).to_contain_text(texts[7])
    expect(page.get_by_role("button", name="Submit audit")).to_be_disabled()
    page.get_by_role("link", name="Back to the checklist").click()

    q(texts[3]).get_by_label("good", exact=True).check()
    q(texts[4]).get_by_label("Answer").fill("82.5")
    q(texts[5]).get_by_label("Answer").fill("Sanding door panels before priming")
    q(texts[6]).get_by_label("Answer").fill("2026-11-02")
    q(texts[7]).get_by_label("Choose photo for question 8", exact=True).set_input_files(photo_files["small"])
    expect(q(texts[7]).get_by_role("img", name="Photo 1 for question 8")).to_be_visible()
    expect(page.get_by_text("8 of 8 answered")).to_be_visible()

    page.get_by_role("link", name="Review and submit").click()
    expect(page.get_by_text("8 of 8 questions answered")).to_be_visible()
    submit = page.get_by_role("button", name="Submit audit")
    expect(submit).to_be_enabled()
    page.get_by_label("Summary for the reviewer").fill("Exit B blocked; otherwise in order.")
    app.sign_off(auditee="Ben Okafor")
    submit.click()
    expect(page.get_by_role("region", name="Submitted, waiting for review")).to_contain_text(field.template_name)


def test_walkthrough_offline_capture_arrives_exactly_once(context, tablet, phone, live_server, field, photo_files):
    # Both devices sign in online once, then lose the network.
    auditor = FieldApp(tablet).open()
    auditor.sign_in(field.auditor_email)
    expect(tablet.get_by_role("link", name=field.audit_link)).to_be_visible()
    auditor.wait_offline_ready()
    staff = FieldApp(phone).open()
    staff.sign_in(field.staff_email)
    expect(phone.get_by_role("heading", name="Raise a finding", level=1)).to_be_visible()
    staff.wait_offline_ready()

    context.set_offline(True)
    phone.context.set_offline(True)

    # The app starts with no network, from its own cache and IndexedDB.
    tablet.reload()
    expect(tablet.get_by_text("Offline", exact=True)).to_be_visible()
    tablet.get_by_role("link", name=field.audit_link).click()
    answer_checklist(auditor, field, photo_files)

    # On the phone: photo, one line, save - the area is remembered from the home area.
    phone.reload()
    expect(phone.get_by_text("Offline", exact=True)).to_be_visible()
    expect(phone.get_by_label("Area")).to_have_value(field.area_id)
    phone.get_by_label("Take photo for finding", exact=True).set_input_files(photo_files["wide"])
    expect(phone.get_by_role("img", name="Photo 1 for finding")).to_be_visible()
    phone.get_by_label("What did you see?").fill("Oil leak under press 4")
    phone.get_by_role("button", name="Save finding").click()
    expect(phone.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()
    expect(phone.get_by_label("What did you see?")).to_have_value("")  # a fresh form, area kept
    expect(phone.get_by_label("Area")).to_have_value(field.area_id)
    phone.get_by_label("What did you see?").fill("Drip tray missing")
    phone.get_by_role("button", name="Use my position").click()  # optional, and works offline
    expect(phone.get_by_label("Location (optional)")).to_have_value("52.38100, 4.90300 (±10 m)")
    phone.get_by_role("button", name="Save finding").click()
    expect(phone.get_by_label("What did you see?")).to_have_value("")
    assert phone.viewport_size == PHONE
    staff.go("My findings")
    expect(phone.get_by_role("listitem", name="Oil leak under press 4")).to_contain_text("Waiting to send")

    # The outbox survives closing the app: reopen both, still offline.
    on_tablet = tablet.evaluate(LOCAL_PHOTOS)
    # The sign-off's drawings are kept like photos: PNGs beside the camera's JPEGs.
    tablet_photos = {p["sha256"]: p for p in on_tablet if p["type"] != "image/png"}
    signatures = {p["sha256"]: p for p in on_tablet if p["type"] == "image/png"}
    phone_photos = {p["sha256"]: p for p in phone.evaluate(LOCAL_PHOTOS)}
    assert len(tablet_photos) == 3 and len(signatures) == 2 and len(phone_photos) == 1
    tablet.close()
    phone_context = phone.context
    phone.close()
    tablet = watched(context.new_page())
    auditor = FieldApp(tablet).open("#/sync")
    expect(tablet.locator("#pending-summary")).to_contain_text("5 photos unsent")  # 3 and 2 signatures
    phone = watched(phone_context.new_page())
    staff = FieldApp(phone).open("#/sync")
    expect(phone.locator("#pending-summary")).to_contain_text("2 changes and 1 photo unsent")

    # Photos were downscaled on the device to a long edge of 2048 px, upright, or to the
    # JPEG decoder's own scale nearest it (3000 x 2000 at 5/8).
    dims = {(p["width"], p["height"]) for p in tablet_photos.values()}
    assert dims == {(1875, 1250), (1536, 2048), (800, 600)}

    context.set_offline(False)
    phone_context.set_offline(False)
    auditor.sync_now()
    staff.sync_now()
    auditor.expect_all_sent()
    staff.expect_all_sent()
    for page in (tablet, phone):
        expect(page.get_by_role("heading", name="Needs attention (0)")).to_be_visible()

    # The register has every answer, finding and photo - once.
    responses = live_server.scalars(select(Response).where(Response.audit_id == uuid.UUID(field.audit_id)))
    assert len(responses) == len(field.questions)
    by_question = {str(r.question_id): r.value for r in responses}
    ids = [qid for qid, _, _ in field.questions]
    assert [by_question[i] for i in ids[:7]] == ["no", "pass", 4, "good", 82.5, "Sanding door panels before priming", "2026-11-02"]
    audit = live_server.scalars(select(Audit).where(Audit.id == uuid.UUID(field.audit_id)))[0]
    assert audit.status == "submitted"
    findings = live_server.scalars(select(Finding).where(Finding.area_id == uuid.UUID(field.area_id)))
    assert sorted(f.title for f in findings) == sorted(
        ["8.1 Are emergency exits clear: no", "Oil leak under press 4", "Drip tray missing"])
    assert next(f for f in findings if f.title == "Drip tray missing").location == "52.38100, 4.90300 (±10 m)"
    from_audit = next(f for f in findings if f.audit_id is not None)
    assert (str(from_audit.audit_id), str(from_audit.question_id), from_audit.clause) == (field.audit_id, ids[0], "8.1")
    assert from_audit.location == "Exit B, behind the pallets"

    all_photos = tablet_photos | signatures | phone_photos
    stored = live_server.scalars(select(Photo).where(Photo.sha256.in_(all_photos)))
    assert {p.sha256 for p in stored} == set(all_photos)
    assert all(p.state == PhotoState.STORED for p in stored)
    with live_server.app.app_context():
        store = photo_store(live_server.app)
        for sha in all_photos:
            assert hashlib.sha256(store.get(object_key("original", sha))).hexdigest() == sha
    subjects = [r.id for r in responses] + [f.id for f in findings]
    links = live_server.query(select(PhotoLink.subject, func.count()).where(PhotoLink.subject_id.in_(subjects))
                              .group_by(PhotoLink.subject))
    assert dict(links) == {"response": 3, "finding": 2}  # the finding's photo serves its answer too
    # Each op was applied once: as many op records as distinct ops, none twice.
    ops = live_server.query(select(SyncOp.op_id, func.count()).group_by(SyncOp.device_id, SyncOp.op_id))
    assert all(count == 1 for _, count in ops)
    assert tablet.errors == [] and phone.errors == []
