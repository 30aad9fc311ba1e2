"""Management review in the register: open one, check its assembled inputs, add an output, sign off, download.

The review is of one site seeded here, so its inputs are this test's hand count whatever
else the shared server holds. The period evidence pack is downloaded from the readiness
page and checked with `sha256sum -c SHA256SUMS`, as the external auditor would.
"""

import itertools
import subprocess
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from server.models import AuditStatus, FindingKind, FindingStatus
from tests import factories
from tests.e2e.test_review_round_trip import register_sign_in

pytestmark = pytest.mark.e2e
_counter = itertools.count(1)
TODAY = date.today()


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def seed():
    n = next(_counter)
    site = factories.site(f"Upkeep works {n}")
    area, other = factories.area(site=site, name="Line 1"), factories.area(site=site, name="Line 2")
    auditor = factories.user("auditor", email=f"mr-auditor{n}@example.test", home_area=other)
    staff = factories.user("staff", email=f"mr-staff{n}@example.test", name=f"Sam Owner {n}", home_area=area)
    supervisor = factories.user("supervisor", email=f"mr-supervisor{n}@example.test")
    template = factories.template(name=f"Upkeep audit {n}")
    factories.audit(template, area, auditor, planned_date=TODAY - timedelta(days=50), status=AuditStatus.APPROVED,
                    submitted_at=at(TODAY - timedelta(days=50)))
    factories.audit(template, other, auditor, planned_date=TODAY - timedelta(days=30), status=AuditStatus.SUBMITTED,
                    submitted_at=at(TODAY - timedelta(days=28)))
    factories.audit(template, area, auditor, planned_date=TODAY - timedelta(days=10))  # late, not done
    major = factories.finding(area, staff, kind=FindingKind.MAJOR_NC, received_at=at(TODAY - timedelta(days=40)))
    factories.finding(area, staff, kind=FindingKind.MAJOR_NC, status=FindingStatus.CLOSED,
                      received_at=at(TODAY - timedelta(days=35)))
    factories.finding(other, staff, kind=FindingKind.MINOR_NC, received_at=at(TODAY - timedelta(days=20)))
    factories.action(major, staff, due_date=TODAY - timedelta(days=3), created_at=at(TODAY - timedelta(days=39)))
    return site.name, supervisor.email, staff.name


def test_a_supervisor_holds_a_management_review_and_downloads_the_packs(office, live_server, tmp_path):
    site_name, supervisor_email, owner_name = live_server.run(seed)
    page = office
    register_sign_in(page, supervisor_email)
    page.goto("/management-reviews")
    page.get_by_label("Period from").fill((TODAY - timedelta(days=60)).isoformat())
    page.get_by_label("Period to").fill((TODAY - timedelta(days=1)).isoformat())
    page.get_by_label("Site").select_option(label=site_name)
    page.get_by_role("button", name="Open the review").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Management review")

    # The inputs, against the seeded data: three audits planned, two done; two majors and a minor raised,
    # one major still open; one corrective action overdue.
    inputs = page.locator("#inputs")
    expect(inputs.locator('[data-figure="planned"]')).to_have_text("3")
    expect(inputs.locator('[data-figure="done"]')).to_have_text("2")
    expect(inputs.locator('[data-kind="major_nc"]')).to_have_text("major nc: 2")
    expect(inputs.locator('[data-kind="minor_nc"]')).to_have_text("minor nc: 1")
    expect(inputs.locator('[data-figure="raised"]')).to_have_text("3")
    expect(inputs.locator('[data-figure="open_major"]')).to_have_text("1")
    expect(inputs.locator('[data-figure="actions_overdue"]')).to_have_text("1")

    page.get_by_label("Attendees").fill("Quality manager\nPlant manager")
    page.get_by_label("Customer satisfaction and feedback").fill("No complaints this quarter.")
    page.get_by_label("Decisions").fill("Fix the open major before the surveillance audit.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Decisions")).to_have_value("Fix the open major before the surveillance audit.")

    outputs = page.locator("#outputs")
    outputs.get_by_label("Action", exact=True).fill("Close the Line 1 major NC")
    outputs.get_by_label("Owner").select_option(label=f"{owner_name} (staff)")
    outputs.get_by_label("Due date").fill((TODAY + timedelta(days=14)).isoformat())
    outputs.get_by_role("button", name="Add the action").click()
    expect(page.locator("#outputs").get_by_role("cell", name="Close the Line 1 major NC")).to_be_visible()

    page.get_by_role("button", name="Sign off the review").click()
    expect(page.get_by_text("Signed off by")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)  # locked

    with page.expect_download() as download:
        page.locator("#review-pack").click()
    pack = tmp_path / "review.pdf"
    download.value.save_as(pack)
    assert pack.read_bytes().startswith(b"%PDF")

    page.goto("/readiness")
    expect(page.locator("#readiness-status")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the ZIP").click()
    archive = tmp_path / "evidence.zip"
    download.value.save_as(archive)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp_path / "evidence")
        assert any(name.startswith("management-reviews/") for name in zipped.namelist())
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path / "evidence", capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert page.errors == []
