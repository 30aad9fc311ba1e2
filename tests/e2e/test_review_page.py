"""The register's review page in a browser: the way from the top to the decision, and the
five whys carrying each because into the next why as it is typed (static/whys.js)."""

import uuid

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models import Response
from tests import factories
from tests.e2e.test_review_round_trip import register_sign_in
from tests.register_helpers import submitted_audit

pytestmark = pytest.mark.e2e


def seed():
    tag = uuid.uuid4().hex[:6]
    audit = submitted_audit(questions=26, area=factories.area(name=f"Press shop {tag}"))
    first = min(audit.template.questions, key=lambda q: q.position)
    db.session.query(Response).filter(Response.audit_id == audit.id, Response.question_id == first.id).update({"value": "no"})
    supervisor = factories.user("supervisor", email=f"review-page-{tag}@example.test")
    finding = factories.finding(audit.area, factories.user("staff"), title=f"Exit blocked {tag}")
    return {"audit": str(audit.id), "supervisor": supervisor.email, "finding": str(finding.id), "first": str(first.id)}


def test_jump_to_the_decision_and_carry_the_whys(office, live_server):
    s = live_server.run(seed)
    register_sign_in(office, s["supervisor"])
    office.goto(f"/audits/{s['audit']}")
    answer = office.locator(f"#q-{s['first']}")
    expect(answer).to_contain_text("Nonconforming")
    decision = office.get_by_role("heading", name="Review decision")
    expect(decision).not_to_be_in_viewport()
    office.get_by_role("link", name="Go to the review decision").click()
    expect(decision).to_be_in_viewport()
    expect(office.get_by_role("button", name="Approve audit")).to_be_visible()

    office.goto(f"/findings/{s['finding']}")
    office.get_by_label("Accept: it needs corrective action").check()
    office.get_by_role("button", name="Record decision").click()
    whys = office.get_by_role("group", name="Five whys")
    because = whys.locator("#whys-0-because")
    next_why = whys.locator("#whys-1-why")
    whys.locator("#whys-0-why").fill("Why was the exit blocked?")
    because.fill("Pallets were parked there.")
    expect(whys.locator("#whys-1-why-carried")).to_have_text("Follows step 1: because “Pallets were parked there.”")
    expect(next_why).to_have_value("Why: pallets were parked there?")
    # Still following while the because is edited; a why the person wrote is theirs to keep.
    because.fill("Pallets were parked there by the night shift.")
    expect(next_why).to_have_value("Why: pallets were parked there by the night shift?")
    next_why.fill("Why did the night shift park there?")
    because.fill("Pallets were parked there.")
    expect(next_why).to_have_value("Why did the night shift park there?")
    assert office.errors == []
