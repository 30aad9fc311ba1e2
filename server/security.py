"""Sign-in plumbing: sessions, bearer tokens, CSRF, and the headers on every response."""

import logging
import uuid

from flask import Flask, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from . import access
from .errors import NotAllowed, error_response
from .extensions import csrf, db, login_manager
from .models import User
from .permissions import require
from .services import accounts

log = logging.getLogger(__name__)

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# Routes that Flask and flask-smorest add themselves, which cannot carry `access.allow`.
FRAMEWORK_PUBLIC = {"static", "api-docs.openapi_json"}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    token = bearer_token()
    if token is None:
        return None
    user = accounts.user_for_token(token)
    if user is not None:
        g.via_token = True
    return user


@login_manager.unauthorized_handler
def unauthorized():
    if request.path.startswith("/api/"):
        return error_response(401, "unauthorized", "Sign in to continue.")
    return redirect(url_for("pages.login", next=request.full_path))


class HttpsAwareSessions(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def init_app(app: Flask) -> None:
    app.session_interface = HttpsAwareSessions()
    login_manager.init_app(app)
    csrf.init_app(app)

    @app.before_request
    def check_access():
        # Deny by default, before any input is read (see server/access.py).
        if request.routing_exception is not None or request.endpoint is None:
            return None
        if request.endpoint in FRAMEWORK_PUBLIC:
            return None
        action = access.declared(app.view_functions[request.endpoint], request.method)
        if action is None:
            log.error("route %s declares no access; refused", request.endpoint)
            raise NotAllowed("This route is not open to anyone yet.")
        if action == access.PUBLIC:
            return None
        if not current_user.is_authenticated:
            return unauthorized()
        if action != access.SIGNED_IN:
            require(current_user, action)
        return None

    @app.before_request
    def check_csrf():
        # Bearer-token calls carry no cookie, so a forged cross-site request cannot use
        # them; everything else that changes state needs the session's CSRF token.
        if request.method in SAFE_METHODS or bearer_token() is not None:
            return None
        if request.routing_exception is not None:  # let 404 and 405 answer as such
            return None
        if request.endpoint in app.config.get("CSRF_EXEMPT_ENDPOINTS", ()):
            return None
        csrf.protect()
        return None

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError):
        return error_response(
            400, "csrf", "The form or request expired or lacks its CSRF token. Reload and try again."
        )

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self)")
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if current_user.is_authenticated and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.before_request
    def permanent_session():
        # Only a signed-in session lasts beyond the browser session; an empty one must not
        # be written at all (an anonymous cookie on a cached shell file would replace a
        # session the person signed into meanwhile).
        if "_user_id" in session:
            session.permanent = True
