"""Sign in, sign out, and who am I."""

from flask import request
from flask_login import current_user, login_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from ..access import PUBLIC, SIGNED_IN, allow
from ..errors import DomainError
from ..extensions import db
from ..schemas.accounts import LoginSchema, MeSchema, SessionSchema
from ..services import accounts

blp = Blueprint("auth", __name__, url_prefix="/api", description="Sessions and identity")

# Signing in is how a client gets its first CSRF token, so it cannot require one.
CSRF_EXEMPT = {"auth.login"}


class BadCredentials(DomainError):
    status = 401
    code = "bad_credentials"


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, SessionSchema)
@blp.alt_response(401, description="Wrong email or password")
@blp.alt_response(429, description="Too many failed attempts")
@allow(PUBLIC)
def login(data):
    """Sign in with email and password; sets the session cookie.

    :raise 401: wrong email or password. :raise 429: too many failed attempts.
    """
    user = accounts.authenticate(data["email"], data["password"], request.remote_addr or "")
    db.session.commit()  # a failed attempt must be counted even though we refuse
    if user is None:
        raise BadCredentials("The email or password is not right.")
    login_user(user, remember=False)
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
@allow(PUBLIC)
def logout():
    """Sign out of this session."""
    logout_user()


@blp.route("/me")
@blp.response(200, MeSchema)
@blp.alt_response(401, description="Not signed in")
@allow(SIGNED_IN)
def me():
    """The signed-in user."""
    return {"user": current_user}
