"""`gemba worker` with real parts: a local SMTP server and a local webhook receiver.

Emails and deliveries survive an SMTP server that is down, a receiver that fails, and a
worker killed with SIGKILL, and reach each recipient once.
"""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    Delivery, Event, FindingKind, Notification, NotificationPreference, TrailCheckpoint, WebhookDelivery,
)
from server.services import checkpoints, findings, notify, trail, webhooks, worker
from tests.notify_parts import Receiver, SmtpServer, free_port, wait_for


@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_FROM="gemba@example.test",
                      BASE_URL="https://gemba.example.test")
    yield server
    server.stop()


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def world(make):
    site = make.site("North")
    area = make.area(site=site, name="Press shop")
    boss = make.user("supervisor", email="boss@example.test", sites=[site])
    area.responsible_id = boss.id
    return {"area": area, "boss": boss, "admin": make.user("admin"), "staff": make.user("staff", home_area=area)}


def _raise_major(world, n=1):
    for i in range(n):
        findings.raise_finding(world["staff"], uuid.uuid4(), {
            "kind": FindingKind.MAJOR_NC, "title": f"Guard removed from press {i}", "area_id": world["area"].id,
            "raised_at": datetime.now(UTC)})


def test_an_email_has_plain_text_html_and_a_link_to_the_record(app, smtp, world, commit):
    _raise_major(world)
    commit()
    result = worker.run_once()
    assert result.emails == 1
    (message,) = smtp.inbox.to("boss@example.test")
    assert message["Subject"] == "Gemba: Major nonconformity: Guard removed from press 0"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"https://gemba.example.test/findings/{db.session.scalar(select(Notification.link)).split('/')[-1]}"
    assert link in plain and f'href="{link}"' in html
    assert worker.run_once().emails == 0  # sent once


def test_smtp_down_then_up_every_mail_arrives_once(app, smtp, world, commit):
    smtp.stop()
    _raise_major(world, 3)
    commit()
    now = datetime.now(UTC)
    down = worker.run_once(now)
    assert down.emails == 0 and down.errors
    assert db.session.scalar(select(func.max(Notification.email_attempts))) == 1
    smtp.start()
    assert worker.run_once(now).emails == 0  # still backing off
    later = now + worker.backoff(1) + timedelta(seconds=1)
    assert worker.run_once(later).emails == 3
    assert worker.run_once(later + timedelta(hours=2)).emails == 0
    assert len(smtp.inbox.to("boss@example.test")) == 3
    assert len({m["Message-ID"] for m in smtp.inbox.to("boss@example.test")}) == 3


def test_a_mail_that_never_goes_through_gives_up_after_the_retry_window(app, world, commit):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), NOTIFY_RETRY_HOURS=24)
    _raise_major(world)
    commit()
    now = datetime.now(UTC)
    moments = [now + timedelta(hours=h) for h in range(0, 26)]
    for moment in moments:
        worker.run_once(moment, scan=False)
    row = db.session.scalar(select(Notification))
    assert row.email_state == Delivery.FAILED and row.email_attempts > 5
    assert "SMTP" in row.email_error


def test_a_daily_digest_replaces_single_mails(app, smtp, world, commit):
    db.session.add(NotificationPreference(user_id=world["boss"].id, kind="finding.raised", channel="digest"))
    db.session.flush()
    _raise_major(world, 2)
    notify.expand()
    commit()
    created = db.session.scalar(select(Notification.created_at))
    assert worker.run_once(created).emails == 0  # held for the digest
    assert smtp.inbox.to("boss@example.test") == []
    next_morning = (created + timedelta(days=1)).replace(hour=7, minute=5)
    result = worker.run_once(next_morning)
    assert result.digests == 1
    (digest,) = smtp.inbox.to("boss@example.test")
    assert "daily digest (2)" in digest["Subject"]
    assert "Guard removed from press 1" in digest.get_body(("plain",)).get_content()
    assert worker.run_once(next_morning + timedelta(days=1)).digests == 0


def test_remind_sends_due_soon_and_overdue_actions_to_their_owners(app, smtp, make, commit):
    area = make.area(name="Goods in")
    finding = make.finding(area, make.user("staff"), title="Pallet racking damaged")
    late = make.user("staff", name="Lena Late", email="lena@example.test")
    relaxed = make.user("staff", email="relaxed@example.test")
    today = date.today()
    make.action(finding, late, due_date=today - timedelta(days=4), plan="Replace upright 3")
    make.action(finding, relaxed, due_date=today + timedelta(days=30), plan="Review layout")
    commit()
    result = app.test_cli_runner().invoke(args=["remind"])
    assert result.exit_code == 0, result.output
    assert "sent 1 email(s)" in result.output
    (mail,) = smtp.inbox.to("lena@example.test")
    assert "Overdue by 4 days: Pallet racking damaged" in mail["Subject"]
    assert "Replace upright 3" in mail.get_body(("plain",)).get_content()
    assert smtp.inbox.to("relaxed@example.test") == []


def test_a_receiver_failing_three_times_gets_one_delivery_with_the_same_key(app, world, commit):
    receiver = Receiver(answers=[500, 500, 500]).start()
    try:
        webhooks.create_webhook(world["admin"], receiver.url, ["finding.raised"])
        _raise_major(world)
        commit()
        now = datetime.now(UTC)
        for attempt in range(1, 5):
            worker.run_once(now, scan=False)
            now += worker.backoff(attempt) + timedelta(seconds=1)
        worker.run_once(now + timedelta(hours=3), scan=False)
        assert [r["status"] for r in receiver.received] == [500, 500, 500, 200]
        keys = {r["headers"]["X-Gemba-Delivery"] for r in receiver.received}
        assert len(keys) == 1
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.state == Delivery.SENT and delivery.attempts == 4 and str(delivery.id) in keys
    finally:
        receiver.stop()


