"""Figures the register keeps so that it need not recount history on every page view."""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class ChartSnapshot(db.Model):
    """The dashboard charts' counts for months that are over, for a set of sites.

    A month's findings (by received time), actions opened and completed, and actions
    overdue at its end no longer change once it is over, so they are counted once
    and kept here under the window they belong to ("2025-12..2026-10" for every site;
    "2025-12..2026-10@<digest>" for a reviewer of some sites, the digest naming which);
    only the current month is counted live.
    """

    __tablename__ = "chart_snapshot"

    window: Mapped[str] = mapped_column(String(40), primary_key=True)
    figures: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
