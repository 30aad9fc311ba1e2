"""From an empty database to a running organisation, in the browser (issue 11's "done when").

The first admin (created with the command the sign-in page names) adds a site in another
time zone, two areas, an auditor, a staff member and two site-limited supervisors by
invitation, each link read from a real local SMTP server. The staff member sets a
password and raises a finding in the field app; the supervisor of that site sees it, the
other site's does not. Deactivating the staff member ends their session at once.
"""

import threading
import time

import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect
from werkzeug.serving import make_server

from server import create_app
from server.extensions import db
from tests.e2e.conftest import PHONE, TABLET, TIMEOUT_MS, LiveServer, QuietHandler, watched
from tests.e2e.fieldapp import FieldApp
from tests.mailbox import MailServer

ADMIN_PASSWORD = "quarry lantern violet 81"
PASSWORDS = {"kenji@example.test": "maple harbour tundra 17", "amy@example.test": "copper meadow falcon 23",
             "yui@example.test": "saffron glacier orbit 64", "len@example.test": "walnut prism ember 39"}


@pytest.fixture
def mail():
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def empty_server(tmp_path, mail):
    """A server of its own on an empty, migrated database, sending mail to `mail`."""
    app = create_app({
        "TESTING": False, "SECRET_KEY": "e2e-org-secret", "GEMBA_PHOTO_DIR": str(tmp_path / "photos"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": mail.port, "SMTP_FROM": "gemba@example.test",
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 10_000,
    })
    with app.app_context():
        upgrade()
        db.engine.dispose()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, app.config["BASE_URL"])
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _context(browser, url, **options):
    context = browser.new_context(base_url=url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _link(mail, email: str) -> str:
    """The set-your-password link emailed to `email`, waiting (with a deadline) for it to arrive."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if mail.inbox.to(email):
            return mail.inbox.link_for(email)
        time.sleep(0.05)
    raise AssertionError(f"no email to {email}")


def _sign_in(page, email, password):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _section(page, heading: str):
    return page.locator("section", has=page.get_by_role("heading", name=heading))


def _add_person(page, email, name, role, home_area=None, sites=()):
    page.goto("/people/new")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Role").select_option(role)
    if home_area:
        page.get_by_label("Home area").select_option(label=home_area)
    if sites:
        page.get_by_label("Sites they work at").select_option(label=list(sites))
    page.get_by_role("button", name="Add and invite").click()
    expect(page.get_by_text(f"An invitation was emailed to {email}")).to_be_visible()


def _accept(browser, url, link, email, **options):
    """Open the invitation in a browser of the person's own, choose the password; return the page."""
    page = watched(_context(browser, url, **options).new_page())
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.get_by_label("Choose a password").fill(PASSWORDS[email])
    page.get_by_label("The password again").fill(PASSWORDS[email])
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_text("Your password is set and you are signed in.")).to_be_visible()
    return page


