"""My actions: an owner sees the corrective actions assigned to them and marks one done, offline."""

import json
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import ActionStatus, Area, CorrectiveAction, FindingStatus, User
from server.services import actions
from tests import factories
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e

# When the field app last finished a sync, from its sync loop (the module the app runs).
LAST_SUCCESS = "import('/app/sync.js').then((sync) => sync.state.running ? null : sync.state.lastSuccess)"


def wait_until(page, condition: str, timeout_s: float = 15):
    """Poll a condition in the page (wait_for_function would evaluate a string, which the app's CSP forbids)."""
    for _ in range(int(timeout_s * 20)):
        if page.evaluate(f"async () => Boolean(await ({condition}))"):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {condition}")


def test_owner_marks_an_action_done_offline_and_the_register_has_it(phone, live_server, field):
    staff = FieldApp(phone).open()
    staff.sign_in(field.staff_email)
    staff.go("My actions")
    expect(phone.get_by_role("heading", name="My actions")).to_be_visible()
    expect(phone.get_by_text("No corrective actions are assigned to you.")).to_be_visible()
    staff.wait_offline_ready()

    def office_assigns():
        supervisor = db.session.scalar(select(User).where(User.email == field.supervisor_email))
        owner = db.session.scalar(select(User).where(User.email == field.staff_email))
        area = db.session.get(Area, uuid.UUID(field.area_id))
        # Raised by the supervisor, so the owner's device never had the finding itself.
        guard = factories.finding(area, supervisor, title="Press 4 guard missing")
        planned = actions.plan_action(supervisor, guard, {
            "whys": [{"why": "Why was the guard off?", "because": "Maintenance removed it"}],
            "root_cause": "Guard removed for maintenance and not refitted", "plan": "Refit the guard; add it to the checklist",
            "owner_id": str(owner.id), "due_date": (date.today() + timedelta(days=10)).isoformat(),
        })
        late = factories.action(factories.finding(area, supervisor, title="Bay 2 spill kit used up"), owner,
                                plan="Restock the spill kit", due_date=date.today() - timedelta(days=2))
        actions.publish_action(late)
        factories.action(factories.finding(area, supervisor, title="Someone else's"),
                         factories.user("staff"), plan="Not for this phone")
        return str(planned.id), str(late.id)
    planned_id, late_id = live_server.run(office_assigns)

    staff.sync_now()
    staff.go("My actions")
    guard = phone.get_by_role("listitem", name="Press 4 guard missing")
    spill = phone.get_by_role("listitem", name="Bay 2 spill kit used up")
    expect(guard).to_contain_text("Plan: Refit the guard; add it to the checklist")
    expect(guard).to_contain_text(f"Due {(date.today() + timedelta(days=10)).isoformat()}")
    expect(guard).to_contain_text("Open")
    expect(guard.get_by_text("Overdue")).to_have_count(0)
    expect(spill.get_by_text("Overdue")).to_be_visible()
    expect(phone.get_by_role("listitem").filter(has_text="Not for this phone")).to_have_count(0)

    # Offline: the owner marks the overdue one done, with a note.
    phone.context.set_offline(True)
    expect(phone.get_by_text("Offline", exact=True)).to_be_visible()
    spill.get_by_role("button", name="Mark done").click()
    expect(spill.get_by_role("alert")).to_have_text("Say in a line what was done.")
    spill.get_by_label("What was done?").fill("Restocked from stores, 2 kits")
    spill.get_by_role("button", name="Mark done").click()
    expect(spill).to_contain_text("Waiting to send")
    expect(spill).to_contain_text("Done: Restocked from stores, 2 kits")
    expect(spill.get_by_role("button", name="Mark done")).to_have_count(0)
    expect(guard.get_by_role("button", name="Mark done")).to_be_visible()

    phone.context.set_offline(False)
    staff.sync_now()
    staff.expect_all_sent()
    expect(phone.get_by_role("heading", name="Needs attention (0)")).to_be_visible()
    staff.go("My actions")
    expect(spill).to_contain_text("Done")
    expect(spill).not_to_contain_text("Waiting to send")

    def server_state():
        late = db.session.get(CorrectiveAction, uuid.UUID(late_id))
        planned = db.session.get(CorrectiveAction, uuid.UUID(planned_id))
        return late.status, late.done_note, late.done_at is not None, late.finding.status, planned.status
    assert live_server.run(server_state) == (
        ActionStatus.DONE, "Restocked from stores, 2 kits", True, FindingStatus.OPEN, ActionStatus.OPEN)
    assert phone.errors == []


def test_the_list_is_not_redrawn_under_the_owner_while_they_fill_in_a_note(phone, live_server, field):
    def office_assigns():
        supervisor = db.session.scalar(select(User).where(User.email == field.supervisor_email))
        owner = db.session.scalar(select(User).where(User.email == field.staff_email))
        area = db.session.get(Area, uuid.UUID(field.area_id))
        action = factories.action(factories.finding(area, supervisor, title="Eyewash bottle expired"), owner,
                                  plan="Replace the bottle", due_date=date.today() + timedelta(days=3))
        actions.publish_action(action)
    live_server.run(office_assigns)

    staff = FieldApp(phone).open()
    staff.sign_in(field.staff_email)
    staff.expect_all_sent()
    staff.go("My actions")
    card = phone.get_by_role("listitem", name="Eyewash bottle expired")
    card.get_by_role("button", name="Mark done").click()
    expect(card.get_by_role("alert")).to_have_text("Say in a line what was done.")
    phone.evaluate("document.querySelector('#view textarea').dataset.drawn = 'before'")
    synced_before = phone.evaluate(LAST_SUCCESS)

    # The network drops and returns: the sync that follows changes the list's status and data,
    # which redraws a list - but not one the owner is filling in (the note has the focus), or
    # the reason the note is needed would vanish under them.
    phone.context.set_offline(True)
    expect(phone.get_by_text("Offline", exact=True)).to_be_visible()
    phone.context.set_offline(False)
    expect(phone.get_by_text("Online", exact=True)).to_be_visible()
    # Wait for the redraw that sync asked for to have been decided: first the sync itself ends,
    # then the frame around the list is drawn again (the redraw timer draws it whether it
    # redraws the list or leaves it to the typing owner).
    wait_until(phone, f"{LAST_SUCCESS}.then((last) => last !== null && last !== {json.dumps(synced_before)})")
    phone.evaluate("window.__frameDrawn = false; new MutationObserver(() => { window.__frameDrawn = true; })"
                   ".observe(document.querySelector('#status'), {childList: true, subtree: true, characterData: true})")
    wait_until(phone, "window.__frameDrawn")
    assert phone.evaluate("document.querySelector('#view textarea').dataset.drawn") == "before"
    expect(card.get_by_role("alert")).to_have_text("Say in a line what was done.")
    card.get_by_label("What was done?").fill("Replaced with a new bottle, dated")
    card.get_by_role("button", name="Mark done").click()
    expect(card).to_contain_text("Done: Replaced with a new bottle, dated")
    assert phone.errors == []
