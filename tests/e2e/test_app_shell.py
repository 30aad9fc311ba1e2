"""The installable shell: updates that keep the outbox, export, manifest, labels, small screens."""

import base64
import hashlib
import io
import json
import re
import urllib.request
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

import server.pwa
from tests.e2e.fieldapp import FieldApp

pytestmark = pytest.mark.e2e

CACHE_KEYS = """
caches.keys().then(async (names) => {
  const out = {};
  for (const name of names) out[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
  return out;
})
"""

UNNAMED_CONTROLS = """
() => {
  const bad = [];
  for (const el of document.querySelectorAll("input, select, textarea, button, a[href]")) {
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")
      || ((el.tagName === "BUTTON" || el.tagName === "A") && el.textContent.trim());
    if (!named) bad.push(el.outerHTML.slice(0, 120));
  }
  return bad;
}
"""

SMALL_TARGETS = """
() => {
  const small = [];
  for (const el of document.querySelectorAll("button, .button, .nav a, .card-link, .choice, select, input:not([type=radio]):not(.visually-hidden)")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.height < 44) small.push(`${el.tagName} ${el.textContent.trim().slice(0, 30)} ${Math.round(box.height)}`);
  }
  return small;
}
"""


def test_update_is_announced_old_cache_dropped_and_outbox_kept(tablet, field, monkeypatch, photo_files):
    app = FieldApp(tablet).open()
    app.sign_in(field.staff_email)
    app.wait_offline_ready()
    tablet.route("**/api/sync/push", lambda route: route.abort())  # keep the work unsent
    tablet.route("**/api/photos/**", lambda route: route.abort())
    app.go("Raise finding")
    tablet.get_by_label("Choose photo for finding", exact=True).set_input_files(photo_files["small"])
    expect(tablet.get_by_role("img", name="Photo 1 for finding")).to_be_visible()
    tablet.get_by_label("What did you see?").fill("Ladder with a cracked rung")
    tablet.get_by_role("button", name="Save finding").click()
    expect(tablet.get_by_role("status").filter(has_text="Finding saved")).to_be_visible()

    # Export: every unsent op and photo, with bytes that still hash to their address.
    app.sync_screen()
    with tablet.expect_download() as download:
        tablet.get_by_role("button", name="Export unsent data").click()
    exported = json.loads(open(download.value.path()).read())
    assert [op["fields"]["title"] for op in exported["ops"]] == ["Ladder with a cracked rung"]
    [photo] = exported["photos"]
    assert hashlib.sha256(base64.b64decode(photo["bytes_base64"])).hexdigest() == photo["sha256"]

    before = tablet.evaluate(CACHE_KEYS)
    assert len(before) == 1
    [old_cache] = before
    assert not any(path.startswith("/api/") for path in before[old_cache])

    monkeypatch.setattr(server.pwa, "shell_version", lambda: "next-release")
    tablet.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    reload_button = tablet.get_by_role("button", name="Update ready - reload")
    expect(reload_button).to_be_visible()
    with tablet.expect_event("load"):
        reload_button.click()
    tablet.wait_for_selector("body[data-ready='yes']")
    expect(tablet.get_by_role("button", name="Update ready - reload")).to_have_count(0)
    after = tablet.evaluate(CACHE_KEYS)
    assert list(after) == ["gemba-shell-next-release"]
    app.sync_screen()
    expect(tablet.locator("#pending-summary")).to_contain_text("1 change and 1 photo unsent")
    assert tablet.errors == []


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}, {"width": 1024, "height": 768}])
def test_every_screen_is_labelled_fits_and_has_big_targets(context, field, viewport, photo_files):
    page = context.new_page()
    page.set_viewport_size(viewport)
    csp = []
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    app = FieldApp(page).open()
    app.sign_in(field.auditor_email)
    screens = []
    page.get_by_role("link", name=field.audit_link).click()
    app.question(field.questions[0][2]).get_by_label("No", exact=True).check()
    expect(page.get_by_role("dialog")).to_be_visible()
    screens.append(("finding dialog", page.evaluate(UNNAMED_CONTROLS), page.evaluate(SMALL_TARGETS)))
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    app.question(field.questions[1][2]).get_by_label("Take photo for question 2", exact=True).set_input_files(photo_files["small"])
    expect(page.get_by_role("img", name="Photo 1 for question 2")).to_be_visible()
    screens.append(("checklist", page.evaluate(UNNAMED_CONTROLS), page.evaluate(SMALL_TARGETS)))
    headings = {"Raise finding": "Raise a finding", "My findings": "My findings", "Sync": "Sync", "My audits": "My audits"}
    for name, heading in headings.items():
        app.go(name)
        # The screen is drawn (its heading) and the frame too, before either is measured.
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")
        screens.append((name, page.evaluate(UNNAMED_CONTROLS), page.evaluate(SMALL_TARGETS)))
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
    assert [(s, unnamed) for s, unnamed, _ in screens if unnamed] == []
    assert [(s, small) for s, _, small in screens if small] == []
    assert page.evaluate("document.querySelectorAll('[style]').length") == 0
    assert csp == []


def test_manifest_makes_the_app_installable(live_server):
    with urllib.request.urlopen(f"{live_server.url}/app/manifest.webmanifest") as response:
        assert response.headers["Content-Type"].startswith("application/manifest+json")
        manifest = json.load(response)
    assert manifest["display"] == "standalone" and manifest["start_url"] == manifest["scope"] == "/app/"
    assert manifest["theme_color"].startswith("#")
    sizes = set()
    for icon in manifest["icons"]:
        with urllib.request.urlopen(live_server.url + icon["src"]) as response:
            data = response.read()
        if icon["type"] == "image/png":
            image = Image.open(io.BytesIO(data))
            assert f"{image.width}x{image.height}" == icon["sizes"]
            sizes.add(image.width)
        else:
            assert data.startswith(b"<svg")
    assert {192, 512} <= sizes


