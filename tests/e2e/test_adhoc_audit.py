"""An unplanned audit started on the tablet, offline, for an area that is not the auditor's own."""

import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Area, Audit, Response, User
from server.services import feed
from tests import factories
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e


@dataclass
class Seed:
    auditor_email: str
    template_name: str
    home: str  # area labels, as the app shows them
    other: str
    later_home: str  # becomes the auditor's home area after the device signed in
    answered_for: str  # an area the auditor is responsible for
    questions: list


def seed() -> Seed:
    tag = uuid.uuid4().hex[:6]
    template = factories.template(questions=2, name=f"Walk-round {tag}", standard="ISO 14001:2015")
    feed.publish("template", template.id, template.version)
    home, other, later, answered = (factories.area(name=f"{name} {tag}")
                                    for name in ("Stores", "Boiler house", "Compressor room", "Paint line"))
    auditor = factories.user("auditor", email=f"adhoc-{tag}@example.test", home_area=home)
    answered.responsible_id = auditor.id
    texts = [q.text for q in sorted(template.questions, key=lambda q: q.position)]
    return Seed(auditor.email, template.name, home.label, other.label, later.label, answered.label, texts)


def offered_areas(page) -> list[str]:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My audits").click()
    page.get_by_role("link", name="Start an unplanned audit").click()
    options = page.get_by_label("Area").locator("option")
    expect(options).not_to_have_count(0)
    return options.all_inner_texts()


def start_unplanned(page, seed: Seed, area: str):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My audits").click()
    page.get_by_role("link", name="Start an unplanned audit").click()
    page.get_by_label("Checklist").select_option(label=f"{seed.template_name} (v1, ISO 14001:2015)")
    page.get_by_label("Area").select_option(label=area)
    page.get_by_role("button", name="Start audit").click()
    expect(page.get_by_role("heading", name=seed.template_name, level=1)).to_be_visible()


def test_unplanned_audit_offline_and_impartiality_refusal(tablet, live_server):
    s = live_server.run(seed)
    app = FieldApp(tablet).open()
    app.sign_in(s.auditor_email)
    app.wait_offline_ready()
    tablet.context.set_offline(True)

    # The form offers published checklists and every area but the auditor's own and the one they answer for.
    offered = offered_areas(tablet)
    tablet.get_by_role("button", name="Start audit").click()
    expect(tablet.get_by_role("alert")).to_have_text("Choose a checklist.")
    assert s.other in offered and s.later_home in offered
    assert s.home not in offered and s.answered_for not in offered

    # Offline: start, answer and submit one for another area.
    start_unplanned(tablet, s, s.other)
    first, second = s.questions
    app.question(first).get_by_label("Yes", exact=True).check()
    app.question(second).get_by_label("Fail", exact=True).check()
    dialog = tablet.get_by_role("dialog", name="Finding for this answer")
    dialog.get_by_role("button", name="Cancel").click()  # "Fail" calls for a finding; not this time ...
    expect(app.question(second)).to_contain_text("Needs a finding")
    # ... and the note says why, which lets the audit be submitted.
    app.question(second).get_by_role("button", name="Note box for question 2").click()
    app.question(second).get_by_label("Note for question 2", exact=True).fill("Tag replaced while we were there")
    expect(app.question(second)).to_contain_text("No finding: the note says why")
    expect(tablet.get_by_text("2 of 2 answered")).to_be_visible()
    tablet.get_by_role("link", name="Review and submit").click()
    app.sign_off()
    tablet.get_by_role("button", name="Submit audit").click()
    submitted = tablet.get_by_role("region", name="Submitted, waiting for review")
    expect(submitted.get_by_role("link", name=f"{s.template_name} - {s.other}")).to_be_visible()

    # A second one, for an area the device still thinks is someone else's ...
    start_unplanned(tablet, s, s.later_home)

    # ... which the office made the auditor's home area meanwhile.
    def move_auditor():
        auditor = db.session.scalar(select(User).where(User.email == s.auditor_email))
        auditor.home_area_id = db.session.scalar(select(Area.id).where(Area.name == s.later_home.split(" / ")[1]))
    live_server.run(move_auditor)

    tablet.context.set_offline(False)
    app.sync_now()
    app.expect_all_sent()
    attention = tablet.get_by_role("region", name="Needs attention (1)")
    expect(attention).to_contain_text("Rejected: Audit - status in_progress")
    expect(attention).to_contain_text(f"works in {s.later_home} and cannot audit it.")
    app.go("My audits")
    refused = tablet.get_by_role("listitem").filter(has=tablet.get_by_role("link", name=f"{s.template_name} - {s.later_home}"))
    expect(refused).to_contain_text("Not accepted:")

    # The server has the first one, with its auditor, area and answers; not the second.
    def server_state():
        auditor = db.session.scalar(select(User).where(User.email == s.auditor_email))
        rows = db.session.scalars(select(Audit).where(Audit.auditor_id == auditor.id)).all()
        return [(a.area.label, a.template.name, a.status, a.planned_date, a.started_at is not None,
                 sorted(r.value for r in db.session.scalars(select(Response).where(Response.audit_id == a.id))))
                for a in rows]
    assert live_server.run(server_state) == [(s.other, s.template_name, "submitted", None, True, ["fail", "yes"])]

    # The sync brought the new home area along: the form now offers the old one instead.
    offered = offered_areas(tablet)
    assert s.home in offered and s.later_home not in offered and s.answered_for not in offered
    assert tablet.errors == []
