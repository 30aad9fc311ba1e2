"""Accounts: creating users, signing in with throttling, API tokens."""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Invalid, TooManyAttempts
from ..extensions import db
from ..models import ApiToken, Area, LoginAttempt, Role, User, utcnow
from . import trail

TOKEN_PREFIX = "gmb_"
MIN_PASSWORD = 10
# A hash to check against when the email is unknown, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not a password")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    # scrypt, a memory-hard KDF, at Werkzeug's default cost; the test suite lowers the
    # cost through PASSWORD_HASH_METHOD so hundreds of test users stay cheap.
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def create_user(email: str, role: str, password: str, name: str | None = None,
                home_area: Area | None = None, actor: User | None = None) -> User:
    """Create an active user. :raise Invalid: on a bad email, role or password."""
    email = normalise_email(email)
    errors = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = ["Enter a valid email address."]
    elif db.session.scalar(select(User.id).where(User.email == email)):
        errors["email"] = ["A user with this email already exists."]
    if role not in {r.value for r in Role}:
        errors["role"] = [f"Role must be one of {', '.join(r.value for r in Role)}."]
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = [f"Use at least {MIN_PASSWORD} characters."]
    if errors:
        raise Invalid("The user could not be created.", errors)
    user = User(
        email=email,
        name=(name or email.split("@")[0]).strip(),
        role=role,
        home_area_id=home_area.id if home_area else None,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    trail.record(actor, "user.created", "user", user.id, {"email": email, "role": role})
    return user


def authenticate(email: str, password: str, address: str) -> User | None:
    """Return the user whose credentials these are, or None.

    :raise TooManyAttempts: after too many recent failures for this email or address.
    """
    email = normalise_email(email)
    config = current_app.config
    window = timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    since = utcnow() - window
    by_email = db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.at > since)
    )
    by_address = db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.address == address, LoginAttempt.at > since)
    )
    if by_email >= config["LOGIN_MAX_FAILURES"] or by_address >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        raise TooManyAttempts(
            "Too many failed sign-ins. Wait a few minutes and try again.",
            retry_after=int(window.total_seconds()),
        )
    user = db.session.scalar(select(User).where(User.email == email))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "")
    if user is None or not valid or not user.active:
        db.session.add(LoginAttempt(email=email, address=address))
        return None
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    return user


def create_token(user: User, name: str = "", actor: User | None = None) -> str:
    """Create an API token for `user` and return it; only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        prefix=token[:10],
    ))
    trail.record(actor, "token.created", "user", user.id, {"name": name, "prefix": token[:10]})
    return token


def user_for_token(token: str) -> User | None:
    """Return the active user a bearer token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    return row.user
