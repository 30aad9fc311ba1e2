"""People, where they work, and how they sign in."""

import uuid
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..fieldrules import LIMITS
from ..ids import AREA_CODE_LENGTH, new_area_code
from .base import UTCDateTime, new_id, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    STAFF = "staff"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Site(db.Model):
    """A place the organisation works, with the time zone its days are counted in."""

    __tablename__ = "site"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(LIMITS["name"]), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # an IANA name, e.g. Europe/London
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A retired site stays in history and is offered for no new work.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __str__(self) -> str:
        return self.name


# The sites a person works at. A supervisor with any is limited to them; with none, they
# see every site. Admins always see every site.
user_site = Table(
    "user_site", db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
)


class Area(db.Model):
    __tablename__ = "area"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(String(LIMITS["name"]))
    # The short code on the area's QR label (`ids.AREA_CODE_ALPHABET`): given once, never
    # changed, so a printed label keeps working through renames and moves between sites.
    code: Mapped[str] = mapped_column(String(AREA_CODE_LENGTH), unique=True, default=new_area_code)
    # No foreign key: user already points at area (home area), and a cycle of foreign
    # keys would make every migration hand-edited. The service layer keeps it valid.
    responsible_id: Mapped[uuid.UUID | None] = mapped_column()
    risk_level: Mapped[str] = mapped_column(String(10), default=RiskLevel.MEDIUM)
    # How often the programme plans an audit of this area.
    audit_every_months: Mapped[int] = mapped_column(Integer, default=12)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship(lazy="joined", innerjoin=True)
    responsible: Mapped["User | None"] = relationship(
        primaryjoin="foreign(Area.responsible_id) == User.id", viewonly=True
    )

    @property
    def label(self) -> str:
        return f"{self.site.name} / {self.name}"


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(LIMITS["name"]))
    role: Mapped[str] = mapped_column(String(20))
    home_area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("area.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The zone the register shows this person times in; None: each record's site's zone.
    timezone: Mapped[str | None] = mapped_column(String(64))

    home_area: Mapped[Area | None] = relationship(foreign_keys=[home_area_id])
    sites: Mapped[list[Site]] = relationship(secondary=user_site, order_by=Site.name)

    @property
    def has_password(self) -> bool:
        """False until an invited person sets one (their hash is then a marker no password matches)."""
        return not self.password_hash.startswith("!")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of inactive users
        return self.active

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(db.Model):
    """A bearer token for integrations. Only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")  # what it is for
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, shown in lists so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(12), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until revoked
    # Written at most once a minute per token (services/tokens.py), not on every call.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """A signed-in browser or device. The signed cookie names it; ending it here ends the cookie."""

    __tablename__ = "user_session"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most once every few minutes (GEMBA_SESSION_TOUCH_MINUTES); the idle
    # lifetime counts from it.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the absolute lifetime's end
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it ended: signed_out, revoked, password_changed, deactivated.
    ended_because: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship()


class AccountLink(db.Model):
    """A single-use link that lets a person set their password: an invitation or a reset.

    Only the SHA-256 of the link's secret is stored; the secret travels in the email alone.
    """

    __tablename__ = "account_link"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(12))  # invitation or reset
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column()  # no foreign key: the trail says who
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when it is used, or when a newer link of the same person replaces it.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SignInThrottle(db.Model):
    """Failed sign-ins counted per key, in the database so every worker throttles alike.

    A key is the SHA-256 of what is counted: one account from one client, one account
    from any client that is not a known device, or one address (services/throttle.py).
    Counting is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING per key, so parallel
    guesses wait on the row instead of all reading the same count.
    """

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the window's start
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
