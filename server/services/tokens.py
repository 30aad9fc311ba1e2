"""API tokens for integrations: created, listed, used, revoked. Only a token's SHA-256 is kept."""

import hashlib
import secrets
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from ..errors import Invalid, NotFound
from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import ApiToken, User, utcnow
from ..permissions import can
from . import trail

TOKEN_PREFIX = "gmb_"
PREFIX_LENGTH = 10  # "gmb_" and six characters: enough to tell a person's tokens apart
MAX_DAYS = 3650


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def default_days() -> int | None:
    """How long a token lives when its creator does not say: GEMBA_TOKEN_DAYS, None for ever."""
    return current_app.config["TOKEN_DAYS"] or None


def issue_token(user: User, name: str = "", days: int | None = None, actor: User | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user`; return it and its secret, which is shown this once.

    `days` until it expires: None takes GEMBA_TOKEN_DAYS (where 0 means never).
    :raise Invalid: a name too long or a lifetime out of range.
    """
    errors = FieldErrors()
    name = errors.text("name", name, "name")
    if days is None:
        days = default_days()
    elif isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        errors.add("expires_in_days", f"A whole number of days from 1 to {MAX_DAYS}.")
    errors.raise_if_any("The token could not be created.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(user_id=user.id, name=name, token_hash=_digest(secret), prefix=secret[:PREFIX_LENGTH],
                     created_at=now, expires_at=now + timedelta(days=days) if days else None)
    db.session.add(token)
    db.session.flush()
    trail.record(actor, "token.created", "user", user.id,
                 {"token": token.id, "name": name, "prefix": token.prefix, "expires_at": token.expires_at})
    return token, secret


def create_token(user: User, name: str = "", actor: User | None = None, days: int | None = None) -> str:
    """Create a token for `user` and return its secret."""
    return issue_token(user, name, days, actor)[1]


def find_by_secret(secret: str) -> ApiToken | None:
    """The token whose secret this is, in whatever state; None when it is nobody's."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))


def is_usable(token: ApiToken) -> bool:
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > utcnow())


def user_for_token(secret: str) -> User | None:
    """Return the active user a usable token belongs to, or None."""
    token = find_by_secret(secret)
    if token is None or not is_usable(token) or not token.user.active:
        return None
    return token.user


def touch(token: ApiToken) -> bool:
    """Note that the token was just used, at most once per TOKEN_TOUCH_SECONDS; True when written."""
    now = utcnow()
    cutoff = now - timedelta(seconds=current_app.config["TOKEN_TOUCH_SECONDS"])
    if token.last_used_at is not None and token.last_used_at > cutoff:
        return False
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id, or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= cutoff))
        .values(last_used_at=now).execution_options(synchronize_session=False)
    )
    token.last_used_at = now
    return result.rowcount > 0


def tokens_of(user: User | None = None) -> list[ApiToken]:
    """Tokens (of `user`, or everyone's), newest first."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(query))


def get_token(user: User, token_id) -> ApiToken:
    """Load a token for `user`: their own, or anyone's for an admin.

    :raise 404: no such token, or one they may not see.
    """
    try:
        token = db.session.get(ApiToken, uuid.UUID(str(token_id)))
    except ValueError:
        token = None
    if token is None or (token.user_id != user.id and not can(user, "admin.tokens")):
        raise NotFound("No such API token.")
    return token


def find_tokens(id_or_prefix: str) -> list[ApiToken]:
    """Tokens whose id is this, or whose shown prefix starts with it (the command line's way to name one)."""
    text = (id_or_prefix or "").strip()
    try:
        token = db.session.get(ApiToken, uuid.UUID(text))
        return [token] if token else []
    except ValueError:
        pass
    if len(text) < 6:
        raise Invalid("Give the token's id, or at least 6 characters of its prefix.")
    return list(db.session.scalars(select(ApiToken).where(ApiToken.prefix.startswith(text, autoescape=True))))


def revoke_token(actor: User | None, token: ApiToken) -> None:
    """Revoke one token at once; revoking it again changes nothing."""
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    trail.record(actor, "token.revoked", "user", token.user_id, {"token": token.id, "prefix": token.prefix})


def revoke_tokens(user: User, actor: User | None = None) -> int:
    """Revoke every token of `user` that is not revoked yet; return how many."""
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session="fetch")
    ).rowcount
    if revoked:
        trail.record(actor, "user.tokens_revoked", "user", user.id, {"count": revoked})
    return revoked

