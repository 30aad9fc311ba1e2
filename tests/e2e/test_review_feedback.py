"""What the office decides reaches the device on its next sync: returned audits, finding status, comments."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Audit, AuditStatus, Finding, User
from server.services import audit_review, comments, programme
from tests import factories
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e


def test_returned_audit_and_finding_decisions_reach_the_devices(tablet, phone, live_server, field):
    staff = FieldApp(phone).open()
    staff.sign_in(field.staff_email)
    phone.get_by_label("What did you see?").fill("Exit sign unlit")
    phone.get_by_role("button", name="Save finding").click()
    # Only once it is saved is there something to send; before that "Everything is sent" is true too.
    expect(phone.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()
    staff.expect_all_sent()

    def office_reviews():
        supervisor = db.session.scalar(select(User).where(User.email == field.supervisor_email))
        audit = db.session.get(Audit, uuid.UUID(field.audit_id))
        audit.status = AuditStatus.SUBMITTED  # as if submitted from another device
        audit.bump(["status"])
        audit_review.return_audit(supervisor, audit, "Add a photo of exit B, please.")
        finding = db.session.scalar(select(Finding).where(Finding.title == "Exit sign unlit"))
        audit_review.reject_finding(supervisor, finding, "Duplicate of an open finding.")
        comments.add_comment(supervisor, "Already reported on Monday.", finding=finding)
    live_server.run(office_reviews)

    auditor = FieldApp(tablet).open()
    auditor.sign_in(field.auditor_email)
    returned = tablet.get_by_role("region", name="Returned to you")
    expect(returned).to_contain_text(field.area_name)
    expect(returned.get_by_role("list", name="Reviewer comments")).to_contain_text("Add a photo of exit B, please.")
    tablet.get_by_role("link", name=field.audit_link).click()
    # Open to answer again (answering resumes it): the reviewer's comment on top.
    expect(tablet.get_by_role("region", name="Reviewer comments")).to_contain_text("Add a photo of exit B, please.")
    expect(tablet.get_by_role("link", name="Review and submit")).to_be_visible()

    staff.sync_now()
    staff.expect_all_sent()
    staff.go("My findings")
    card = phone.get_by_role("listitem", name="Exit sign unlit")
    expect(card).to_contain_text("Rejected")
    expect(card).to_contain_text("Reason: Duplicate of an open finding.")
    expect(card.get_by_role("list", name="Supervisor comments")).to_contain_text("Already reported on Monday.")


def test_an_audit_given_to_another_auditor_leaves_the_former_auditors_tablet(tablet, live_server, field):
    auditor = FieldApp(tablet).open()
    auditor.sign_in(field.auditor_email)
    expect(tablet.get_by_role("link", name=field.audit_link)).to_be_visible()

    def reassign():
        supervisor = db.session.scalar(select(User).where(User.email == field.supervisor_email))
        audit = db.session.get(Audit, uuid.UUID(field.audit_id))
        successor = factories.user("auditor", name="Successor")
        programme.set_qualification(supervisor, successor, "ISO 45001", None)
        programme.assign(supervisor, audit, successor)
    live_server.run(reassign)

    auditor.sync_now()
    auditor.expect_all_sent()
    auditor.go("My audits")
    expect(tablet.get_by_role("heading", name="My audits")).to_be_visible()
    expect(tablet.get_by_role("link", name=field.audit_link)).to_have_count(0)
    # The other audit of this auditor stays.
    expect(tablet.get_by_role("link", name=re.compile("Welding bay"))).to_be_visible()
    assert tablet.errors == []
