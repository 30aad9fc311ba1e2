"""Readable in sunlight: every visible text on the main screens meets WCAG contrast.

The ratio is computed in the browser from the computed colours, blending semi-transparent
backgrounds up the tree (WCAG 2.x relative luminance). Text is held to WCAG AAA - 7:1, and
4.5:1 for large text - on the field app and the register alike: both are read on the shop floor.
"""

from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from server.models import AuditStatus, FindingKind, FindingStatus
from tests import factories
from tests.e2e.fieldapp import FieldApp
from tests.e2e.test_review_round_trip import register_sign_in

pytestmark = pytest.mark.e2e

MEASURE = (Path(__file__).parent / "contrast.js").read_text()


def low_contrast(page) -> list[dict]:
    """The visible texts on `page` below WCAG AAA: 7:1, or 4.5:1 for large text."""
    texts = page.evaluate(MEASURE)
    assert texts, "nothing measured"
    return [t for t in texts if t["ratio"] < (4.5 if t["large"] else 7.0)]


def test_the_field_app_screens_meet_aaa_contrast(phone, tablet, field):
    staff = FieldApp(phone).open()
    problems = {"sign-in": low_contrast(phone)}
    staff.sign_in(field.staff_email)
    expect(phone.get_by_role("heading", name="Raise a finding")).to_be_visible()
    problems["raise"] = low_contrast(phone)
    # Offline with something unsent: the pending badge, the saved note, the offline marker.
    staff.wait_offline_ready()
    phone.context.set_offline(True)
    phone.get_by_label("What did you see?").fill("Guard missing on press 4")
    phone.get_by_role("button", name="Save finding").click()
    expect(phone.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()
    problems["raise, pending"] = low_contrast(phone)
    staff.go("My findings")
    problems["my findings"] = low_contrast(phone)
    staff.sync_screen()
    problems["sync, pending"] = low_contrast(phone)
    phone.context.set_offline(False)
    staff.expect_all_sent()
    problems["sync, all sent"] = low_contrast(phone)

    auditor = FieldApp(tablet).open()
    auditor.sign_in(field.auditor_email)
    expect(tablet.get_by_role("link", name=field.audit_link)).to_be_visible()
    problems["my audits"] = low_contrast(tablet)
    tablet.get_by_role("link", name=field.audit_link).click()
    expect(tablet.get_by_role("heading", level=1)).to_be_visible()
    problems["checklist"] = low_contrast(tablet)
    assert {screen: found for screen, found in problems.items() if found} == {}


def seed_every_state():
    """Badges in every colour: findings in each state and kind, audits in each status, an overdue action."""
    area, other = factories.area(name="Contrast bay"), factories.area(name="Contrast store")
    staff, auditor = factories.user("staff", home_area=area), factories.user("auditor", home_area=other)
    template = factories.template()
    for status in AuditStatus:
        factories.audit(template, area, auditor, status=status)
    for kind, status in zip(FindingKind, FindingStatus, strict=False):
        factories.finding(area, staff, kind=kind, status=status, title=f"{kind} {status}")
    late = factories.finding(area, staff, kind=FindingKind.MAJOR_NC, status=FindingStatus.ACTION_PLANNED,
                             title="Overdue action on this one")
    factories.action(late, staff, due_date=date.today() - timedelta(days=9))


def test_the_register_pages_meet_aaa_contrast(office, live_server, field):
    live_server.run(seed_every_state)
    office.goto("/login")
    problems = {"login": low_contrast(office)}
    register_sign_in(office, field.supervisor_email)
    for path in ("/", "/findings", "/audits", "/review", "/actions", "/programme", "/coverage", "/trail"):
        office.goto(path)
        problems[path] = low_contrast(office)
    assert {page: found for page, found in problems.items() if found} == {}
