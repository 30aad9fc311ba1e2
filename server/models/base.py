"""Column types and mixins shared by the aggregates."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def happened_at(at: datetime | None) -> datetime:
    """Say when something happened: `at` when given, aware and not ahead of the server clock, else now.

    Services that stamp a moment take `at` so history can be written after the fact - a
    device's clock, the demo's back-dated story - but a future or naive time is never believed.
    """
    now = utcnow()
    return at if at is not None and at.tzinfo is not None and at <= now else now


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone; PostgreSQL's timestamptz does. Naive values are refused so
    that a device's local clock never sneaks in unlabelled.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC value")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Versioned:
    """A record that devices edit offline.

    `version` grows by one with every change; `field_versions` remembers the version at
    which each field last changed, so a device's edit based on an older version
    conflicts only on the fields that really moved since.
    """

    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    field_versions: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def changed_since(self, field: str, base_version: int) -> bool:
        return (self.field_versions or {}).get(field, 0) > base_version

    def bump(self, fields) -> int:
        """Record that `fields` changed, returning the new version."""
        self.version = (self.version or 0) + 1
        versions = dict(self.field_versions or {})
        for field in fields:
            versions[field] = self.version
        self.field_versions = versions
        return self.version
