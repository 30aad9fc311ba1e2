"""The server is never trusted to answer: 500s, cut connections, expired sessions, refusals."""

import json
import threading
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from server.extensions import db
from server.models import Audit, Conflict, Finding, PhotoLink, Response, SyncOp, User
from server.services import accounts, audits
from server.services import sync as server_sync
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e


def raise_offline(app: FieldApp, titles, photo=None):
    """Raise findings on the phone-sized form while offline; the first one with a photo."""
    page = app.page
    app.go("Raise finding")
    for i, title in enumerate(titles):
        if photo and i == 0:
            page.get_by_label("Take photo for finding", exact=True).set_input_files(photo)
            expect(page.get_by_role("img", name="Photo 1 for finding")).to_be_visible()
        page.get_by_label("What did you see?").fill(title)
        page.get_by_role("button", name="Save finding").click()
        expect(page.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()
        expect(page.get_by_label("What did you see?")).to_have_value("")


def findings_titled(live_server, field, titles):
    """The titles of the findings this test's staff raised: other tests share the database and
    may raise findings with the same titles."""
    return live_server.scalars(select(Finding.title).join(User, User.id == Finding.raised_by_id)
                               .where(Finding.title.in_(titles), User.email == field.staff_email))


def signed_in_offline(page, email):
    app = FieldApp(page).open()
    app.sign_in(email)
    app.wait_offline_ready()
    page.context.set_offline(True)
    return app


def test_server_error_is_retried_and_nothing_is_lost(phone, live_server, field, photo_files):
    app = signed_in_offline(phone, field.staff_email)
    titles = ["Guard missing on grinder", "Spill kit empty"]
    raise_offline(app, titles, photo=photo_files["small"])

    failed = []

    def fail_first_push(route):
        if not failed:
            failed.append(route.request.url)
            route.fulfill(status=500, content_type="application/json",
                          body='{"error": {"code": "server_error", "message": "Something went wrong."}}')
        else:
            route.continue_()

    phone.route("**/api/sync/push", fail_first_push)
    phone.context.set_offline(False)
    app.sync_now()
    # The failure is shown, then the backoff timer retries by itself.
    app.expect_all_sent()
    assert len(failed) == 1
    assert sorted(findings_titled(live_server, field, titles)) == sorted(titles)
    assert phone.errors == []


def test_connection_cut_after_the_server_applied_is_not_duplicated(phone, live_server, field, photo_files):
    app = signed_in_offline(phone, field.staff_email)
    titles = ["Forklift parked in walkway", "Eye wash station blocked"]
    raise_offline(app, titles, photo=photo_files["wide"])

    cut = {"push": 0, "photo": 0}

    def reach_server_then_cut(kind):
        def handler(route):
            if cut[kind] == 0 and route.request.method in ("POST", "PUT"):
                cut[kind] += 1
                route.fetch()  # the server receives, applies and answers ...
                route.abort("connectionreset")  # ... and the answer never arrives
            else:
                route.continue_()
        return handler

    phone.route("**/api/sync/push", reach_server_then_cut("push"))
    phone.route("**/api/photos/**", reach_server_then_cut("photo"))
    phone.context.set_offline(False)
    app.sync_now()
    app.expect_all_sent()
    assert cut == {"push": 1, "photo": 1}
    assert sorted(findings_titled(live_server, field, titles)) == sorted(titles)
    rows = live_server.query(select(SyncOp.op_id, func.count()).group_by(SyncOp.device_id, SyncOp.op_id))
    assert rows and all(count == 1 for _, count in rows)
    ids = live_server.scalars(select(Finding.id).where(Finding.title.in_(titles)))
    assert live_server.query(select(func.count()).select_from(PhotoLink).where(PhotoLink.subject_id.in_(ids)))[0][0] == 1
    expect(phone.get_by_role("heading", name="Needs attention (0)")).to_be_visible()


def test_expired_session_pauses_sync_until_signed_in_again(tablet, live_server, field):
    app = signed_in_offline(tablet, field.staff_email)
    titles = ["Loose cable across aisle"]
    raise_offline(app, titles)
    # Signing out would lose unsent work, so it is refused.
    app.sync_screen()
    expect(tablet.get_by_role("button", name="Sign out")).to_be_disabled()
    expect(tablet.get_by_text("Signing out is blocked while anything is unsent.")).to_be_visible()

    tablet.context.clear_cookies()  # the session expired while the device was offline
    tablet.context.set_offline(False)
    app.sync_now()
    banner = tablet.get_by_role("alert").filter(has_text="Session expired")
    expect(banner).to_be_visible()
    expect(tablet.locator("#sync-state")).to_have_text("Paused: sign in again to resume.")
    assert findings_titled(live_server, field, titles) == []
    banner.get_by_role("button", name="Sign in again").click()
    expect(tablet.get_by_label("Email")).to_have_value(field.staff_email)
    tablet.get_by_label("Password").fill("correct horse battery")
    tablet.get_by_role("button", name="Sign in").click()
    expect(banner).to_be_hidden()
    app.expect_all_sent()
    assert findings_titled(live_server, field, titles) == titles
    expect(tablet.get_by_role("button", name="Sign out")).to_be_enabled()


def test_a_deactivated_person_is_told_once_and_can_still_export(tablet, live_server, field):
    app = signed_in_offline(tablet, field.staff_email)
    titles = ["Extension lead under a rug"]
    raise_offline(app, titles)

    def deactivate():
        staff = db.session.scalar(select(User).where(User.email == field.staff_email))
        accounts.set_active(None, staff, False)

    live_server.run(deactivate)
    calls = []
    tablet.on("request", lambda request: calls.append(request.url) if "/api/" in request.url else None)
    tablet.context.set_offline(False)
    app.sync_now()
    banner = tablet.get_by_role("alert").filter(has_text="This account has been deactivated")
    expect(banner).to_be_visible()
    expect(tablet.locator("#sync-state")).to_have_text(
        "Stopped: this account has been deactivated. Export unsent data to keep it.")
    expect(tablet.get_by_text("Next try")).to_have_count(0)  # nothing is scheduled: no retry loop
    with tablet.expect_download() as download:
        tablet.get_by_role("button", name="Export unsent data").click()
    exported = json.loads(open(download.value.path()).read())
    assert [op["fields"]["title"] for op in exported["ops"]] == titles
    assert len(calls) == 1  # the one request that learned it; the export needs no server
    assert findings_titled(live_server, field, titles) == []
    assert tablet.errors == []


def test_conflict_and_rejected_ops_are_listed_under_needs_attention(tablet, live_server, field):
    app = FieldApp(tablet).open()
    app.sign_in(field.auditor_email)
    score = field.questions[2][2]
    tablet.get_by_role("link", name=field.audit_link).click()
    app.question(score).get_by_label("4", exact=True).check()
    app.expect_all_sent()
    tablet.context.set_offline(True)

    def office_changes():
        supervisor = db.session.scalar(select(User).where(User.email == field.supervisor_email))
        response = db.session.scalar(select(Response).where(Response.audit_id == uuid.UUID(field.audit_id),
                                                            Response.question_id == uuid.UUID(field.questions[2][0])))
        audits.write_response(supervisor, response, {"value": 2}, None)
        # The second audit goes to someone else while this tablet is offline.
        second = db.session.get(Audit, uuid.UUID(field.second_audit_id))
        second.auditor_id = supervisor.id
        second.bump(["auditor_id"])
        return response.id
    response_id = live_server.run(office_changes)

    app.go("My audits")
    tablet.get_by_role("link", name=field.audit_link).click()
    app.question(score).get_by_label("5", exact=True).check()
    app.go("My audits")
    tablet.get_by_role("link", name=f"{field.template_name} - Test site / Welding bay").click()
    app.question(score).get_by_label("3", exact=True).check()

    tablet.context.set_offline(False)
    app.sync_now()
    app.expect_all_sent()
    attention = tablet.get_by_role("region", name="Needs attention")
    conflict = attention.get_by_role("listitem").filter(has_text="Conflict:")
    expect(conflict).to_contain_text("value: the server has 2, this device had 5")
    rejected = attention.get_by_role("listitem").filter(has_text="Rejected:")
    expect(rejected.first).to_be_visible()
    assert rejected.count() >= 1
    expect(rejected.first.locator(".reason")).not_to_have_text("")
    # Both values are kept on the server for a supervisor; the server's value stays.
    conflicts = live_server.scalars(select(Conflict).where(Conflict.entity_id == str(response_id)))
    assert [(c.server_value, c.device_value) for c in conflicts] == [(2, 5)]
    # Dismissing removes an item from the list (the server keeps its record).
    conflict.get_by_role("button").click()
    expect(attention.get_by_role("listitem").filter(has_text="Conflict:")).to_have_count(0)


def test_two_tabs_never_sync_at_the_same_time(context, tablet, live_server, field, monkeypatch):
    app = signed_in_offline(tablet, field.staff_email)
    raise_offline(app, ["Handrail loose on stair 2"])
    other = FieldApp(context.new_page()).open("#/sync")

    pushes = []
    arrived, released = threading.Event(), threading.Event()
    real_push = server_sync.apply_push

    def held_push(*args, **kwargs):
        pushes.append(args[2])  # the ops
        arrived.set()
        released.wait(timeout=30)  # a slow uplink, held until both tabs have asked to sync
        return real_push(*args, **kwargs)

    monkeypatch.setattr(server_sync, "apply_push", held_push)
    try:
        context.set_offline(False)  # both tabs hear `online` at the same moment
        assert arrived.wait(timeout=30), "neither tab pushed"
        # While one tab's push is held, a sync asked for in either tab does not start: the
        # pushing tab is busy with it, the other finds it taken.
        for tab in (app, other):
            assert tab.page.evaluate("import('/app/sync.js').then((sync) => sync.syncNow('button'))") == "busy"
    finally:
        released.set()
    app.expect_all_sent()
    other.expect_all_sent()
    assert len(pushes) == 1 and len(pushes[0]) == 1
    assert findings_titled(live_server, field, ["Handrail loose on stair 2"]) == ["Handrail loose on stair 2"]


def test_a_change_saved_while_a_sync_runs_goes_out_right_after_it(phone, live_server, field):
    app = FieldApp(phone).open()
    app.sign_in(field.staff_email)
    app.expect_all_sent()
    app.expect_idle()

    held = []

    def is_pull(url):
        return "/api/sync/pull" in url

    def hold(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    phone.route(is_pull, hold)  # the next sync stalls in its pull
    app.sync_now()
    for _ in range(200):
        if held:
            break
        phone.wait_for_timeout(50)
    assert held, "the sync never reached its pull"

    app.go("Raise finding")
    title = f"Fire door wedged open at gate {uuid.uuid4().hex[:6]}"  # the live server's database is shared
    phone.get_by_label("What did you see?").fill(title)
    phone.get_by_role("button", name="Save finding").click()
    expect(phone.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()
    held[0].continue_()
    # The stalled sync pushed before the change existed; the next one follows within seconds,
    # not on the one-minute regular timer.
    app.expect_all_sent(timeout=15_000)
    assert findings_titled(live_server, field, [title]) == [title]
