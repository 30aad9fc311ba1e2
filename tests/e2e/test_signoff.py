"""Sign-off at submission and annotated photos, on the tablet: drawn offline, synced, shown
in the register."""

import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import AuditSignature, Photo, PhotoLink, PhotoSubject, Response
from server.services import audits, feed
from tests import factories
from tests.e2e.conftest import camera_jpeg
from tests.e2e.fieldapp import FieldApp
from tests.e2e.test_review_round_trip import register_sign_in

pytestmark = pytest.mark.e2e


@dataclass
class Seed:
    auditor_email: str
    auditor_name: str
    supervisor_email: str
    audit_id: str
    template_name: str
    area_name: str
    questions: list

    @property
    def audit_link(self) -> str:
        return f"{self.template_name} - Test site / {self.area_name}"


def seed() -> Seed:
    tag = uuid.uuid4().hex[:6]
    template = factories.template(questions=2, name=f"Close-out audit {tag}")
    area = factories.area(name=f"Dispatch {tag}")
    auditor = factories.user("auditor", email=f"sign-auditor-{tag}@example.test", name=f"Ada {tag}",
                             home_area=factories.area())
    supervisor = factories.user("supervisor", email=f"sign-supervisor-{tag}@example.test")
    audit = factories.audit(template, area, auditor)
    feed.publish("template", template.id, template.version)
    audits.publish_audit(audit)
    texts = [q.text for q in sorted(template.questions, key=lambda q: q.position)]
    return Seed(auditor.email, auditor.name, supervisor.email, str(audit.id), template.name, area.name, texts)


def answer_both(app: FieldApp, s: Seed):
    app.page.get_by_role("link", name=s.audit_link).click()
    app.question(s.questions[0]).get_by_label("Yes", exact=True).check()
    app.question(s.questions[1]).get_by_label("Pass", exact=True).check()
    expect(app.page.get_by_text("2 of 2 answered")).to_be_visible()


def signatures_of(audit_id):
    def read():
        rows = select(AuditSignature.role, AuditSignature.signer_name, Photo.state, Photo.content_type) \
            .join(Photo, Photo.sha256 == AuditSignature.photo_sha256) \
            .where(AuditSignature.audit_id == uuid.UUID(audit_id))
        return sorted(tuple(r) for r in db.session.execute(rows))
    return read


def test_both_sign_offline_then_the_register_and_another_device_show_the_signatures(tablet, office, phone, live_server):
    s = live_server.run(seed)
    app = FieldApp(tablet).open()
    app.sign_in(s.auditor_email)
    app.wait_offline_ready()
    app.expect_idle()
    tablet.context.set_offline(True)
    app.go("My audits")
    answer_both(app, s)
    tablet.get_by_role("link", name="Review and submit").click()

    # Not signed yet: submitting says what is missing and keeps the audit here.
    tablet.get_by_role("button", name="Submit audit").click()
    expect(tablet.get_by_text("Sign-off needs the auditor's signature")).to_be_visible()
    # The auditor's name comes from their account; the auditee types theirs.
    expect(tablet.get_by_label("Name of the auditor")).to_have_value(s.auditor_name)
    app.sign("auditor")
    app.sign("auditee", "Ben Okafor")
    # Clear starts the auditee's signature again.
    auditee = tablet.locator("fieldset[data-role='auditee']")
    auditee.get_by_role("button", name="Clear auditee signature").click()
    expect(auditee.get_by_role("status")).to_have_text("Not signed yet.")
    tablet.get_by_role("button", name="Submit audit").click()
    expect(tablet.get_by_text("Sign-off needs the auditee's signature")).to_be_visible()
    app.sign("auditee")
    tablet.get_by_role("button", name="Submit audit").click()
    expect(tablet.get_by_role("region", name="Submitted, waiting for review")).to_contain_text(s.template_name)
    # Offline, nothing reached the server; the audit on the device shows who signed, and the drawings.
    assert live_server.run(signatures_of(s.audit_id)) == []
    tablet.get_by_role("region", name="Submitted, waiting for review").get_by_role("link", name=s.audit_link).click()
    shows_the_sign_off(tablet, s)

    tablet.context.set_offline(False)
    app.sync_now()
    app.expect_all_sent()

    assert live_server.run(signatures_of(s.audit_id)) == [
        ("auditee", "Ben Okafor", "stored", "image/png"),
        ("auditor", s.auditor_name, "stored", "image/png"),
    ]
    register_sign_in(office, s.supervisor_email)
    office.goto(f"/audits/{s.audit_id}")
    signoff = office.get_by_role("region", name="Sign-off")
    for alt in (f"Signature of {s.auditor_name} (auditor)", "Signature of Ben Okafor (auditee)"):
        image = signoff.get_by_role("img", name=alt)
        expect(image).to_be_visible()
        office.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    # Another device of the auditor's receives the audit with its sign-off.
    other = FieldApp(phone).open()
    other.sign_in(s.auditor_email)
    other.expect_idle()
    other.go("My audits")
    phone.get_by_role("region", name="Submitted, waiting for review").get_by_role("link", name=s.audit_link).click()
    shows_the_sign_off(phone, s)
    assert tablet.errors == [] and office.errors == [] and phone.errors == []


