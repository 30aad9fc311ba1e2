"""Serve the field app's static files under /app/ (the service worker's scope)."""

from pathlib import Path

from flask import Blueprint, send_from_directory

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

bp = Blueprint("pwa", __name__, url_prefix="/app")

NO_CACHE = {"index.html", "sw.js", "manifest.webmanifest"}


@bp.route("/")
@bp.route("/<path:filename>")
def static_file(filename: str = "index.html"):
    response = send_from_directory(PWA_DIR, filename, max_age=0)
    if filename in NO_CACHE or filename.endswith(".js"):
        # The service worker decides what is cached; the HTTP cache must not get in its way.
        response.headers["Cache-Control"] = "no-cache"
    if filename.endswith(".js"):
        response.mimetype = "text/javascript"
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
