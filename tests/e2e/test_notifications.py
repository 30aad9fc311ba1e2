"""Done when: staff raise a major NC on a phone offline; on sync, the area's responsible person
sees it in the register's notifications (and in the field app), an email with a working link
arrives at a local SMTP server, and a registered webhook receives one signed delivery."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Area, User
from server.services import webhooks, worker
from tests import factories
from tests.e2e.fieldapp import FieldApp
from tests.e2e.test_review_round_trip import register_sign_in
from tests.notify_parts import Receiver, SmtpServer, wait_for
from tests.server.api.test_notify_api import documented_verify

pytestmark = pytest.mark.e2e

TITLE = "Press 4 guard removed, operator exposed"


@pytest.fixture
def parts(live_server):
    smtp = SmtpServer().start()
    receiver = Receiver().start()
    saved = dict(live_server.app.config)
    live_server.app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_FROM="gemba@example.test",
                                  BASE_URL=live_server.url)
    yield smtp, receiver
    live_server.app.config.update({k: saved[k] for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "BASE_URL")})
    receiver.stop()
    smtp.stop()


def test_a_major_nc_raised_offline_reaches_the_responsible_person_by_register_email_and_webhook(
        phone, office, live_server, field, parts):
    smtp, receiver = parts

    def set_up():
        responsible = db.session.scalar(select(User).where(User.email == field.supervisor_email))
        db.session.get(Area, uuid.UUID(field.area_id)).responsible_id = responsible.id
        hook = webhooks.create_webhook(factories.user("admin"), receiver.url, ["finding.raised"])
        return hook.secret
    secret = live_server.run(set_up)

    staff = FieldApp(phone).open()
    staff.sign_in(field.staff_email)
    staff.wait_offline_ready()
    phone.context.set_offline(True)
    staff.go("Raise finding")
    phone.get_by_label("What did you see?").fill(TITLE)
    phone.get_by_text("More details").click()
    phone.get_by_label("Kind").select_option("major_nc")
    phone.get_by_role("button", name="Save finding").click()
    expect(phone.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()

    phone.context.set_offline(False)
    staff.sync_now()
    staff.expect_all_sent()
    live_server.run(lambda: worker.run_once(scan=False))

    # The register: the unread count in the navigation, the notification, the finding.
    register_sign_in(office, field.supervisor_email)
    expect(office.locator("#nav-notifications .badge")).to_have_text("1")
    office.locator("#nav-notifications").click()
    expect(office.get_by_role("heading", name=re.compile("^Notifications"))).to_be_visible()
    office.get_by_role("link", name=f"Major nonconformity: {TITLE}").click()
    expect(office.get_by_role("heading", name=TITLE)).to_be_visible()

    # The email: one, with a link that opens the finding.
    mails = wait_for(lambda: smtp.inbox.to(field.supervisor_email))
    assert len(mails) == 1
    plain = mails[0].get_body(("plain",)).get_content()
    link = re.search(r"Open it: (\S+)", plain).group(1)
    assert link.startswith(live_server.url)
    office.goto(link)
    expect(office.get_by_role("heading", name=TITLE)).to_be_visible()

    # The webhook: one delivery for this finding, signed as the contract says.
    ours = [d for d in receiver.delivered() if receiver.json(d)["data"]["title"] == TITLE]
    assert len(ours) == 1
    assert documented_verify()(secret, ours[0]["headers"], ours[0]["body"])
    live_server.run(lambda: worker.run_once(scan=False))
    assert len([d for d in receiver.delivered() if receiver.json(d)["data"]["title"] == TITLE]) == 1

    # The field app shows it after a sync, and still offline.
    responsible = FieldApp(office).open()
    responsible.sign_in(field.supervisor_email)
    nav = office.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Notifications (1)")).to_be_visible()
    responsible.wait_offline_ready()
    office.context.set_offline(True)
    nav.get_by_role("link", name="Notifications (1)").click()
    expect(office.get_by_role("listitem", name=f"Major nonconformity: {TITLE}")).to_be_visible()
    assert phone.errors == [] and office.errors == []
