"""What a person manages of their own account: signed-in sessions, API tokens, password."""

from flask_login import current_user
from flask_smorest import Blueprint

from .. import security
from ..access import SIGNED_IN, allow
from ..errors import DomainError
from ..extensions import db
from ..schemas.accounts import (
    NewTokenSchema,
    PasswordChangeSchema,
    SignedInSessionsSchema,
    TokenCreateSchema,
    TokensSchema,
)
from ..services import accounts, sessions, tokens

blp = Blueprint("account", __name__, url_prefix="/api/me", description="Your own sessions, tokens and password")


def _listed(rows):
    current = sessions.current_session_id()
    return [{**{c.name: getattr(row, c.name) for c in row.__table__.columns}, "current": row.id == current}
            for row in rows]


@blp.route("/sessions")
@allow(SIGNED_IN)
@blp.response(200, SignedInSessionsSchema)
@blp.alt_response(401, description="Not signed in")
def list_sessions():
    """Where you are signed in: your live sessions, the most recently used first."""
    return {"sessions": _listed(sessions.sessions_of(current_user))}


@blp.route("/sessions/<uuid:session_id>", methods=["DELETE"])
@allow(SIGNED_IN)
@blp.response(204)
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(404, description="No such live session of yours")
def end_session(session_id):
    """End one of your sessions at once (ending this one signs you out)."""
    row = sessions.get_session(current_user, session_id)
    sessions.end_session(current_user, row)
    db.session.commit()


@blp.route("/tokens")
@allow(SIGNED_IN)
@blp.response(200, TokensSchema)
@blp.alt_response(401, description="Not signed in")
def list_tokens():
    """Your API tokens, newest first, revoked and expired ones included; never their secrets."""
    return {"tokens": tokens.tokens_of(current_user)}


@blp.route("/tokens", methods=["POST"])
@allow(SIGNED_IN)
@blp.arguments(TokenCreateSchema)
@blp.response(201, NewTokenSchema)
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(422, description="A field is not valid")
def create_token(data):
    """Create an API token for yourself; its secret is in this answer and never again."""
    token, secret = tokens.issue_token(current_user, data["name"], data["expires_in_days"], actor=current_user)
    db.session.commit()
    return {"token": token, "secret": secret}


@blp.route("/tokens/<uuid:token_id>", methods=["DELETE"])
@allow(SIGNED_IN)
@blp.response(204)
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(404, description="No such token of yours (an admin may revoke anyone's)")
def revoke_token(token_id):
    """Revoke an API token at once; revoking it again changes nothing."""
    tokens.revoke_token(current_user, tokens.get_token(current_user, token_id))
    db.session.commit()


@blp.route("/password", methods=["POST"])
@allow(SIGNED_IN)
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(422, description="The current password is not right, or the new one is too easy to guess "
                                   "(the reason is in `fields`)")
@blp.alt_response(429, description="Too many wrong current passwords; Retry-After says when to try again")
def change_password(data):
    """Change your password (the current one is required); your other sessions end, this one stays."""
    try:
        accounts.change_own_password(current_user, data["current_password"], data["new_password"], security.client())
    except DomainError:
        db.session.commit()  # a wrong current password is counted like a failed sign-in
        raise
    db.session.commit()