def test_a_hanging_receiver_times_out_and_is_retried(app, world, commit):
    receiver = Receiver(delay=2.0).start()
    app.config["WEBHOOK_TIMEOUT"] = 0.3
    try:
        webhooks.create_webhook(world["admin"], receiver.url, ["finding.raised"])
        _raise_major(world)
        commit()
        worker.run_once(scan=False)
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.state == Delivery.PENDING and "timed out" in delivery.last_error.lower()
    finally:
        receiver.stop()


def _worker_process(database_url: str, once: bool, tmp_path) -> subprocess.Popen:
    env = os.environ | {"GEMBA_DATABASE_URL": database_url, "GEMBA_SECRET_KEY": "test",
                        "GEMBA_WORKER_LEASE_SECONDS": "3", "GEMBA_WEBHOOK_TIMEOUT": "1",
                        "GEMBA_SMTP_PORT": "1"}
    args = [str(Path(sys.executable).parent / "gemba"), "worker", "--interval", "0.05"] + (["--once"] if once else [])
    return subprocess.Popen(args, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(app, database_url, world, commit, tmp_path):
    receiver = Receiver(delay=0.01).start()
    try:
        webhooks.create_webhook(world["admin"], receiver.url, ["finding.raised"])
        _raise_major(world, 120)
        commit()
        process = _worker_process(database_url, False, tmp_path)
        wait_for(lambda: len(receiver.delivered()) >= 20 or process.poll() is not None)
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert len(receiver.delivered()) < 120  # killed mid-batch
        restarted = _worker_process(database_url, False, tmp_path)
        try:
            wait_for(lambda: db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                               .where(WebhookDelivery.state == Delivery.SENT)) == 120
                     or db.session.rollback(), timeout=180)  # generous: a loaded machine starts processes slowly
        finally:
            restarted.terminate()
            restarted.wait(timeout=10)
        keys = [r["headers"]["X-Gemba-Delivery"] for r in receiver.delivered()]
        # Nothing lost: every delivery arrived; nothing doubled: no key arrived twice except
        # those sent and not yet recorded when the worker died, each with its key.
        assert len(set(keys)) == 120
        assert len(keys) - len(set(keys)) <= worker.SENDERS + worker.RECORD_EVERY
    finally:
        receiver.stop()


def test_an_audits_pdf_report_is_emailed_to_the_chosen_people_only(app, smtp, make, commit, template):
    from pypdf import PdfReader  # noqa: PLC0415
    import io  # noqa: PLC0415

    from server.errors import Invalid  # noqa: PLC0415
    site = make.site("North")
    area = make.area(site=site, name="Press shop")
    supervisor = make.user("supervisor", email="sup@example.test", sites=[site])
    colleague = make.user("supervisor", email="colleague@example.test", sites=[site])
    outsider = make.user("staff", email="outsider@example.test")
    audit = make.audit(template, area, make.user("auditor"), status="submitted")
    with pytest.raises(Invalid):
        notify.send_report(supervisor, audit, [str(outsider.id)])
    db.session.add(NotificationPreference(user_id=colleague.id, kind="audit.report", channel="app"))
    assert notify.send_report(supervisor, audit, [str(colleague.id), str(supervisor.id)], "For Monday") == 2
    commit()
    assert worker.run_once().emails == 2
    (mail,) = smtp.inbox.to("colleague@example.test")
    assert "For Monday" in mail.get_body(("plain",)).get_content()
    (pdf,) = [part for part in mail.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert PdfReader(io.BytesIO(pdf.get_content())).pages
    assert len(smtp.inbox.to("sup@example.test")) == 1
    assert smtp.inbox.to("outsider@example.test") == []


@pytest.mark.postgres_only
def test_two_workers_share_the_queue_and_send_each_delivery_once(app, database_url, world, commit, tmp_path):
    receiver = Receiver(delay=0.005).start()
    try:
        webhooks.create_webhook(world["admin"], receiver.url, ["finding.raised"])
        _raise_major(world, 150)
        commit()
        workers = [_worker_process(database_url, False, tmp_path) for _ in range(2)]
        try:
            wait_for(lambda: db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                               .where(WebhookDelivery.state == Delivery.SENT)) == 150
                     or db.session.rollback(), timeout=180)
        finally:
            for process in workers:
                process.terminate()
                process.wait(timeout=10)
        keys = [r["headers"]["X-Gemba-Delivery"] for r in receiver.delivered()]
        assert len(keys) == 150 and len(set(keys)) == 150
    finally:
        receiver.stop()


def test_each_scan_signs_the_trails_head_once_and_verify_then_catches_a_deleted_event(app, make, commit):
    staff = make.user("staff")
    for n in range(3):
        trail.record(staff, "finding.raised", "finding", str(uuid.uuid4()), {"title": f"Loose cable {n}"})
    commit()
    worker.run_once()
    assert db.session.scalar(select(func.count()).select_from(TrailCheckpoint)) == 1
    worker.run_once()  # nothing happened since: no second checkpoint
    assert db.session.scalar(select(func.count()).select_from(TrailCheckpoint)) == 1
    assert checkpoints.verify() == []
    newest = db.session.scalar(select(Event).order_by(Event.id.desc()).limit(1))
    db.session.delete(newest)
    commit()
    assert checkpoints.verify() != []
