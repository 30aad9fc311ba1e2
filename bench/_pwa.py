"""Shared setup for the field-app benchmarks: a live server that counts bytes, and Chromium.

Not a benchmark itself (no `main`): `bench.pwa_startup` and `bench.pwa_walkthrough` use it.
"""

import json
import tempfile
import threading
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler, make_server

from server import create_app
from server.extensions import db
from server.models import Question, QuestionKind, Template, TemplateStatus, utcnow
from server.services import audits, feed
from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OUT = Path(__file__).resolve().parent / "out"
PASSWORD = factories.PASSWORD


class Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class ByteCounter:
    """WSGI middleware: what clients sent, request line and headers included, per kind."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.up = {"photos": 0, "photo_bodies": 0, "sync": 0, "other": 0}
            self.requests = {"photos": 0, "sync": 0, "other": 0}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        line = len(f"{environ['REQUEST_METHOD']} {path}{'?' + query if query else ''} HTTP/1.1\r\n")
        headers = sum(len(k[5:]) + len(v) + 4 for k, v in environ.items() if k.startswith("HTTP_"))
        body = int(environ.get("CONTENT_LENGTH") or 0)
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(name):
                headers += len(name) + len(environ[name]) + 4
        kind = "photos" if path.startswith("/api/photos/") else "sync" if path.startswith("/api/sync/") else "other"
        with self.lock:
            self.up[kind] += line + headers + 2 + body
            self.requests[kind] += 1
            if kind == "photos":
                self.up["photo_bodies"] += body
        return self.app(environ, start_response)


def launch(playwright, profile: str, url: str, *, offline: bool = True, java_script: bool = True):
    """The field app's browser: a persistent profile (its IndexedDB and service worker kept
    between starts) at a tablet's size."""
    return playwright.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, base_url=url, offline=offline,
        java_script_enabled=java_script, viewport={"width": 1024, "height": 768})


@contextmanager
def throttled_start(playwright, profile: str, url: str, slowdown: int, *, java_script: bool = True):
    """An offline start of the app with the CPU `slowdown` times slower: (page, CDP session),
    the page not yet opened; the browser closes on leaving."""
    context = launch(playwright, profile, url, java_script=java_script)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
        yield page, cdp
    finally:
        context.close()


# Resolves once the app has marked its list interactive and the audit links are on screen.
# Event-driven (a PerformanceObserver on marks), so the wait adds no work of its own.
WAIT_INTERACTIVE = """new Promise((resolve, reject) => {
  const drawn = () => performance.getEntriesByName('gemba-interactive').length > 0 && !!document.querySelector('.card-link');
  if (drawn()) { resolve(true); return; }
  const seen = new PerformanceObserver(() => { if (drawn()) { seen.disconnect(); resolve(true); } });
  seen.observe({ type: 'mark', buffered: true });
  setTimeout(() => reject(new Error('no interactive audit list after 60 s')), 60000);
})"""


def open_list(page, cdp) -> None:
    """Open the app and wait until its audit list is drawn and marked interactive.

    The wait goes through the CDP session, not `page.wait_for_selector`: Playwright's
    selector engine is a large script that it injects into the page on first use, and
    under the 4x CPU throttle evaluating it held the page's main thread for 0.5-0.8 s in
    the middle of the very start being timed (seen in a Chromium trace), delaying the
    app's IndexedDB callbacks and first draw by as much, at random."""
    page.goto("/app/", wait_until="commit")
    for attempt in range(20):
        try:
            answer = cdp.send("Runtime.evaluate", {"expression": WAIT_INTERACTIVE, "awaitPromise": True,
                                                   "returnByValue": True})
        except Exception:  # the evaluation landed in the document being replaced: ask again
            if attempt == 19:
                raise
            page.wait_for_timeout(20)
            continue
        if "exceptionDetails" in answer:
            raise RuntimeError(answer["exceptionDetails"].get("exception", {}).get("description", answer))
        return


def seed_template(questions: int, kinds=None) -> Template:
    kinds = kinds or [QuestionKind.YES_NO_NA]
    template = Template(name="Site safety walk", standard="ISO 45001:2018", status=TemplateStatus.PUBLISHED,
                        published_at=utcnow(), review_due=date(2030, 1, 1))
    for i in range(questions):
        kind = kinds[i % len(kinds)]
        template.questions.append(Question(
            section=f"Section {i // 10 + 1}", position=i + 1, text=f"Check {i + 1}: is the condition met?",
            kind=kind, options=[0, 5] if kind == QuestionKind.SCORE else [], clause=f"8.{i % 9 + 1}",
            finding_answers=["no"] if kind == QuestionKind.YES_NO_NA else [], photo_answers=[], required=True))
    db.session.add(template)
    db.session.flush()
    feed.publish("template", template.id, template.version)
    return template


def seed_auditor(template: Template, audit_count: int) -> tuple[str, list[str]]:
    home = factories.area(name="Stores")
    auditor = factories.user("auditor", email="bench.auditor@example.test", home_area=home)
    ids = []
    for n in range(audit_count):
        audit = factories.audit(template, factories.area(name=f"Workshop {n + 1}"), auditor)
        audits.publish_audit(audit)
        ids.append(str(audit.id))
    return auditor.email, ids


@contextmanager
def live_server(seed):
    """Serve the real app on a free loopback port with a fresh SQLite database; yield (url, app, counter, seeded)."""
    with tempfile.TemporaryDirectory(prefix="gemba-bench-") as tmp:
        tmp = Path(tmp)
        app = create_app({
            "SECRET_KEY": "bench-secret-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'gemba.db'}",
            "GEMBA_PHOTO_DIR": str(tmp / "photos"),
        })
        with app.app_context():
            upgrade()
            seeded = seed()
            db.session.commit()
            db.session.remove()
        counter = ByteCounter(app.wsgi_app)
        app.wsgi_app = counter
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", app, counter, seeded
        finally:
            server.shutdown()
            thread.join(timeout=10)


def sign_in(page, email: str) -> None:
    page.goto("/app/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").wait_for()
    page.wait_for_selector("body[data-offline-ready='yes']", state="attached")


def write(name: str, result: dict) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
