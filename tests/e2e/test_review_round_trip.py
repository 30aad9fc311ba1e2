"""A review round trip through both faces: the auditor's tablet and the supervisor's register.

The auditor submits from the app; the supervisor, signed in to the register in another
browser profile, returns the audit with a comment; the tablet shows it returned with
the comment, the auditor changes an answer and resubmits; the supervisor approves; the
tablet shows the audit approved and read-only. The server's record ends approved, with
the one comment and the trail events of both decisions.
"""

import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Audit, Comment, Event, Response
from server.services import audits, feed
from tests import factories
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e

RETURN_COMMENT = "Question 1: the exit by the paint store was not checked. Please look again."


@dataclass
class Review:
    auditor_email: str
    supervisor_email: str
    audit_id: str
    template_name: str
    area_name: str
    questions: list  # question texts, in order

    @property
    def audit_link(self) -> str:
        return f"{self.template_name} - Test site / {self.area_name}"


def seed_review() -> Review:
    """A short two-question checklist (yes/no/n.a., pass/fail) planned for one auditor."""
    tag = uuid.uuid4().hex[:6]
    template = factories.template(questions=2, name=f"Round-trip audit {tag}")
    area = factories.area(name=f"Assembly {tag}")
    auditor = factories.user("auditor", email=f"rt-auditor-{tag}@example.test", home_area=factories.area())
    supervisor = factories.user("supervisor", email=f"rt-supervisor-{tag}@example.test")
    audit = factories.audit(template, area, auditor)
    feed.publish("template", template.id, template.version)
    audits.publish_audit(audit)
    texts = [q.text for q in sorted(template.questions, key=lambda q: q.position)]
    return Review(auditor.email, supervisor.email, str(audit.id), template.name, area.name, texts)


def register_sign_in(page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)


def open_from_queue(page, seed: Review):
    page.goto("/review")
    submitted = page.locator("section", has=page.get_by_role("heading", name="Submitted audits"))
    row = submitted.get_by_role("row").filter(has_text=seed.area_name)
    row.get_by_role("link", name=seed.template_name).click()
    expect(page.get_by_role("heading", name="Review decision")).to_be_visible()


def submit_from_app(app: FieldApp, seed: Review):
    page = app.page
    page.get_by_role("link", name="Review and submit").click()
    expect(page.get_by_text("2 of 2 questions answered")).to_be_visible()
    app.sign_off()
    page.get_by_role("button", name="Submit audit").click()
    expect(page.get_by_role("region", name="Submitted, waiting for review")).to_contain_text(seed.template_name)
    app.sync_now()
    app.expect_all_sent()


def test_return_resubmit_and_approve_round_trip(tablet, office, live_server):
    seed = live_server.run(seed_review)
    first, second = seed.questions

    # The auditor answers and submits on the tablet; it syncs.
    auditor = FieldApp(tablet).open()
    auditor.sign_in(seed.auditor_email)
    tablet.get_by_role("link", name=seed.audit_link).click()
    auditor.question(first).get_by_label("Yes", exact=True).check()
    auditor.question(second).get_by_label("Pass", exact=True).check()
    expect(tablet.get_by_text("2 of 2 answered")).to_be_visible()
    submit_from_app(auditor, seed)

    # The supervisor returns it from the register's review queue, with a comment.
    register_sign_in(office, seed.supervisor_email)
    open_from_queue(office, seed)
    office.get_by_label("What should the auditor fix?").fill(RETURN_COMMENT)
    office.get_by_role("button", name="Return with comment").click()
    expect(office.get_by_role("status").filter(has_text="Audit returned")).to_be_visible()
    expect(office.get_by_role("heading", name="Review queue")).to_be_visible()

    # After its next sync the tablet shows it returned, with the comment.
    auditor.sync_now()
    auditor.go("My audits")
    returned = tablet.get_by_role("region", name="Returned to you")
    expect(returned.get_by_role("link", name=seed.audit_link)).to_be_visible()
    expect(returned.get_by_role("list", name="Reviewer comments")).to_contain_text(RETURN_COMMENT)

    # The auditor resumes by changing an answer (answering resumes it), and resubmits.
    returned.get_by_role("link", name=seed.audit_link).click()
    expect(tablet.get_by_role("region", name="Reviewer comments")).to_contain_text(RETURN_COMMENT)
    expect(auditor.question(first).get_by_label("Yes", exact=True)).to_be_checked()
    auditor.question(first).get_by_label("N/A", exact=True).check()
    expect(auditor.question(first).get_by_role("status")).to_have_text("Answered")
    submit_from_app(auditor, seed)

    # The supervisor approves the resubmitted audit.
    open_from_queue(office, seed)
    answer = office.get_by_role("listitem").filter(has_text=first)
    expect(answer.get_by_text("na", exact=True)).to_be_visible()  # the changed answer reached the register
    office.get_by_role("button", name="Approve audit").click()
    expect(office.get_by_role("status").filter(has_text="Audit approved")).to_be_visible()

    # The tablet shows it approved, and read-only.
    auditor.sync_now()
    auditor.go("My audits")
    approved = tablet.get_by_role("region", name="Approved")
    expect(approved.get_by_role("link", name=seed.audit_link)).to_be_visible()
    expect(tablet.get_by_role("region", name="Returned to you")).to_have_count(0)
    approved.get_by_role("link", name=seed.audit_link).click()
    expect(tablet.get_by_text("Approved", exact=True)).to_be_visible()
    expect(auditor.question(first).get_by_label("N/A", exact=True)).to_be_checked()
    expect(auditor.question(first).get_by_label("Yes", exact=True)).to_be_disabled()
    expect(auditor.question(second).get_by_label("Pass", exact=True)).to_be_disabled()
    expect(tablet.get_by_role("link", name="Review and submit")).to_have_count(0)
    expect(tablet.get_by_role("button", name="Resume audit")).to_have_count(0)

    # The server's record: approved, one comment (the return's), both decisions in the trail.
    audit_id = uuid.UUID(seed.audit_id)

    def server_state():
        audit = db.session.get(Audit, audit_id)
        comments = db.session.scalars(select(Comment).where(Comment.audit_id == audit_id)).all()
        actions = db.session.scalars(select(Event.action).where(Event.entity == "audit", Event.entity_id == str(audit_id))
                                     .order_by(Event.id)).all()
        values = {r.question_id: r.value for r in db.session.scalars(select(Response).where(Response.audit_id == audit_id))}
        by_text = {q.text: values.get(q.id) for q in audit.template.questions}
        return audit.status, [c.body for c in comments], actions, by_text

    status, comments, actions, answers = live_server.run(server_state)
    assert status == "approved"
    assert comments == [RETURN_COMMENT]
    assert actions.count("audit.returned") == 1 and actions.count("audit.approved") == 1
    assert actions.index("audit.returned") < actions.index("audit.approved")
    assert actions.count("audit.submitted") == 2
    assert answers == {first: "na", second: "pass"}
    assert tablet.errors == [] and office.errors == []