def shows_the_sign_off(page, s: Seed):
    signoff = page.get_by_role("region", name="Sign-off")
    expect(signoff).to_contain_text(f"Auditor: {s.auditor_name}")
    expect(signoff).to_contain_text("Auditee: Ben Okafor")
    for name in (s.auditor_name, "Ben Okafor"):
        image = signoff.get_by_role("img", name=f"Signature of {name}")
        expect(image).to_be_visible()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def test_an_annotated_photo_and_its_original_both_reach_the_server_annotated_first(tablet, office, live_server,
                                                                                   tmp_path):
    s = live_server.run(seed)
    picture = tmp_path / "gauge.jpg"
    picture.write_bytes(camera_jpeg(900, 600, seed=uuid.uuid4().int % 1000))
    app = FieldApp(tablet).open()
    app.sign_in(s.auditor_email)
    answer_both(app, s)
    first = app.question(s.questions[0])
    first.get_by_label("Take photo for question 1").set_input_files(picture)
    expect(first.get_by_role("img", name="Photo 1 for question 1")).to_be_visible()

    first.get_by_role("button", name="Annotate photo 1 for question 1").click()
    dialog = tablet.get_by_role("dialog", name="Annotate photo 1 for question 1")
    canvas = dialog.get_by_role("img", name="Drawing area over the photo 1 for question 1")
    expect(dialog.get_by_role("button", name="Save annotated copy")).to_be_disabled()
    box = canvas.bounding_box()

    def drag(x1, y1, x2, y2):
        tablet.mouse.move(box["x"] + box["width"] * x1, box["y"] + box["height"] * y1)
        tablet.mouse.down()
        tablet.mouse.move(box["x"] + box["width"] * x2, box["y"] + box["height"] * y2, steps=5)
        tablet.mouse.up()

    drag(0.5, 0.5, 0.6, 0.6)  # a circle round the gauge
    dialog.get_by_role("radio", name="Arrow").check()
    drag(0.1, 0.1, 0.4, 0.4)
    dialog.get_by_role("radio", name="Text").check()
    dialog.get_by_label("Text to place").fill("Needle stuck")
    canvas.click(position={"x": box["width"] * 0.2, "y": box["height"] * 0.8})
    dialog.get_by_role("button", name="Save annotated copy").click()
    expect(dialog).to_have_count(0)

    # The annotated copy comes first, the original stays beside it.
    expect(first.get_by_role("img", name="Annotated photo 1 for question 1")).to_be_visible()
    expect(first.get_by_role("img", name="Photo 2 for question 1")).to_be_visible()
    tablet.get_by_role("link", name="Review and submit").click()
    app.sign_off()
    tablet.get_by_role("button", name="Submit audit").click()
    expect(tablet.get_by_role("region", name="Submitted, waiting for review")).to_contain_text(s.template_name)
    app.sync_now()
    app.expect_all_sent()

    def on_server():
        response = db.session.scalar(select(Response).join(PhotoLink, PhotoLink.subject_id == Response.id)
                                     .where(Response.audit_id == uuid.UUID(s.audit_id)))
        hashes = list(db.session.scalars(select(PhotoLink.photo_sha256).where(
            PhotoLink.subject == PhotoSubject.RESPONSE, PhotoLink.subject_id == response.id)
            .order_by(PhotoLink.position)))
        photos = {sha: db.session.get(Photo, sha) for sha in hashes}
        return hashes, {sha: (p.state, p.annotates_sha256) for sha, p in photos.items()}

    hashes, photos = live_server.run(on_server)
    assert len(hashes) == 2
    annotated, original = hashes
    assert photos == {annotated: ("stored", original), original: ("stored", None)}

    register_sign_in(office, s.supervisor_email)
    office.goto(f"/audits/{s.audit_id}")
    tiles = office.locator("ul.photos li")
    expect(tiles).to_have_count(1)  # one tile: the annotated copy, its original reachable from it
    expect(tiles.first.get_by_role("img")).to_have_attribute("src", f"/api/photos/{annotated}?size=thumb")
    expect(tiles.first.get_by_role("link", name="Original of photo 1")).to_have_attribute(
        "href", f"/api/photos/{original}?size=display")
    assert tablet.errors == [] and office.errors == []
