"""Accounts: people, their passwords, signing in, deactivation.

The face other parts call: `create_user`, `check_password`, `set_password`,
`change_own_password`, `sign_in`, `set_active`, and (kept in `sessions` and `tokens`)
`end_sessions`, `revoke_tokens`, `create_token`, `user_for_token`.
"""

import re
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..errors import AccountDisabled, BadCredentials, Invalid
from ..extensions import db
from ..fieldrules import LIMITS
from ..models import Area, Role, User
from ..permissions import require
from . import throttle, trail
from .sessions import end_sessions  # noqa: F401  (part of this face: other parts call accounts.end_sessions)
from .throttle import Client
from .tokens import TOKEN_PREFIX, create_token, revoke_tokens, user_for_token  # noqa: F401  (likewise)

MIN_PASSWORD = 10
# zxcvbn refuses to score longer input (its matching grows fast with length); a longer
# passphrase is judged by its first 72 characters, which must be strong on their own.
ZXCVBN_MAX = 72
# Words anyone would try first against this organisation's accounts.
HOUSE_WORDS = ("gemba", "audit", "auditor", "quality", "safety", "iso9001", "iso14001", "iso45001")
DISABLED_MESSAGE = ("This account has been deactivated, so it can no longer sign in or sync. "
                    "Ask your administrator; work not yet sent can still be exported from the device.")
# A hash to check against when the email is unknown, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not a password")
# The password hash of a person who has none yet (invited, not yet accepted): no password
# matches it, and it costs nothing to store, so a bulk import of thousands stays quick.
NO_PASSWORD = "!no-password"  # User.has_password knows the "!"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    # scrypt, a memory-hard KDF, at Werkzeug's default cost; the test suite lowers the
    # cost through PASSWORD_HASH_METHOD so hundreds of test users stay cheap.
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def guessable_words(*texts: str) -> list[str]:
    """What an attacker knows about a person (email, name), in the pieces they would try."""
    words = set(HOUSE_WORDS)
    for text in texts:
        text = (text or "").strip().lower()
        if not text:
            continue
        words.add(text)
        local, _, domain = text.partition("@")
        words.add(local)
        words.update(piece for piece in re.split(r"[^a-z0-9]+", text) if len(piece) >= 3)
        words.update(label for label in domain.split(".")[:-1] if len(label) >= 3)
    return sorted(words)


