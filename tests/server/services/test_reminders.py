"""`gemba remind` emails owners of due and overdue actions through a real local SMTP server."""

import socket
from datetime import date, timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from server.models import ActionStatus


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="gemba@example.test")
    yield inbox
    controller.stop()


def test_remind_emails_each_owner_their_due_and_overdue_actions(app, make, commit, smtp):
    area = make.area(name="Goods in")
    finding = make.finding(area, make.user("staff"), title="Pallet racking damaged")
    late_owner = make.user("staff", name="Lena Late", email="lena@example.test")
    soon_owner = make.user("staff", name="Sam Soon", email="sam@example.test")
    relaxed = make.user("staff", email="relaxed@example.test")
    today = date.today()
    make.action(finding, late_owner, due_date=today - timedelta(days=4), plan="Replace upright 3")
    make.action(finding, late_owner, due_date=today + timedelta(days=1), plan="Fit column guards")
    make.action(finding, soon_owner, due_date=today + timedelta(days=2), plan="Inspect bay 4")
    make.action(finding, relaxed, due_date=today + timedelta(days=30), plan="Review layout")
    make.action(finding, relaxed, due_date=today - timedelta(days=9), plan="Already done", status=ActionStatus.DONE)
    commit()

    result = app.test_cli_runner().invoke(args=["remind", "--base-url", "https://gemba.example.test"])
    assert result.exit_code == 0, result.output
    assert "2 reminder(s) sent." in result.output
    by_recipient = {tuple(rcpt): msg for rcpt, msg in smtp.messages}
    assert set(by_recipient) == {("lena@example.test",), ("sam@example.test",)}
    lena = by_recipient[("lena@example.test",)]
    assert lena["Subject"] == "Gemba: corrective actions 1 overdue, 1 due soon"
    assert lena["From"] == "gemba@example.test"
    body = lena.get_payload(decode=True).decode()
    assert "Replace upright 3" in body and "4 days late" in body and "Fit column guards" in body
    assert f"https://gemba.example.test/findings/{finding.id}" in body
    assert "Review layout" not in body
    assert "Inspect bay 4" in by_recipient[("sam@example.test",)].get_payload(decode=True).decode()


def test_remind_with_nothing_due_sends_nothing(app, make, commit, smtp):
    make.action(make.finding(make.area(), make.user("staff")), make.user("staff"), due_date=date.today() + timedelta(days=20))
    commit()
    result = app.test_cli_runner().invoke(args=["remind"])
    assert result.exit_code == 0
    assert "0 reminder(s) sent." in result.output
    assert smtp.messages == []


def test_remind_says_clearly_when_the_mail_server_is_down(app, make, commit):
    make.action(make.finding(make.area(), make.user("staff")), make.user("staff"), due_date=date.today())
    commit()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    result = app.test_cli_runner().invoke(args=["remind"])
    assert result.exit_code != 0
    assert "Could not send reminders" in result.output
