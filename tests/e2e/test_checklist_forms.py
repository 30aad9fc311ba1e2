"""Checklists that match real forms, in the field app: show-if questions appear and
disappear as answers change (offline), a multiple-choice question is a set of checkboxes,
the live score follows the checklist's rule, and the register shows what arrived."""

import itertools
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Audit, Response
from server.services import audits, checklists
from tests import factories
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e

_n = itertools.count(1)
BIG_ENOUGH = """(el) => { const b = el.getBoundingClientRect(); return b.width >= 44 && b.height >= 44; }"""


def seed_form():
    n = f"{next(_n)}-{uuid.uuid4().hex[:6]}"
    template = checklists.import_checklist(None, {
        "format": "gemba-checklist/1", "name": f"Hot work walk {n}", "standard": "ISO 45001:2018",
        "description": "", "review_due": "2030-01-01",
        "scoring": {"deductions": {"major_nc": 10, "minor_nc": 5}},
        "questions": [
            {"section": "Walk", "text": "Is hot work going on?", "kind": "yes_no_na", "clause": "8.1", "weight": 0},
            {"section": "Walk", "text": "Is the hot-work permit signed?", "kind": "pass_fail", "clause": "8.1.2",
             "finding_answers": ["fail"], "show_if": {"question": 1, "values": ["yes"]}},
            {"section": "Walk", "text": "PPE seen", "kind": "multi_choice", "clause": "8.1.3",
             "options": ["Helmet", "Gloves", "Boots"]},
            {"section": "Gloves", "text": "Are the gloves rated for the task?", "kind": "yes_no_na", "clause": "8.1.4",
             "show_if": {"question": 3, "values": ["Gloves"]}},
            {"section": "Gloves", "text": "Are spare gloves at the station?", "kind": "yes_no_na", "clause": "8.1.4",
             "show_if": {"question": 3, "values": ["Gloves"]}},
            {"section": "Guarding", "text": "Are the guards in place?", "kind": "pass_fail", "clause": "8.1.5",
             "weight": 2},
        ],
    })
    checklists.publish(None, template)
    area = factories.area(name=f"Welding {n}")
    auditor = factories.user("auditor", email=f"forms-auditor-{n}@example.test", home_area=factories.area(name=f"Home {n}"))
    supervisor = factories.user("supervisor", email=f"forms-supervisor-{n}@example.test")
    audit = factories.audit(template, area, auditor)
    audits.publish_audit(audit)
    return {"auditor": auditor.email, "supervisor": supervisor.email, "audit_id": str(audit.id),
            "link": f"{template.name} - Test site / {area.name}",
            "questions": [str(q.id) for q in template.questions]}


def test_show_if_and_multiple_choice_offline_then_synced_and_in_the_register(tablet, office, live_server):
    seeded = live_server.run(seed_form)
    app = FieldApp(tablet).open()
    app.sign_in(seeded["auditor"])
    app.wait_offline_ready()
    app.expect_idle()
    app.go("My audits")
    tablet.context.set_offline(True)
    tablet.get_by_role("link", name=seeded["link"]).click()

    gate, permit = app.question("1. Is hot work going on?"), app.question("2. Is the hot-work permit signed?")
    ppe = app.question("3. PPE seen")
    rated, spare = app.question("4. Are the gloves rated for the task?"), app.question("5. Are spare gloves at the station?")
    guards = app.question("6. Are the guards in place?")
    gloves_section = tablet.get_by_role("region", name="Gloves")
    expect(permit).to_be_hidden()
    expect(gloves_section).to_be_hidden()  # every question of the section is hidden: so is the section
    expect(tablet.locator(".progress-text")).to_contain_text("0 of 3 answered")

    # A show-if question appears and disappears as the answer it depends on changes.
    gate.get_by_label("Yes").check()
    expect(permit).to_be_visible()
    expect(tablet.locator(".progress-text")).to_contain_text("1 of 4 answered")
    gate.get_by_label("No", exact=True).check()
    expect(permit).to_be_hidden()
    gate.get_by_label("Yes").check()
    permit.get_by_label("Pass").check()

    # Multiple choice: checkboxes, each a 44 px target; "Gloves" among them shows a section.
    helmet, gloves = ppe.get_by_role("checkbox", name="Helmet"), ppe.get_by_role("checkbox", name="Gloves")
    helmet.check()
    gloves.check()
    expect(rated).to_be_visible()
    expect(spare).to_be_visible()
    for option in ("Helmet", "Gloves", "Boots"):
        assert ppe.locator("label.choice", has_text=option).evaluate(BIG_ENOUGH), option
    gloves.uncheck()
    expect(gloves_section).to_be_hidden()
    gloves.check()
    rated.get_by_label("Yes").check()
    spare.get_by_label("No", exact=True).check()
    guards.get_by_label("Pass").check()
    # Live score by the checklist's rule: permit 1 of 1, gloves 1 + 0 of 2, guards 2 of 2
    # (weight 2), the gate weighs nothing: 4 of 5.
    expect(tablet.locator(".progress-text")).to_contain_text("6 of 6 answered · score 80%")

    # Submit offline, then sync.
    tablet.get_by_role("link", name="Review and submit").click()
    expect(tablet.get_by_role("alert")).to_have_count(0)
    expect(tablet.get_by_text("6 of 6 questions answered")).to_be_visible()
    tablet.get_by_role("button", name="Submit audit").click()
    expect(tablet.get_by_role("region", name="Submitted, waiting for review")).to_contain_text("Hot work walk")
    tablet.context.set_offline(False)
    app.sync_now()
    app.expect_all_sent()
    values = dict(live_server.query(select(Response.question_id, Response.value)
                                    .where(Response.audit_id == uuid.UUID(seeded["audit_id"]))))
    assert values[uuid.UUID(seeded["questions"][2])] == ["Helmet", "Gloves"]
    audit = live_server.scalars(select(Audit).where(Audit.id == uuid.UUID(seeded["audit_id"])))[0]
    assert (audit.status, audit.score) == ("submitted", 80.0)  # the server's score agrees with the app's

    # The register shows the multiple choice, and the score.
    office.goto("/login")
    office.get_by_label("Email").fill(seeded["supervisor"])
    office.get_by_label("Password").fill(factories.PASSWORD)
    office.get_by_role("button", name="Sign in").click()
    expect(office.get_by_role("button", name="Sign in")).to_have_count(0)
    office.goto(f"/audits/{seeded['audit_id']}")
    expect(office.get_by_text("Helmet, Gloves", exact=True)).to_be_visible()
    expect(office.locator("dl.facts")).to_contain_text("80%")
    expect(office.locator("dl.facts")).to_contain_text("6 of 6 answered")
    assert tablet.errors == [] and office.errors == []
