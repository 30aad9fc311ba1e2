"""Sign-in plumbing: who is asking (a session kept on the server, or a bearer token), known
devices, CSRF, and the headers on every response."""

import ipaddress
import logging
import secrets
from datetime import timedelta

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from . import access
from .errors import AccountDisabled, NotAllowed, Unauthorized, error_response
from .extensions import csrf, db, login_manager
from .models import User, UserSession
from .permissions import require
from .services import accounts, sessions, tokens
from .services.throttle import Client

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
KNOWN_DEVICE_PEOPLE = 5
# What this module keeps in `g` about the request in progress.
REQUEST_KEYS = ("via_token", "user_session_id", "refusal", "known_device_cookie")

# Routes that Flask and flask-smorest add themselves, which cannot carry `access.allow`.
FRAMEWORK_PUBLIC = {"static", "api-docs.openapi_json"}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def client_address() -> str:
    """The client's address (behind trusted proxies only: server/proxies.py), or "unknown"."""
    try:
        return str(ipaddress.ip_address(request.remote_addr or ""))
    except ValueError:
        return "unknown"


# --- known devices: a browser that signed in before is not held back by others' failures ---

def _device_cookies() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="gemba-known-device")


def _known_device() -> tuple[str | None, list[str]]:
    """The id in this browser's known-device cookie and the people who signed in with it."""
    raw = request.cookies.get(current_app.config["KNOWN_DEVICE_COOKIE"])
    if not raw:
        return None, []
    try:
        payload = _device_cookies().loads(raw, max_age=current_app.config["KNOWN_DEVICE_DAYS"] * 86400)
        device, users = payload["d"], payload["u"]
        if isinstance(device, str) and isinstance(users, list) and all(isinstance(u, str) for u in users):
            return device, users
    except (BadSignature, KeyError, TypeError):
        pass
    return None, []


def client() -> Client:
    """Who is asking, as the sign-in throttle counts them."""
    device, users = _known_device()
    return Client(address=client_address(), device=device, device_users=frozenset(users),
                  user_agent=request.user_agent.string[:255])


def _remember_device(user: User) -> None:
    device, users = _known_device()
    # A shared tablet is a known device of the last few people who signed in on it.
    users = [str(user.id)] + [u for u in users if u != str(user.id)][:KNOWN_DEVICE_PEOPLE - 1]
    g.known_device_cookie = _device_cookies().dumps({"d": device or secrets.token_urlsafe(16), "u": users})


# --- signing in and out, sessions kept on the server ---

def sign_in(user: User, who: Client) -> UserSession:
    """Start a session for `user` in this browser, once `accounts.sign_in` has let them in."""
    session.clear()  # nothing from before signing in carries over (session fixation)
    g.pop("csrf_token", None)
    row = sessions.start_session(user, who)
    login_user(user)
    session["sid"] = str(row.id)
    session.permanent = True  # the server ends it (idle, revoked); the browser keeps it meanwhile
    g.user_session_id = row.id
    _remember_device(user)
    return row


def sign_out() -> None:
    """End this browser's session on the server, so its cookie is worthless even if copied."""
    row = sessions.find_session(g.get("user_session_id"))
    if row is not None:
        sessions.end_session(row.user, row, because="signed_out")
    logout_user()
    session.clear()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of the session the cookie names, while that session is live on the server."""
    row = sessions.find_session(session.get("sid"))
    if row is None or str(row.user_id) != user_id:
        return None
    if not row.user.active:
        g.refusal = AccountDisabled(accounts.DISABLED_MESSAGE)
        return None
    if not sessions.is_live(row):
        g.refusal = Unauthorized("Your session has ended. Sign in again.")
        return None
    g.user_session_id = row.id
    if sessions.touch(row):
        db.session.commit()  # at the start of the request, before it has written anything
    return row.user


def _identify_by_token():
    """Authenticate by the Authorization header alone: a header that is not a usable token is a 401,
    never a fall back to the session cookie (which would also skip the CSRF check)."""
    secret = bearer_token()
    token = tokens.find_by_secret(secret) if secret else None
    if token is not None and not token.user.active:
        refusal = AccountDisabled(accounts.DISABLED_MESSAGE)
    elif token is None or not tokens.is_usable(token):
        refusal = Unauthorized("The Authorization header holds no valid API token: it is unknown, revoked "
                               "or expired, or not of the form 'Bearer <token>'.", code="bad_token")
    else:
        g.via_token = True
        login_manager._update_request_context_with_user(token.user)
        if tokens.touch(token):
            db.session.commit()  # at the start of the request, before it has written anything
        return None
    return error_response(401, refusal.code, refusal.message,
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


@login_manager.unauthorized_handler
def unauthorized():
    refusal = g.get("refusal") or Unauthorized("Sign in to continue.")
    if request.path.startswith("/api/"):
        return error_response(401, refusal.code, refusal.message)
    if isinstance(refusal, AccountDisabled):
        flash(refusal.message)
    return redirect(url_for("pages.login", next=request.full_path))


class HttpsAwareSessions(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def init_app(app: Flask) -> None:
    app.session_interface = HttpsAwareSessions()
    # The cookie lasts as long as a session may; the server ends it sooner (idle, revoked).
    app.permanent_session_lifetime = timedelta(days=app.config["SESSION_MAX_DAYS"])
    login_manager.init_app(app)
    csrf.init_app(app)

    @app.before_request
    def identify():
        # Who is asking is settled first, before any view can write: a token when the
        # request carries an Authorization header, else the session the cookie names.
        for key in REQUEST_KEYS:  # `g` outlives a request when an app context is shared (tests)
            g.pop(key, None)
        if "Authorization" in request.headers:
            return _identify_by_token()
        current_user._get_current_object()
        return None

    @app.before_request
    def check_access():
        # Deny by default, before any input is read (see server/access.py).
        if request.routing_exception is not None or request.endpoint is None:
            return None
        if request.endpoint in FRAMEWORK_PUBLIC:
            return None
        if request.method == "OPTIONS" and getattr(request.url_rule, "provide_automatic_options", False):
            return None  # Flask's own answer: the Allow header, no body read, no view run
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
        # A request authenticated by its bearer token (and by nothing else: see `identify`)
        # cannot be forged cross-site; everything else that changes state needs the
        # session's CSRF token.
        if request.method in SAFE_METHODS or g.get("via_token"):
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
        if cookie := g.get("known_device_cookie"):
            response.set_cookie(app.config["KNOWN_DEVICE_COOKIE"], cookie,
                                max_age=app.config["KNOWN_DEVICE_DAYS"] * 86400, httponly=True, samesite="Lax",
                                secure=app.session_interface.get_cookie_secure(app))
        return response

    @app.before_request
    def permanent_session():
        # Only a signed-in session lasts beyond the browser session; an empty one must not
        # be written at all (an anonymous cookie on a cached shell file would replace a
        # session the person signed into meanwhile).
        if "_user_id" in session:
            session.permanent = True
