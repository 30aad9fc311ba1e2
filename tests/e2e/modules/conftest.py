"""Fixtures for the module tests: a tiny static server on loopback and a fresh page per test.

The server serves pwa/ under /app/ (so the test files import the app's modules by the
same paths the app uses) and this folder under /modules/. Nothing else: no Flask app, no
service worker, no database.
"""

import threading
import urllib.parse
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.conftest import TIMEOUT_MS, watched

MODULES_DIR = Path(__file__).resolve().parent
PWA_DIR = MODULES_DIR.parents[2] / "pwa"
ROOTS = {"/app/": PWA_DIR, "/modules/": MODULES_DIR}


class ModuleFiles(SimpleHTTPRequestHandler):
    """Static files from ROOTS only, as ES modules, never cached."""

    extensions_map = {
        ".js": "text/javascript", ".mjs": "text/javascript", ".html": "text/html", ".css": "text/css",
        ".json": "application/json", "": "application/octet-stream",
    }

    def translate_path(self, path):
        path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        for prefix, root in ROOTS.items():
            if path.startswith(prefix):
                candidate = (root / path[len(prefix):]).resolve()
                if candidate.is_relative_to(root):
                    return str(candidate)
        return str(MODULES_DIR / "no-such-file")

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):  # a line per request drowns a failure's story
        pass


@pytest.fixture(scope="session")
def module_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(ModuleFiles, directory=str(MODULES_DIR)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def module_page(browser, module_server):
    """A page in a fresh browser profile (an empty IndexedDB), on the module server."""
    context = browser.new_context(base_url=module_server)
    context.set_default_timeout(TIMEOUT_MS)
    yield watched(context.new_page())
    context.close()
