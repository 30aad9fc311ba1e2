"""The notifications, webhooks, events and calendar API, with a real local webhook receiver."""

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.models import FindingKind
from server.services import findings, notify, worker
from tests.notify_parts import Receiver

CONTRACTS = Path(__file__).parents[3] / "docs" / "CONTRACTS.md"


def documented_verify():
    """The verification snippet exactly as docs/CONTRACTS.md gives it."""
    code = re.search(r"```python\n(.*?def verify.*?)```", CONTRACTS.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(CONTRACTS), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


@pytest.fixture
def world(make):
    site = make.site("North")
    area = make.area(site=site, name="Press shop")
    boss = make.user("supervisor", email="boss@example.test", sites=[site])
    area.responsible_id = boss.id
    return {"area": area, "boss": boss, "admin": make.user("admin"), "staff": make.user("staff", home_area=area),
            "other": make.user("supervisor", sites=[make.site("South")])}


def _raise_major(world, title="Guard removed"):
    finding = findings.raise_finding(world["staff"], uuid.uuid4(), {
        "kind": FindingKind.MAJOR_NC, "title": title, "area_id": world["area"].id, "raised_at": datetime.now(UTC)})
    notify.expand()  # the worker's first step
    return finding


def test_notifications_newest_first_with_unread_and_marking_read(world, commit, signed_in):
    _raise_major(world, "First")
    _raise_major(world, "Second")
    boss = signed_in(world["boss"])
    listed = boss.client.get("/api/notifications").json
    assert [n["title"] for n in listed["notifications"]] == ["Major nonconformity: Second", "Major nonconformity: First"]
    assert listed["unread"] == 2
    first_id = listed["notifications"][1]["id"]
    answer = boss.post("/api/notifications/read", json={"ids": [first_id]})
    assert answer.status_code == 200 and answer.json == {"marked": 1, "unread": 1}
    assert boss.post("/api/notifications/read", json={}).json == {"marked": 1, "unread": 0}
    other = signed_in(world["other"]).client.get("/api/notifications").json
    assert other == {"notifications": [], "unread": 0}  # another site's supervisor hears nothing
    assert signed_in(world["staff"]).post("/api/notifications/read", json={"ids": [first_id]}).json["marked"] == 0


def test_preferences_per_kind(world, signed_in):
    boss = signed_in(world["boss"])
    answer = boss.put("/api/notifications/preferences", json={"kind": "finding.raised", "channel": "digest"})
    assert answer.status_code == 200 and answer.json["preferences"]["finding.raised"] == "digest"
    assert boss.put("/api/notifications/preferences", json={"kind": "nope", "channel": "digest"}).status_code == 422


def test_a_webhook_gets_one_signed_delivery_that_the_documented_snippet_verifies(app, world, commit, signed_in):
    receiver = Receiver().start()
    try:
        admin = signed_in(world["admin"])
        created = admin.post("/api/webhooks", json={"url": receiver.url, "events": ["finding.raised"]})
        assert created.status_code == 201, created.json
        secret, hook_id = created.json["secret"], created.json["id"]
        assert len(secret) >= 32
        assert signed_in(world["boss"]).post("/api/webhooks", json={"url": receiver.url, "events": ["finding.raised"]}
                                             ).status_code == 403
        bad = admin.post("/api/webhooks", json={"url": "ftp://example.test", "events": ["finding.raised"]})
        assert bad.status_code == 422
        finding = _raise_major(world)
        commit()
        assert worker.run_once(scan=False).webhooks == 1
        (delivery,) = receiver.received
        headers, body = delivery["headers"], delivery["body"]
        payload = receiver.json(delivery)
        assert payload["kind"] == "finding.raised" and payload["data"]["finding_id"] == str(finding.id)
        assert set(payload) == {"id", "kind", "at", "data"}
        assert headers["X-Gemba-Event"] == "finding.raised"
        verify = documented_verify()
        assert verify(secret, headers, body)
        assert not verify(secret, headers, body.replace(b"Guard", b"Gourd"))
        assert not verify("another secret", headers, body)
        log = admin.client.get(f"/api/webhooks/{hook_id}/deliveries").json["deliveries"]
        assert [(d["id"], d["state"], d["attempts"], d["last_status"]) for d in log] == [
            (headers["X-Gemba-Delivery"], "sent", 1, 200)]
        resent = admin.post(f"/api/webhooks/deliveries/{log[0]['id']}/resend")
        assert resent.status_code == 200 and resent.json["state"] == "pending"
        worker.run_once(scan=False)
        assert [r["headers"]["X-Gemba-Delivery"] for r in receiver.received] == [headers["X-Gemba-Delivery"]] * 2
    finally:
        receiver.stop()


def test_events_can_be_polled_in_order(world, commit, signed_in):
    _raise_major(world, "One")
    _raise_major(world, "Two")
    admin = signed_in(world["admin"])
    page = admin.client.get("/api/events?after=0&limit=1").json
    assert [e["data"]["title"] for e in page["events"]] == ["One"]
    rest = admin.client.get(f"/api/events?after={page['last']}").json
    assert [e["data"]["title"] for e in rest["events"]] == ["Two"]
    assert admin.client.get(f"/api/events?after={rest['last']}").json == {"events": [], "last": rest["last"]}
    assert admin.client.get("/api/events?after=-1").status_code == 422
    assert signed_in(world["boss"]).client.get("/api/events").status_code == 403


def test_a_calendar_address_serves_the_persons_events_until_revoked(app, make, world, signed_in, template):
    auditor = make.user("auditor")
    audit = make.audit(template, world["area"], auditor)
    client = signed_in(auditor)
    created = client.post("/api/me/calendar")
    assert created.status_code == 201
    path = created.json["url"].split("localhost", 1)[-1]
    feed = app.test_client().get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    text = feed.get_data(as_text=True)
    assert text.startswith("BEGIN:VCALENDAR") and f"UID:audit-{audit.id}@gemba" in text
    assert client.client.delete("/api/me/calendar", headers=client.headers()).status_code == 204
    assert app.test_client().get(path).status_code == 404