# The browser's storage numbers, replaced before the app loads: a nearly full device.
NEARLY_FULL = """
window.__persistCalls = 0;
const storage = navigator.storage;
storage.estimate = async () => ({ usage: 990 * 1024 * 1024, quota: 1000 * 1024 * 1024 });
storage.persist = async () => { window.__persistCalls += 1; return true; };
storage.persisted = async () => window.__persistCalls > 0;
"""


def test_asks_for_persistent_storage_and_warns_when_it_runs_low(tablet, field):
    tablet.add_init_script(NEARLY_FULL)
    app = FieldApp(tablet).open()
    app.sign_in(field.staff_email)
    expect(tablet.get_by_role("alert").filter(has_text="Storage is running low")).to_be_visible()
    # The warning comes from the start-up estimate; persistence is asked for after sign-in, a moment
    # later. (Polled from here: wait_for_function would evaluate a string, which the app's CSP forbids.)
    for _ in range(100):
        if tablet.evaluate("window.__persistCalls") >= 1:
            break
        tablet.wait_for_timeout(100)
    assert tablet.evaluate("window.__persistCalls") >= 1
    app.sync_screen()
    expect(tablet.get_by_text("(persistent)")).to_be_visible()


def test_the_precache_lists_every_module_the_app_can_load():
    """A module missing from the precache would break the app the first time it starts offline."""
    pwa = Path(server.pwa.PWA_DIR)
    worker = (pwa / "sw.js").read_text()
    shell = set(re.findall(r'"(/app/[^"]*)"', re.search(r"const SHELL = \[(.*?)\];", worker, re.S).group(1)))
    modules = {f"/app/{p.relative_to(pwa).as_posix()}" for p in pwa.rglob("*.js") if p.name != "sw.js"}
    assert modules - shell == set()
    assert {"/app/", "/app/styles.css", "/app/manifest.webmanifest"} <= shell
    for path in shell - {"/app/"}:
        assert (pwa / path.removeprefix("/app/")).is_file(), path


# A static import ("import x from" / "import {a} from" / "import * as x from"), not import().
STATIC_IMPORT = re.compile(r"""^import\s[^"'()]*?\sfrom\s+["']([^"']+)["'];""", re.M)


def _static_imports(pwa: Path, module: str) -> set[str]:
    """`module` ("/app/app.js") and every module it imports statically, however deep."""
    seen, todo = set(), [module]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        source = (pwa / path.removeprefix("/app/")).read_text()
        base = path.rsplit("/", 1)[0]
        for target in STATIC_IMPORT.findall(source):
            parts = f"{base}/{target}".split("/")
            out = []
            for part in parts:
                if part == "..":
                    out.pop()
                elif part not in (".", ""):
                    out.append(part)
            todo.append("/" + "/".join(out))
    return seen


def test_index_html_preloads_exactly_the_modules_the_first_screen_imports():
    """Every module the start-up imports statically is named in index.html, so the browser
    fetches them side by side from the precache instead of one import level after another;
    the other screens' modules are not (they load when first shown). documents.js once
    crept in through the frame and cost a round of its own before the first draw."""
    pwa = Path(server.pwa.PWA_DIR)
    html = (pwa / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', html))
    scripts = set(re.findall(r'<script type="module"[^>]* src="([^"]+)"></script>', html))
    assert scripts == {"/app/app.js", "/app/db.js"}
    startup = _static_imports(pwa, "/app/app.js") | _static_imports(pwa, "/app/db.js")
    assert preloaded == startup - scripts
    worker = (pwa / "sw.js").read_text()
    assert all(f'"{path}"' in worker for path in startup), "precached"
    assert "/app/documents.js" not in startup and "/app/sync.js" not in startup


def _session(live_server, cookies) -> dict:
    """What the session cookie holds (the server may sign the same session again later)."""
    value = {c["name"]: c["value"] for c in cookies}.get("gemba_session")
    app = live_server.app
    return app.session_interface.get_signing_serializer(app).loads(value) if value else {}


def test_a_shell_file_answered_after_signing_in_leaves_the_session_alone(tablet, field, live_server):
    """The worker precaches the shell while the person signs in: an answer to a request it
    sent before that must not replace the new session, or the first sync gets a 401 and asks
    to sign in again. Two guards: the server sets no cookie on an anonymous answer, and the
    worker precaches without credentials."""
    held = []

    def hold_one_precache_answer(route):
        if route.request.service_worker is not None and not held:
            held.append((route, route.fetch()))  # sent now, before signing in; answered later
        else:
            route.continue_()

    tablet.context.route("**/app/views/syncview.js", hold_one_precache_answer)
    app = FieldApp(tablet).open()
    for _ in range(200):
        if held:
            break
        tablet.wait_for_timeout(50)
    assert held, "the worker never asked for the shell"
    app.sign_in(field.staff_email)
    signed_in = _session(live_server, tablet.context.cookies())
    assert signed_in, "signing in set no session"
    route, answer = held[0]
    assert "gemba_session" not in answer.headers.get("set-cookie", ""), "an anonymous answer set a session cookie"
    route.fulfill(response=answer)
    app.wait_offline_ready()
    assert _session(live_server, tablet.context.cookies()) == signed_in
    app.sync_now()
    expect(tablet.locator("#sync-state")).to_have_text("Up to date.")
    expect(tablet.get_by_role("alert").filter(has_text="Session expired")).to_have_count(0)
