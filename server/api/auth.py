"""Sign in, sign out, and who am I."""

from flask_login import current_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from .. import security
from ..access import PUBLIC, SIGNED_IN, allow
from ..errors import DomainError
from ..extensions import db
from ..schemas.accounts import LoginSchema, MeSchema, SessionSchema
from ..services import accounts

blp = Blueprint("auth", __name__, url_prefix="/api", description="Sessions and identity")

# Signing in is how a client gets its first CSRF token, so it cannot require one.
CSRF_EXEMPT = {"auth.login"}


@blp.route("/auth/login", methods=["POST"])
@allow(PUBLIC)
@blp.arguments(LoginSchema)
@blp.response(200, SessionSchema)
@blp.alt_response(401, description="Wrong email or password (`bad_credentials`), or a deactivated account "
                                   "(`account_disabled`, only once the password is right)")
@blp.alt_response(429, description="Too many failed attempts; Retry-After says when to try again")
def login(data):
    """Sign in with email and password; sets the session cookie and the known-device cookie.

    :raise 401: wrong email or password, or a deactivated account. :raise 429: wait and retry.
    """
    who = security.client()
    try:
        user = accounts.sign_in(data["email"], data["password"], who)
    except DomainError:
        db.session.commit()  # a failure is counted and in the trail even though we refuse
        raise
    security.sign_in(user, who)
    db.session.commit()
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/auth/logout", methods=["POST"])
@allow(PUBLIC)
@blp.response(204)
def logout():
    """Sign out of this session: it ends on the server, so a copy of the cookie is worthless."""
    security.sign_out()
    db.session.commit()


@blp.route("/me")
@allow(SIGNED_IN)
@blp.response(200, MeSchema)
@blp.alt_response(401, description="Not signed in")
def me():
    """The signed-in user."""
    return {"user": current_user}
