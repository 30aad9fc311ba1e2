"""Field capture that loses nothing: drafts kept as typed, photos held until a record uses
them, and answers that call for a finding saying so until they have one."""

import time
import uuid

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Finding, Photo, PhotoLink, Question, Response
from server.services import findings
from tests.e2e.conftest import camera_jpeg, watched
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e

DRAFT = "(key) => import('/app/db.js').then((db) => db.get('drafts', key))"
LOCAL_PHOTO = "(sha) => import('/app/db.js').then((db) => db.get('photos', sha)).then((p) => p ? {bytes: !!p.bytes} : null)"
RESPONSES = "(_) => import('/app/db.js').then((db) => db.getAll('responses'))"


def kill(page):
    """End the page's renderer the way the system does to a backgrounded app: no unload, no blur."""
    with page.expect_event("crash"):
        try:
            page.goto("chrome://crash", timeout=5_000)
        except PlaywrightError:  # the navigation dies with the renderer
            pass
    page.close()


def stored(page, script, arg, check, timeout_s=10):
    """Poll IndexedDB through `script(arg)` until `check(value)` holds; answer the value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(script, arg)
        if check(value):
            return value
        assert time.monotonic() < deadline, f"IndexedDB never held it: {value!r}"
        page.wait_for_timeout(50)


def reopen(context, route=""):
    page = watched(context.new_page())
    return page, FieldApp(page).open(route)


def photos_on_server(live_server, hashes):
    return live_server.scalars(select(Photo.sha256).where(Photo.sha256.in_(list(hashes))))


def unique_photo(directory, name):
    """A photo no other test uploads: photos are stored by hash, so shared files collide."""
    path = directory / f"{name}.jpg"
    path.write_bytes(camera_jpeg(900, 600, seed=uuid.uuid4().int % 1000))
    return path


def test_a_killed_app_keeps_the_half_filled_finding_and_uploads_no_photo(phone, live_server, field, tmp_path):
    photo_files = {"small": unique_photo(tmp_path, "kept"), "wide": unique_photo(tmp_path, "dropped")}
    app = FieldApp(phone).open()
    app.sign_in(field.staff_email)
    phone.get_by_label("Take photo for finding", exact=True).set_input_files(photo_files["small"])
    expect(phone.get_by_role("img", name="Photo 1 for finding")).to_be_visible()
    phone.get_by_label("What did you see?").fill("Oil on the floor by")
    phone.get_by_label("Location (optional)").fill("Line 3")
    expect(phone.get_by_role("status").filter(has_text="Draft")).to_be_visible()
    # Kept as it is typed: the last key is in IndexedDB while the cursor is still in the field.
    draft = stored(phone, DRAFT, "finding:raise", lambda d: d and d["fields"]["location"] == "Line 3")
    sha = draft["fields"]["photos"][0]
    context = phone.context
    kill(phone)

    # Online, the app syncs on start: the draft's photo stays on the device.
    phone, app = reopen(context)
    expect(phone.get_by_role("heading", name="Raise a finding", level=1)).to_be_visible()
    expect(phone.get_by_role("status").filter(has_text="Draft - kept on this device")).to_be_visible()
    expect(phone.get_by_label("What did you see?")).to_have_value("Oil on the floor by")
    expect(phone.get_by_label("Location (optional)")).to_have_value("Line 3")
    expect(phone.get_by_role("img", name="Photo 1 for finding")).to_be_visible()
    expect(phone.locator("#unsent-badge")).to_have_text("All sent")  # a draft is not unsent work
    app.sync_now()
    app.expect_all_sent()
    expect(phone.locator("#drafts-summary")).to_have_text("1 draft not saved yet (kept on this device, not sent)")
    assert photos_on_server(live_server, [sha]) == []

    # Saved: the finding and its photo count as one unsent record, then both arrive.
    app.go("Raise finding")
    phone.get_by_label("What did you see?").fill("Oil on the floor by press 2")
    phone.context.set_offline(True)
    phone.get_by_role("button", name="Save finding").click()
    expect(phone.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()
    expect(phone.get_by_role("status").filter(has_text="Draft")).to_have_count(0)
    expect(phone.locator("#unsent-badge")).to_contain_text("1 unsent")
    phone.context.set_offline(False)
    app.sync_now()
    app.expect_all_sent()
    finding = live_server.scalars(select(Finding).where(Finding.title == "Oil on the floor by press 2"))[0]
    assert finding.location == "Line 3"
    links = live_server.scalars(select(PhotoLink.photo_sha256).where(PhotoLink.subject_id == finding.id))
    assert links == [sha]
    # The capture time the device knew reached the server with the finding.
    taken = live_server.scalars(select(Photo.taken_at).where(Photo.sha256 == sha))[0]
    assert taken is not None and abs((taken - finding.raised_at).total_seconds()) < 24 * 3600

    # A discarded draft takes its photo's bytes with it; nothing reaches the server.
    app.go("Raise finding")
    phone.get_by_label("Take photo for finding", exact=True).set_input_files(photo_files["wide"])
    expect(phone.get_by_role("img", name="Photo 1 for finding")).to_be_visible()
    draft = stored(phone, DRAFT, "finding:raise", lambda d: d and len(d["fields"]["photos"]) == 1)
    dropped = draft["fields"]["photos"][0]
    assert phone.evaluate(LOCAL_PHOTO, dropped) == {"bytes": True}
    phone.get_by_role("button", name="Discard draft").click()
    expect(phone.get_by_role("status").filter(has_text="Draft discarded")).to_be_visible()
    assert phone.evaluate(LOCAL_PHOTO, dropped) is None
    assert phone.evaluate(DRAFT, "finding:raise") is None
    app.sync_now()
    app.expect_all_sent()
    assert photos_on_server(live_server, [dropped]) == []
    assert phone.errors == []


def test_a_note_is_kept_as_it_is_typed(tablet, live_server, field):
    app = FieldApp(tablet).open()
    app.sign_in(field.auditor_email)
    tablet.get_by_role("link", name=field.audit_link).click()
    text = field.questions[1][2]
    app.question(text).get_by_label("Pass", exact=True).check()
    app.question(text).get_by_role("button", name="Note box for question 2").click()
    note = app.question(text).get_by_label("Note for question 2", exact=True)
    expect(note).to_be_focused()
    note.press_sequentially("Tag dated last month")
    # No blur: the cursor is still in the note when the app dies.
    stored(tablet, RESPONSES, None, lambda rs: any(r["note"] == "Tag dated last month" for r in rs))
    context = tablet.context
    kill(tablet)
    tablet, app = reopen(context, f"#/audit/{field.audit_id}")
    expect(app.question(text).get_by_label("Note for question 2", exact=True)).to_have_value("Tag dated last month")
    app.sync_now()
    app.expect_all_sent()
    notes = live_server.scalars(select(Response.note).where(Response.audit_id == uuid.UUID(field.audit_id)))
    assert notes == ["Tag dated last month"]
    assert tablet.errors == []


def test_an_answer_that_calls_for_a_finding_needs_one_and_one_photo_serves_both(tablet, live_server, field, photo_files):
    app = FieldApp(tablet).open()
    app.sign_in(field.auditor_email)
    tablet.get_by_role("link", name=field.audit_link).click()
    text = field.questions[0][2]  # "No" calls for a finding and for a photo
    question = app.question(text)
    question.get_by_label("No", exact=True).check()
    dialog = tablet.get_by_role("dialog", name="Finding for this answer")
    expect(dialog.get_by_label("What did you see?")).to_have_value("8.1 Are emergency exits clear: no")
    dialog.get_by_label("Take photo for this finding").set_input_files(photo_files["small"])
    expect(dialog.get_by_role("img", name="Photo 1 for this finding")).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    # Cancelled: the answer says it still needs a finding, and submitting is blocked.
    expect(question).to_contain_text("Needs a finding")
    tablet.get_by_role("link", name="Review and submit").click()
    blocking = tablet.get_by_role("alert").filter(has_text="block submission")
    expect(blocking.get_by_role("listitem").filter(has_text=text)).to_contain_text("needs a finding")
    tablet.get_by_role("link", name="Back to the checklist").click()

    # Tapping "No" again reopens it, with the draft and its photo.
    question.get_by_text("No", exact=True).click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("status").filter(has_text="Draft")).to_be_visible()
    expect(dialog.get_by_role("img", name="Photo 1 for this finding")).to_be_visible()
    dialog.get_by_label("What did you see?").fill("8.1 Exit B blocked by pallets")
    dialog.get_by_role("button", name="Save finding").click()
    expect(dialog).to_be_hidden()
    expect(question).to_contain_text("Finding raised: 8.1 Exit B blocked by pallets")
    # The finding's photo is the answer's evidence too: no second photo asked for.
    expect(question.get_by_role("img", name="Photo 1 for question 1")).to_be_visible()
    tablet.get_by_role("link", name="Review and submit").click()
    blocking = tablet.get_by_role("alert").filter(has_text="block submission")
    expect(blocking).not_to_contain_text(text)
    app.sync_now()
    app.expect_all_sent()
    response = live_server.scalars(select(Response).where(Response.audit_id == uuid.UUID(field.audit_id)))[0]
    finding = live_server.scalars(select(Finding).where(Finding.question_id == response.question_id))[0]
    links = dict(live_server.query(select(PhotoLink.subject, PhotoLink.photo_sha256)
                                   .where(PhotoLink.subject_id.in_([response.id, finding.id]))))
    assert links["response"] == links["finding"]
    assert tablet.errors == []


def test_staff_edit_and_withdraw_their_finding_until_it_is_triaged(phone, live_server, field):
    app = FieldApp(phone).open()
    app.sign_in(field.staff_email)
    for title in ("Oil on flor", "Grinder guard loose"):
        phone.get_by_label("What did you see?").fill(title)
        phone.get_by_role("button", name="Save finding").click()
        expect(phone.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()
    app.sync_now()
    app.expect_all_sent()
    app.go("My findings")
    search = phone.get_by_label("Search my findings")
    search.fill("grinder")
    expect(phone.get_by_role("listitem", name="Oil on flor")).to_have_count(0)
    expect(phone.get_by_role("listitem", name="Grinder guard loose")).to_be_visible()
    search.fill("")

    phone.get_by_role("link", name="Edit or withdraw: Oil on flor").click()
    expect(phone.get_by_label("What did you see?")).to_have_value("Oil on flor")
    phone.get_by_label("What did you see?").fill("Oil on the floor")
    phone.get_by_label("Location (optional)").fill("Press 2")
    phone.get_by_role("button", name="Save finding").click()
    expect(phone.get_by_role("status").filter(has_text="Changes saved")).to_be_visible()
    app.sync_now()
    app.expect_all_sent()
    fixed = live_server.scalars(select(Finding).where(Finding.title == "Oil on the floor"))
    assert [(f.location, f.status) for f in fixed] == [("Press 2", "open")]

    app.go("My findings")
    phone.get_by_role("link", name="Edit or withdraw: Grinder guard loose").click()
    phone.get_by_role("button", name="Withdraw finding").click()
    phone.get_by_role("button", name="Yes, withdraw it").click()
    withdrawn = phone.get_by_role("listitem", name="Grinder guard loose")
    expect(withdrawn).to_contain_text("Withdrawn")
    expect(withdrawn.get_by_role("link")).to_have_count(0)
    app.sync_now()
    app.expect_all_sent()
    gone = live_server.scalars(select(Finding).where(Finding.title == "Grinder guard loose"))[0]
    assert (gone.status, gone.status_reason) == ("rejected", "Withdrawn by the person who raised it.")

    # Triaged by a supervisor: no longer the raiser's to change.
    def triage():
        finding = db.session.get(Finding, fixed[0].id)
        finding.status = "action_planned"
        finding.bump(["status"])
        db.session.flush()
        findings.publish_finding(finding)

    live_server.run(triage)
    app.sync_now()
    app.expect_all_sent()
    app.go("My findings")
    expect(phone.get_by_role("listitem", name="Oil on the floor")).to_contain_text("Action planned")
    expect(phone.get_by_role("link", name="Edit or withdraw: Oil on the floor")).to_have_count(0)
    assert phone.errors == []


CARD_HEIGHT = "(id) => document.getElementById(`q-${id}`).getBoundingClientRect().height"


def test_compact_cards_and_getting_around_a_long_checklist(tablet, live_server, field):
    tablet.set_viewport_size({"width": 820, "height": 1180})
    app = FieldApp(tablet).open()
    app.sign_in(field.auditor_email)
    app.page.get_by_label("Search my audits").fill(field.area_name)
    expect(tablet.get_by_role("link", name=field.audit_link)).to_be_visible()
    expect(tablet.get_by_role("link", name=f"{field.template_name} - Test site / Welding bay")).to_have_count(0)
    tablet.get_by_role("link", name=field.audit_link).click()
    ids = [qid for qid, _, _ in field.questions]
    texts = [text for _, _, text in field.questions]
    # The audit screen is drawn (its first card shown) before anything on it is measured.
    expect(tablet.locator(f"#q-{ids[0]}")).to_be_visible()
    # No "Start audit": answering starts it.
    expect(tablet.get_by_role("button", name="Start audit")).to_have_count(0)
    expect(app.question(texts[0])).to_be_visible()
    # A yes/no/N/A question with no note is at most 160 px tall on a tablet.
    assert tablet.evaluate(CARD_HEIGHT, ids[0]) <= 160
    app.question(texts[0]).get_by_label("Yes", exact=True).check()
    app.question(texts[1]).get_by_label("Fail", exact=True).check()
    dialog = tablet.get_by_role("dialog", name="Finding for this answer")
    dialog.get_by_role("button", name="Save finding").click()
    expect(dialog).to_be_hidden()
    # Live score and nonconformities: yes (1) and fail (0) score 50 %, one minor NC.
    expect(tablet.locator(".progress-text")).to_have_text("2 of 8 answered · score 50% · 1 NC")
    audit_status = live_server.scalars(select(Response.id).where(Response.audit_id == uuid.UUID(field.audit_id)))
    assert audit_status == []  # offline-first: nothing needed the server

    # Next unanswered lands on the first question not answered, below the one on view.
    tablet.evaluate("scrollTo(0, 0)")
    tablet.get_by_role("button", name="Next unanswered").click()
    expect(app.question(texts[2]).get_by_label("0", exact=True)).to_be_focused()
    # Jump to a section.
    tablet.get_by_label("Jump to section").select_option("Process")
    expect(tablet.get_by_role("heading", name="Process")).to_be_in_viewport()

    # The submit screen opens at its heading; a blocker link lands on its question.
    tablet.get_by_role("link", name="Review and submit").click()
    expect(tablet.get_by_role("heading", name=f"Submit: {field.template_name}")).to_be_in_viewport()
    assert tablet.evaluate("scrollY") == 0
    tablet.get_by_role("alert").get_by_role("link", name=texts[6]).click()
    target = app.question(texts[6])
    expect(target.get_by_label("Answer")).to_be_focused()
    expect(target).to_be_in_viewport()
    assert tablet.errors == []


def test_a_number_out_of_its_limits_behaves_like_a_failing_answer(tablet, live_server, field):
    qid, _, text = field.questions[4]  # "Noise level at the press (dB)"

    def limits():
        question = db.session.get(Question, uuid.UUID(qid))
        question.options, question.finding_answers = [60, 85], ["out_of_range"]

    live_server.run(limits)
    app = FieldApp(tablet).open()
    app.sign_in(field.auditor_email)
    tablet.get_by_role("link", name=field.audit_link).click()
    question = app.question(text)
    question.get_by_label("Answer").fill("92")
    question.get_by_label("Answer").press("Tab")
    dialog = tablet.get_by_role("dialog", name="Finding for this answer")
    expect(dialog.get_by_label("What did you see?")).to_have_value("8.5 Noise level at the press…: 92")
    dialog.get_by_role("button", name="Cancel").click()
    expect(question).to_contain_text("Out of range: allowed 60 to 85")
    expect(question).to_contain_text("Needs a finding")
    question.get_by_label("Answer").fill("80")
    question.get_by_label("Answer").press("Tab")
    expect(question).not_to_contain_text("Out of range")
    expect(question).not_to_contain_text("Needs a finding")
    expect(dialog).to_have_count(0)
    assert tablet.errors == []


SMALLEST_TEXT = """
() => {
  const sizes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !el.getClientRects().length || el.closest(".visually-hidden")) continue;
    sizes.push([parseFloat(getComputedStyle(el).fontSize), node.textContent.trim().slice(0, 30)]);
  }
  return sizes.sort((a, b) => a[0] - b[0])[0];
}
"""
BIG_ENOUGH = """(selector) => {
  const el = document.querySelector(selector);
  const b = el ? el.getBoundingClientRect() : { width: 0, height: 0 };
  return b.width >= 44 && b.height >= 44;
}"""
ROOT_SIZE = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"


def test_readable_on_a_phone_at_any_text_size_and_in_forced_colours(phone, field):
    app = FieldApp(phone).open()
    app.sign_in(field.auditor_email)
    phone.get_by_role("link", name=field.audit_link).click()
    text = field.questions[0][2]
    app.question(text).get_by_label("Yes", exact=True).check()
    # Targets of at least 44 x 44 px: the unsent badge and the back link.
    for selector in ("#unsent-badge", "a.back"):
        phone.wait_for_function(BIG_ENOUGH, arg=selector)
    # No text under 16 px on a phone; the navigation is one row.
    size, sample = phone.evaluate(SMALLEST_TEXT)
    assert size >= 16, sample
    tops = phone.evaluate("() => [...document.querySelectorAll('#nav a')].map((a) => Math.round(a.getBoundingClientRect().top))")
    assert len(tops) >= 5 and len(set(tops)) == 1, tops
    # The browser's text size setting is followed (32 px instead of 16 px doubles the text).
    normal = phone.evaluate(ROOT_SIZE)
    phone.context.new_cdp_session(phone).send("Page.setFontSizes", {"fontSizes": {"standard": 32}})
    expect(phone.locator("html")).to_have_css("font-size", f"{normal * 2:g}px")
    # Forced colours keep the chosen answer visible.
    phone.emulate_media(forced_colors="active")
    chosen = app.question(text).locator("label.choice").filter(has_text="Yes")
    other = app.question(text).locator("label.choice").filter(has_text="No")
    colour = "(el) => getComputedStyle(el).backgroundColor"
    assert chosen.evaluate(colour) != other.evaluate(colour)
    assert phone.errors == []