def check_password(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Refuse a password that is short, common or guessable from `user_inputs` (email, name).

    :raise Invalid: on field "password", with the reason (zxcvbn's feedback).
    """
    problem = _password_problem(password, user_inputs)
    if problem:
        raise Invalid("Choose another password.", {"password": [problem]})


def _password_problem(password, user_inputs) -> str | None:
    if not isinstance(password, str) or not password:
        return "Enter a password."
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > LIMITS["password"]:
        return f"Use at most {LIMITS['password']:,} characters."
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=guessable_words(*user_inputs))
    if result["score"] >= current_app.config["PASSWORD_MIN_SCORE"]:
        return None
    feedback = result["feedback"]
    warning = feedback.get("warning") or "It is built from common words, patterns or your own name or email."
    advice = " ".join(feedback.get("suggestions") or ["Add another word or two. Uncommon words are better."])
    return f"This password is too easy to guess. {warning} {advice}"


def create_user(email: str, role: str, password: str | None, name: str | None = None,
                home_area: Area | None = None, actor: User | None = None) -> User:
    """Create an active user. :raise Invalid: on a bad email, role or password.

    `password` None: the person has none yet (an invitation sets it) and cannot sign in.
    """
    email = normalise_email(email)
    name = (name or email.split("@")[0]).strip()
    errors = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = ["Enter a valid email address."]
    elif db.session.scalar(select(User.id).where(User.email == email)):
        errors["email"] = ["A user with this email already exists."]
    if role not in {r.value for r in Role}:
        errors["role"] = [f"Role must be one of {', '.join(r.value for r in Role)}."]
    if password is not None and (problem := _password_problem(password, (email, name))):
        errors["password"] = [problem]
    if errors:
        raise Invalid("The user could not be created.", errors)
    user = User(
        email=email,
        name=name,
        role=role,
        home_area_id=home_area.id if home_area else None,
        password_hash=hash_password(password) if password is not None else NO_PASSWORD,
    )
    db.session.add(user)
    db.session.flush()
    trail.record(actor, "user.created", "user", user.id, {"email": email, "role": role})
    return user


def nobody_yet() -> bool:
    """Whether the database has no people at all: a fresh install, before the first admin."""
    return db.session.scalar(select(User.id).limit(1)) is None


def set_password(user: User, new_password: str, actor: User | None = None) -> None:
    """Give `user` a new password and end their other sessions.

    The request's own session stays signed in when it is theirs (they changed it
    themselves); every other session of theirs ends. `actor` None: the command line or an
    invitation link.
    :raise Invalid: a weak password, with the reason.
    """
    check_password(new_password, (user.email, user.name))
    user.password_hash = hash_password(new_password)
    trail.record(actor, "user.password_changed", "user", user.id, {})
    end_sessions(user, except_current=True, actor=actor, because="password_changed")


def change_own_password(user: User, current_password: str, new_password: str, client: Client) -> None:
    """Change `user`'s own password, which needs the current one (checked like a sign-in).

    :raise Invalid: the current password is not right, or the new one is weak.
    :raise TooManyAttempts: too many wrong current passwords from this client.
    """
    attempt = throttle.count_attempt(user.email, client, client.known_device_of(user.id))
    if not check_password_hash(user.password_hash, current_password or ""):
        throttle.attempt_failed(attempt)
        trail.record(user, "user.sign_in_failed", "user", user.id,
                     {"email": user.email, "address": client.address, "reason": "wrong current password"})
        raise Invalid("The password was not changed.", {"current_password": ["This is not your current password."]})
    throttle.attempt_succeeded(attempt)
    if current_password == new_password:
        raise Invalid("The password was not changed.", {"new_password": ["Choose a password you have not used here."]})
    try:
        set_password(user, new_password, actor=user)
    except Invalid as exc:
        raise Invalid("The password was not changed.", {"new_password": exc.fields["password"]}) from None


def sign_in(email: str, password: str, client: Client) -> User:
    """Return the user whose credentials these are.

    :raise BadCredentials: wrong email or password (alike, so neither is revealed).
    :raise AccountDisabled: the right password of a deactivated person.
    :raise TooManyAttempts: this client, this account or this address must wait.
    """
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    attempt = throttle.count_attempt(email, client, client.known_device_of(user.id) if user else None)
    # Someone without a password yet is checked against the dummy too, so timing does not tell.
    stored = user.password_hash if user is not None and user.has_password else _DUMMY_HASH
    valid = check_password_hash(stored, password or "") and user is not None and user.has_password
    if user is None or not valid or not user.active:
        throttle.attempt_failed(attempt)
        reason = "no such account" if user is None else "wrong password" if not valid else "deactivated"
        trail.record(None, "user.sign_in_failed", "user", user.id if user else "unknown",
                     {"email": email, "address": client.address, "reason": reason})
        if user is not None and valid:
            raise AccountDisabled(DISABLED_MESSAGE)
        raise BadCredentials("The email or password is not right.")
    throttle.attempt_succeeded(attempt)
    throttle.forget_old()
    return user


def set_active(actor: User | None, user: User, active: bool) -> User:
    """Deactivate or reactivate `user`; deactivating ends their sessions and tokens at once.

    Their records stay theirs. `actor` None: the command line.
    :raise 403: the actor is not an admin. :raise Invalid: an admin deactivating themselves.
    """
    if actor is not None:
        require(actor, "admin.users")
        if actor.id == user.id and not active:
            raise Invalid("You cannot deactivate yourself; ask another admin.", {"active": ["Not for your own account."]})
    if user.active == active:
        return user
    user.active = active
    if active:
        trail.record(actor, "user.reactivated", "user", user.id, {})
        return user
    trail.record(actor, "user.deactivated", "user", user.id, {})
    end_sessions(user, actor=actor, because="deactivated")
    revoke_tokens(user, actor=actor)
    return user
