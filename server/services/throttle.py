"""Sign-in throttling: slow guessing down without locking the real person out.

Failures are counted on up to three keys (one `SignInThrottle` row each):
- the account from this client: the first LOGIN_MAX_FAILURES failures are free, then
  each failure makes this client wait before its next try, twice as long each time, up
  to LOGIN_DELAY_CAP_SECONDS. Only this client waits. The client is the known device
  when the browser carries one for this account, else the address;
- the account from any client that is not a known device, within a window
  (LOGIN_MAX_FAILURES_PER_ACCOUNT): many addresses guessing one password;
- the address, within a window (LOGIN_MAX_FAILURES_PER_ADDRESS): one address trying many
  accounts, a password sprayed across an organisation.
A known device (a browser that signed in to this account before) is counted on the first
key only, so nobody else's failures, from any address, hold it back.

Every key is about the email as it was typed, whether or not anyone has it, so what the
throttle answers says nothing about which accounts exist.

An attempt is counted before its password is checked, in one INSERT ... ON CONFLICT DO
UPDATE ... RETURNING per key: the statement locks the row until the request commits, so
parallel guesses queue on the row and never all read the same count. A refused attempt
is not counted (it was not checked); a successful one is uncounted.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import TooManyAttempts
from ..extensions import db
from ..models import SignInThrottle, utcnow
from ..models.base import UTCDateTime

THROTTLE = SignInThrottle.__table__


@dataclass(frozen=True)
class Client:
    """Where a sign-in comes from: the address, and the known device when there is one."""

    address: str
    device: str | None = None  # the id in the browser's known-device cookie, if it has one
    device_users: frozenset[str] = frozenset()  # the people who signed in on that device
    user_agent: str = ""

    def known_device_of(self, user_id) -> str | None:
        """The device's id when it is a known device of this person, else None."""
        return self.device if self.device and str(user_id) in self.device_users else None


@dataclass
class Attempt:
    """An attempt that was counted, to settle once its password has been checked."""

    client_key: str  # the account from this client: delays
    window_keys: list[str] = field(default_factory=list)  # counted within a window
    failures: int = 0  # on the client key, this attempt included


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(THROTTLE)


def _at(moment: datetime):
    return literal(moment, UTCDateTime())


def _count_with_delay(key: str, now: datetime) -> tuple[int, datetime | None]:
    """Count one attempt unless the key is waiting out a delay; return (failures, blocked_until)."""
    forget = now - timedelta(seconds=current_app.config["LOGIN_FORGET_SECONDS"])
    forgotten = THROTTLE.c.last_at < forget
    waiting = THROTTLE.c.blocked_until > now
    statement = _insert().values(key=key, failures=1, first_at=now, last_at=now, blocked_until=None)
    statement = statement.on_conflict_do_update(index_elements=[THROTTLE.c.key], set_={
        "failures": case((forgotten, 1), (waiting, THROTTLE.c.failures), else_=THROTTLE.c.failures + 1),
        "first_at": case((forgotten, _at(now)), else_=THROTTLE.c.first_at),
        "blocked_until": case((forgotten, None), else_=THROTTLE.c.blocked_until),
        "last_at": case((waiting, THROTTLE.c.last_at), else_=_at(now)),
    }).returning(THROTTLE.c.failures, THROTTLE.c.blocked_until)
    failures, blocked_until = db.session.execute(statement).one()
    return failures, blocked_until


def _count_in_window(key: str, limit: int, now: datetime) -> tuple[int, datetime]:
    """Count one attempt unless the window's limit is reached; return (failures, window start).

    The count stops at limit + 1, so more than the limit means refused (and not counted).
    """
    window_start = now - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    expired = THROTTLE.c.first_at < window_start
    statement = _insert().values(key=key, failures=1, first_at=now, last_at=now)
    statement = statement.on_conflict_do_update(index_elements=[THROTTLE.c.key], set_={
        "failures": case((expired, 1), (THROTTLE.c.failures > limit, THROTTLE.c.failures),
                         else_=THROTTLE.c.failures + 1),
        "first_at": case((expired, _at(now)), else_=THROTTLE.c.first_at),
        "last_at": _at(now),
    }).returning(THROTTLE.c.failures, THROTTLE.c.first_at)
    failures, first_at = db.session.execute(statement).one()
    return failures, first_at


def _uncount(keys: list[str]) -> None:
    if keys:
        db.session.execute(update(SignInThrottle).where(SignInThrottle.key.in_(keys), SignInThrottle.failures > 0)
                           .values(failures=SignInThrottle.failures - 1))


def count_attempt(email: str, client: Client, known_device: str | None = None) -> Attempt:
    """Count a sign-in attempt for `email` from `client` before its password is checked.

    `known_device`: the client's device id when it is a known device of this account.

    :raise TooManyAttempts: when this client must wait, or the account or the address has
        had too many failures; the attempt is then not counted.
    """
    config = current_app.config
    now = utcnow()
    client_key = _key("client", email, "device", known_device) if known_device else \
        _key("client", email, "address", client.address)
    limits = {client_key: None}
    if not known_device:
        limits[_key("account", email)] = config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        limits[_key("address", client.address)] = config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    attempt = Attempt(client_key=client_key)
    counted, waits = [], []
    # Always in the same order, so two attempts never wait on each other's rows crosswise.
    for key in sorted(limits):
        if key == client_key:
            attempt.failures, blocked_until = _count_with_delay(key, now)
            if blocked_until is not None and blocked_until > now:
                waits.append(blocked_until - now)
            else:
                counted.append(key)
        else:
            failures, first_at = _count_in_window(key, limits[key], now)
            if failures > limits[key]:
                waits.append(first_at + timedelta(seconds=config["LOGIN_WINDOW_SECONDS"]) - now)
            else:
                counted.append(key)
                attempt.window_keys.append(key)
    if waits:
        _uncount(counted)
        seconds = max(1, int(max(waits).total_seconds() + 0.999))
        raise TooManyAttempts(f"Too many failed sign-ins. Try again in {_in_words(seconds)}.", retry_after=seconds)
    return attempt


def attempt_failed(attempt: Attempt) -> None:
    """Make this client wait before its next try, once its free failures are used up."""
    config = current_app.config
    over = attempt.failures - config["LOGIN_MAX_FAILURES"]
    if over < 0:
        return
    delay = min(config["LOGIN_DELAY_CAP_SECONDS"], config["LOGIN_DELAY_SECONDS"] * 2 ** min(over, 30))
    db.session.execute(update(SignInThrottle).where(SignInThrottle.key == attempt.client_key)
                       .values(blocked_until=utcnow() + timedelta(seconds=delay)))


def attempt_succeeded(attempt: Attempt) -> None:
    """Forget this client's failures on the account, and uncount the attempt from the windows."""
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.key == attempt.client_key))
    _uncount(attempt.window_keys)


def forget_old(now: datetime | None = None) -> int:
    """Delete counters nobody has failed on for a day or a window, whichever is longer."""
    config = current_app.config
    idle = max(config["LOGIN_FORGET_SECONDS"], config["LOGIN_WINDOW_SECONDS"], config["LOGIN_DELAY_CAP_SECONDS"])
    cutoff = (now or utcnow()) - timedelta(seconds=idle)
    return db.session.execute(delete(SignInThrottle).where(SignInThrottle.last_at < cutoff)).rowcount


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"
