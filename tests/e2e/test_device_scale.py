"""A fresh device signs in against a large-ish register and reaches an interactive audit list.

The register is seeded through Core inserts (fast): hundreds of audits for other auditors
with their answers, a few thousand findings raised by other people, and this auditor's own
work: 130 audits in every status, with answers, and findings on them. The device's first
sync (a snapshot of what this person may see) must bring their audits and nobody else's,
and the list must count each group, draw its first page, open the rest when asked, and
open an audit. Timing goals are the benchmark's (bench/pwa_device.py), not this test's.
"""

import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import insert, select

from server.extensions import db
from server.models import Audit, Finding, Question, Response, utcnow
from tests import factories
from tests.e2e.conftest import TABLET
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e

# This auditor's audits, by status (the list's groups).
MINE = {"returned": 2, "in_progress": 3, "planned": 25, "submitted": 10, "approved": 80, "rejected": 10}
OTHERS_AUDITS = 400
OTHERS_FINDINGS = 3000
PAGE = 10  # records.AUDIT_PAGE


def seed_register():
    tag = uuid.uuid4().hex[:8]
    template = factories.template(questions=6, name=f"Scale walk {tag}")
    questions = db.session.scalars(select(Question.id).where(Question.template_id == template.id)).all()
    mine_areas = [factories.area(name=f"Mine {tag} {n}") for n in range(4)]
    other_areas = [factories.area(name=f"Elsewhere {tag} {n}") for n in range(6)]
    auditor = factories.user("auditor", email=f"scale-auditor-{tag}@example.test", home_area=other_areas[0])
    others = [factories.user("auditor", email=f"scale-other-{tag}-{n}@example.test") for n in range(3)]
    staff = factories.user("staff", email=f"scale-staff-{tag}@example.test", home_area=other_areas[1])
    start = date(2025, 1, 1)
    now = utcnow()
    audits, responses, findings = [], [], []

    def add_audit(person, area, status, n):
        audit_id = uuid.uuid4()
        audits.append({"id": audit_id, "template_id": template.id, "area_id": area.id, "auditor_id": person.id,
                       "planned_date": start + timedelta(days=n), "status": status, "summary": "",
                       "version": 1, "field_versions": {}, "updated_at": now, "created_at": now})
        if status != "planned":
            for q in questions[: 3 if status == "in_progress" else len(questions)]:
                responses.append({"id": uuid.uuid4(), "audit_id": audit_id, "question_id": q, "value": "yes",
                                  "note": "", "answered_at": now, "answered_by_id": person.id,
                                  "version": 1, "field_versions": {}, "updated_at": now})
        return audit_id

    n = 0
    for status, count in MINE.items():
        for _ in range(count):
            audit_id = add_audit(auditor, mine_areas[n % len(mine_areas)], status, n)
            if status in ("approved", "returned") and n % 4 == 0:
                findings.append(finding_row(mine_areas[0], auditor, f"On my audit {n}", now, audit_id))
            n += 1
    for k in range(OTHERS_AUDITS):
        add_audit(others[k % len(others)], other_areas[k % len(other_areas)], "approved" if k % 3 else "planned", k)
    for k in range(OTHERS_FINDINGS):
        findings.append(finding_row(other_areas[2 + k % 4], staff, f"Someone else's {k}", now))
    db.session.execute(insert(Audit), audits)
    db.session.execute(insert(Response), responses)
    db.session.execute(insert(Finding), findings)
    return {"email": auditor.email, "tag": tag, "template": template.name,
            "mine_areas": [a.name for a in mine_areas], "other_areas": [a.name for a in other_areas]}


def finding_row(area, person, title, now, audit_id=None):
    return {"id": uuid.uuid4(), "kind": "observation", "clause": "8.1", "area_id": area.id, "title": title,
            "description": "", "location": "", "raised_by_id": person.id, "raised_at": now, "received_at": now,
            "audit_id": audit_id, "status": "open", "status_reason": "", "version": 1, "field_versions": {},
            "updated_at": now}


def test_a_fresh_device_reaches_its_own_audit_list_against_a_large_register(browser, live_server):
    seeded = live_server.run(seed_register)
    context = browser.new_context(base_url=live_server.url, viewport=TABLET)
    try:
        page = context.new_page()
        app = FieldApp(page).open()
        app.sign_in(seeded["email"])
        view = page.locator("#view")
        titles = {"returned": "Returned to you", "in_progress": "In progress", "planned": "Planned",
                  "submitted": "Submitted, waiting for review", "approved": "Approved", "rejected": "Rejected"}
        # Every group of mine is counted in full once the first sync is in.
        for status, count in MINE.items():
            expect(view.get_by_role("heading", name=f"{titles[status]} ({count})")).to_be_visible(timeout=45_000)
        cards = view.locator(".card-link")
        # Each group draws its first page only.
        expect(cards).to_have_count(sum(min(count, PAGE) for count in MINE.values()))
        names = cards.all_text_contents()
        assert all(any(area in name for area in seeded["mine_areas"]) for name in names), names
        assert not any(area in name for name in names for area in seeded["other_areas"]), names
        # What the device holds is mine: nobody else's audit came with the first sync.
        stored = page.evaluate("""() => import('/app/db.js').then(async (db) => {
            const me = await db.getMeta('user');
            const audits = await db.getAll('audits');
            return { total: audits.length, others: audits.filter((a) => a.auditor_id !== me.id).length };
        })""")
        assert stored == {"total": sum(MINE.values()), "others": 0}, stored
        # The rest of a group comes when asked for, and a search reaches past the first page.
        approved = view.get_by_role("region", name="Approved")
        approved.get_by_role("button", name=f"Show all {MINE['approved']} ({MINE['approved'] - PAGE} more)").click()
        expect(approved.locator(".card-link")).to_have_count(MINE["approved"])
        page.get_by_label("Search my audits").fill(seeded["other_areas"][0])
        expect(view.get_by_text("No audit matches the search.")).to_be_visible()
        page.get_by_label("Search my audits").fill(seeded["mine_areas"][3])
        expect(view.get_by_role("heading", name=f"Approved ({MINE['approved'] // 4})")).to_be_visible()
        page.get_by_label("Search my audits").fill("")
        # The list is interactive: an audit in progress opens, with its answers.
        in_progress = view.get_by_role("region", name="In progress")
        expect(in_progress.locator(".meta").first).to_contain_text("3 of 6 answered")
        in_progress.locator(".card-link").first.click()
        expect(page.get_by_role("heading", name=seeded["template"]).first).to_be_visible()
    finally:
        context.close()