def test_from_an_empty_database_to_a_site_limited_organisation(browser, empty_server, mail):
    url = empty_server.url
    admin = watched(_context(browser, url, viewport=TABLET).new_page())

    # The sign-in page of an empty database names the command; the operator runs it.
    admin.goto("/login")
    expect(admin.get_by_text("No one can sign in yet.")).to_be_visible()
    command = admin.locator("pre code").inner_text()
    assert command.startswith("gemba users add") and "--role admin" in command
    result = empty_server.app.test_cli_runner().invoke(
        args=["users", "add", "ada@example.test", "--role", "admin", "--name", "Ada Admin"], input=ADMIN_PASSWORD + "\n")
    assert result.exit_code == 0, result.output

    # Signed in, the admin of an empty organisation is led through the set-up steps.
    _sign_in(admin, "ada@example.test", ADMIN_PASSWORD)
    expect(admin.get_by_role("heading", name="Set up your organisation")).to_be_visible()
    admin.get_by_role("link", name="Add sites").click()
    for name, zone in (("Leeds works", "Europe/London"), ("Osaka plant", "Asia/Tokyo")):
        form = _section(admin, "Add a site")
        form.get_by_label("Name").fill(name)
        form.get_by_label("Time zone").select_option(zone)
        form.get_by_role("button", name="Add site").click()
        expect(admin.get_by_text(f"Site {name} added ({zone})")).to_be_visible()
    admin.get_by_role("navigation", name="Organisation").get_by_role("link", name="Areas").click()
    for site, area in (("Leeds works", "Goods in"), ("Osaka plant", "Press shop")):
        form = _section(admin, "Add an area")
        form.get_by_label("Site").select_option(label=site)
        form.get_by_label("Name").fill(area)
        form.get_by_label("Risk").select_option("high")
        form.get_by_role("button", name="Add area").click()
        expect(admin.get_by_text(f"Area {site} / {area} added.")).to_be_visible()

    # People, each by invitation.
    _add_person(admin, "amy@example.test", "Amy Auditor", "auditor", "Leeds works / Goods in", ["Leeds works"])
    _add_person(admin, "kenji@example.test", "Kenji Sato", "staff", "Osaka plant / Press shop", ["Osaka plant"])
    _add_person(admin, "yui@example.test", "Yui Osaka Supervisor", "supervisor", sites=["Osaka plant"])
    _add_person(admin, "len@example.test", "Len Leeds Supervisor", "supervisor", sites=["Leeds works"])
    admin.goto("/people?q=kenji")
    expect(admin.get_by_role("row", name="Kenji Sato")).to_contain_text("invited")

    # The staff member accepts on their phone, then raises a finding in the field app.
    phone = _accept(browser, url, _link(mail, "kenji@example.test"), "kenji@example.test",
                    viewport=PHONE, is_mobile=True, has_touch=True)
    staff = FieldApp(phone).open()
    staff.sign_in("kenji@example.test", PASSWORDS["kenji@example.test"])
    expect(phone.get_by_role("heading", name="Raise a finding", level=1)).to_be_visible()
    expect(phone.get_by_label("Area")).to_contain_text("Osaka plant / Press shop")
    phone.get_by_label("What did you see?").fill("Guard rail loose at press 2")
    phone.get_by_role("button", name="Save finding").click()
    expect(phone.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()
    staff.sync_now()
    staff.expect_all_sent()

    # The auditor accepts too (and could now sign in anywhere).
    _accept(browser, url, _link(mail, "amy@example.test"), "amy@example.test", viewport=TABLET).context.close()

    # The Osaka supervisor sees the finding, in Osaka's time; the Leeds supervisor does not.
    osaka = _accept(browser, url, _link(mail, "yui@example.test"), "yui@example.test", viewport=TABLET)
    osaka.goto("/findings")
    osaka.get_by_role("link", name="Guard rail loose at press 2").click()
    expect(osaka.get_by_role("heading", name="Guard rail loose at press 2")).to_be_visible()
    expect(osaka.locator("main")).to_contain_text("Asia/Tokyo")
    leeds = _accept(browser, url, _link(mail, "len@example.test"), "len@example.test", viewport=TABLET)
    leeds.goto("/findings")
    expect(leeds.get_by_role("heading", name="Findings")).to_be_visible()
    expect(leeds.get_by_text("Guard rail loose at press 2")).to_have_count(0)
    finding_url = osaka.url
    assert leeds.goto(finding_url).status in (403, 404)

    # Deactivating the staff member ends their session at their very next request.
    assert phone.context.request.get("/api/me").status == 200
    admin.goto("/people?q=kenji")
    admin.get_by_role("link", name="Kenji Sato").click()
    admin.get_by_role("button", name="Deactivate").click()
    expect(admin.get_by_text("Kenji Sato is deactivated")).to_be_visible()
    refused = phone.context.request.get("/api/me")
    assert refused.status == 401 and refused.json()["error"]["code"] == "account_disabled"

    for page in (admin, phone, osaka, leeds):
        assert page.errors == [], page.errors
