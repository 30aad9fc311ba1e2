"""Serve the field app's static files under /app/ (the service worker's scope)."""

import hashlib
from pathlib import Path

from flask import Blueprint, abort, make_response, send_from_directory

from .access import PUBLIC, allow

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

bp = Blueprint("pwa", __name__, url_prefix="/app")

NO_CACHE = {"index.html", "sw.js", "manifest.webmanifest"}
SERVED = {".html", ".js", ".css", ".webmanifest", ".svg", ".png"}
VERSION_MARK = "__SHELL_VERSION__"


def shell_version() -> str:
    """A digest of every file the app serves: it changes whenever any of them does."""
    digest = hashlib.sha256()
    for path in sorted(PWA_DIR.rglob("*")):
        if path.is_file() and path.suffix in SERVED and path.name != "sw.js":
            digest.update(path.relative_to(PWA_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@bp.route("/sw.js")
@allow(PUBLIC)
def service_worker():
    """The worker script, stamped with the shell's version."""
    source = (PWA_DIR / "sw.js").read_text(encoding="utf-8")
    response = make_response(source.replace(VERSION_MARK, shell_version()))
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/")
@bp.route("/<path:filename>")
@allow(PUBLIC)
def static_file(filename: str = "index.html"):
    if Path(filename).suffix not in SERVED:
        abort(404)
    response = send_from_directory(PWA_DIR, filename, max_age=0)
    if filename in NO_CACHE or filename.endswith(".js"):
        # The service worker decides what is cached; the HTTP cache must not get in its way.
        response.headers["Cache-Control"] = "no-cache"
    if filename.endswith(".js"):
        response.mimetype = "text/javascript"
    if filename.endswith(".webmanifest"):
        response.mimetype = "application/manifest+json"
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
