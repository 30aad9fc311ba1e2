"""The register's notifications page (unread count in the navigation) and the webhooks pages."""

import uuid
from datetime import UTC, datetime

from server.models import FindingKind
from server.services import findings, notify, webhooks, worker
from tests.notify_parts import Receiver


def _world(make):
    site = make.site("North")
    area = make.area(site=site, name="Press shop")
    boss = make.user("supervisor", sites=[site])
    area.responsible_id = boss.id
    staff = make.user("staff", home_area=area)
    findings.raise_finding(staff, uuid.uuid4(), {"kind": FindingKind.MAJOR_NC, "title": "Guard removed",
                                                 "area_id": area.id, "raised_at": datetime.now(UTC)})
    notify.expand()  # the worker's first step
    return boss


def test_the_navigation_counts_unread_and_the_page_lists_and_marks_them_read(make, register):
    pages = register(_world(make))
    html = pages.text("/notifications")
    assert 'aria-label="1 unread"' in html and "Major nonconformity: Guard removed" in html
    assert pages.post("/notifications/read").status_code == 302
    html = pages.text("/notifications")
    assert 'aria-label="1 unread"' not in html and "0 unread" in html


def test_preferences_and_a_calendar_address_from_the_page(make, register):
    pages = register(_world(make))
    pages.get("/notifications")
    assert pages.post("/notifications/preferences", {"channel-finding.raised": "app"}).status_code == 302
    assert 'value="app" selected' in pages.text("/notifications")
    html = pages.post("/notifications/calendar").get_data(as_text=True)
    url = html.split('id="calendar-url">', 1)[1].split("<", 1)[0]
    assert pages.client.get(url.split("localhost", 1)[1]).mimetype == "text/calendar"


def test_an_admin_registers_a_webhook_sees_its_delivery_log_and_resends(app, make, register, commit):
    receiver = Receiver(answers=[503]).start()
    try:
        admin = make.user("admin")
        pages = register(admin)
        pages.get("/webhooks")
        answer = pages.post("/webhooks", {"url": receiver.url, "events": ["finding.raised"]})
        assert answer.status_code == 302, answer.get_data(as_text=True)
        hook = webhooks.webhooks(admin)[0]
        _world(make)
        commit()
        worker.run_once(scan=False)
        html = pages.text(f"/webhooks/{hook.id}")
        assert hook.secret in html and "HTTP 503" in html and "Resend" in html
        delivery = webhooks.deliveries(admin, hook)[0]
        assert pages.post(f"/webhooks/deliveries/{delivery.id}/resend").status_code == 302
        worker.run_once(scan=False)
        assert [r["status"] for r in receiver.received] == [503, 200]
        assert "sent" in pages.text(f"/webhooks/{hook.id}")
    finally:
        receiver.stop()


def test_the_audit_page_sends_its_report_to_chosen_people(make, register, template):
    site = make.site("North")
    area = make.area(site=site, name="Press shop")
    supervisor = make.user("supervisor", sites=[site])
    colleague = make.user("supervisor", name="Cora Colleague", sites=[site])
    audit = make.audit(template, area, make.user("auditor"), status="submitted")
    pages = register(supervisor)
    html = pages.text(f"/audits/{audit.id}")
    assert "Email the report" in html and "Cora Colleague" in html
    answer = pages.post(f"/audits/{audit.id}/send-report", {"recipients": [str(colleague.id)], "note": "FYI"})
    assert answer.status_code == 302
    assert "on its way to 1 person" in pages.text(f"/audits/{audit.id}")
    refused = pages.post(f"/audits/{audit.id}/send-report", {"recipients": []})
    assert refused.status_code == 302
    assert "Choose at least one person." in pages.text(f"/audits/{audit.id}")
