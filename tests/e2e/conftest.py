"""Fixtures for the field-app tests: a live server on loopback, Chromium, phone and tablet pages.

The server is the real app (werkzeug, threaded) on a free loopback port with its own
SQLite database, migrated with Alembic like production. Each test seeds its own users
and audit, so tests share the server but never each other's data.
"""

import io
import itertools
import threading
from dataclasses import dataclass
from datetime import date

import pytest
from flask_migrate import upgrade
from PIL import Image, ImageFilter
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from server import create_app
from server.extensions import db
from server.models import Question, QuestionKind, Template, TemplateStatus, utcnow
from server.services import audits, feed
from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 360, "height": 740}
TABLET = {"width": 1024, "height": 768}
TIMEOUT_MS = 20_000

expect.set_options(timeout=TIMEOUT_MS)


class LiveServer:
    def __init__(self, app, url):
        self.app = app
        self.url = url

    def query(self, statement):
        """Run a read against the server's database, returning all rows."""
        with self.app.app_context():
            try:
                return db.session.execute(statement).all()
            finally:
                db.session.remove()

    def scalars(self, statement):
        with self.app.app_context():
            try:
                return db.session.scalars(statement).all()
            finally:
                db.session.remove()

    def run(self, work):
        """Run `work()` in an app context and commit (server-side changes a test needs)."""
        with self.app.app_context():
            try:
                result = work()
                db.session.commit()
                return result
            finally:
                db.session.remove()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("e2e")
    app = create_app({
        "TESTING": False,
        "SECRET_KEY": "e2e-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'gemba-e2e.db'}",
        "GEMBA_PHOTO_DIR": str(directory / "photos"),
        # Every test signs in several times from one address.
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 10_000,
    })
    with app.app_context():
        upgrade()
        db.engine.dispose()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # a line per request drowns a failure's story
        pass


_counter = itertools.count(1)

KINDS = [
    # (kind, text, options, finding answers, photo answers, required)
    (QuestionKind.YES_NO_NA, "Are emergency exits clear?", [], ["no"], ["no"], True),
    (QuestionKind.PASS_FAIL, "Fire extinguisher inspection tag", [], ["fail"], [], True),
    (QuestionKind.SCORE, "Housekeeping score", [0, 5], [], [], True),
    (QuestionKind.CHOICE, "Waste segregation", ["good", "partial", "none"], ["none"], [], True),
    (QuestionKind.NUMBER, "Noise level at the press (dB)", [], [], [], True),
    (QuestionKind.TEXT, "Operator's description of the job", [], [], [], False),
    (QuestionKind.DATE, "Date of the last calibration", [], [], [], True),
    (QuestionKind.PHOTO, "Photo of the work instruction at the station", [], [], [], True),
]


@dataclass
class Field:
    """One test's people and work: an auditor with a planned audit, staff, areas."""

    auditor_email: str
    staff_email: str
    supervisor_email: str
    audit_id: str
    second_audit_id: str  # the same checklist in another area
    area_id: str
    area_name: str
    template_name: str
    questions: list  # [(id, kind, text)] in checklist order

    @property
    def audit_link(self) -> str:
        """The name of the first audit's link in "My audits"."""
        return f"{self.template_name} - Test site / {self.area_name}"


def seed_field() -> Field:
    n = next(_counter)
    area = factories.area(name=f"Paint shop {n}")
    home = factories.area(name=f"Stores {n}")
    template = Template(name=f"Shop-floor audit {n}", standard="ISO 45001:2018", status=TemplateStatus.PUBLISHED,
                        published_at=utcnow(), review_due=date(2030, 1, 1))
    for i, (kind, text, options, finding, photo, required) in enumerate(KINDS):
        template.questions.append(Question(
            section="Safety" if i < 4 else "Process", position=i + 1, text=text, kind=kind, options=options,
            clause=f"8.{i + 1}", finding_answers=finding, photo_answers=photo, required=required))
    db.session.add(template)
    db.session.flush()
    # Their own names: the factories' defaults (staff<n>@...) come from another counter, and
    # every browser test shares the live server's database.
    auditor = factories.user("auditor", email=f"field-auditor{n}@example.test", home_area=home)
    staff = factories.user("staff", email=f"field-staff{n}@example.test", home_area=area)
    supervisor = factories.user("supervisor", email=f"field-supervisor{n}@example.test")
    audit = factories.audit(template, area, auditor)
    second = factories.audit(template, factories.area(name=f"Welding bay {n}"), auditor)
    # Factories write rows only; devices learn of records through the change feed.
    feed.publish("template", template.id, template.version)
    audits.publish_audit(audit)
    audits.publish_audit(second)
    questions = db.session.scalars(select(Question).where(Question.template_id == template.id)
                                   .order_by(Question.position)).all()
    return Field(auditor.email, staff.email, supervisor.email, str(audit.id), str(second.id), str(area.id), area.name,
                 template.name, [(str(q.id), q.kind, q.text) for q in questions])


@pytest.fixture
def field(live_server) -> Field:
    return live_server.run(seed_field)


@pytest.fixture(scope="session")
def playwright_instance():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser, live_server):
    """A fresh browser profile (its own IndexedDB and service worker), tablet-sized."""
    context = browser.new_context(base_url=live_server.url, viewport=TABLET, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def watched(page):
    """`page`, collecting uncaught script errors in `page.errors` (a test asserts none)."""
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


@pytest.fixture
def tablet(context):
    return watched(context.new_page())


@pytest.fixture
def office(browser, live_server):
    """The supervisor's register: a separate browser profile, so its own session cookie."""
    context = browser.new_context(base_url=live_server.url, viewport=TABLET)
    context.set_default_timeout(TIMEOUT_MS)
    yield watched(context.new_page())
    context.close()


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True,
                                  geolocation={"latitude": 52.381, "longitude": 4.903, "accuracy": 10},
                                  permissions=["geolocation"])
    context.set_default_timeout(TIMEOUT_MS)
    yield watched(context.new_page())
    context.close()


def camera_jpeg(width: int, height: int, seed: int = 0, orientation: int | None = None) -> bytes:
    """A JPEG with camera-like detail (noise at two scales), optionally with EXIF orientation."""
    coarse = Image.effect_noise((max(2, width // 40), max(2, height // 40)), 60 + seed).resize((width, height))
    fine = Image.effect_noise((width, height), 25)
    gray = Image.blend(coarse, fine, 0.3).filter(ImageFilter.SMOOTH)
    image = Image.merge("RGB", (gray, gray.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gray.point(lambda v: 255 - v)))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


@pytest.fixture(scope="session")
def photo_files(tmp_path_factory):
    """Camera-like JPEGs on disk for the file inputs: large ones, one rotated by EXIF."""
    directory = tmp_path_factory.mktemp("photos")
    files = {}
    for name, (w, h, orientation) in {
        "wide": (3000, 2000, None),
        "rotated": (2400, 1800, 6),  # stored landscape, shown portrait
        "small": (800, 600, None),
    }.items():
        path = directory / f"{name}.jpg"
        path.write_bytes(camera_jpeg(w, h, seed=len(files), orientation=orientation))
        files[name] = path
    return files
