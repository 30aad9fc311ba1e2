"""Repeat findings: the same problem, in the same place, against the same clause, again.

A repeat says the earlier corrective action did not reach the root cause, so the register
suggests earlier findings that look like a new one and a supervisor decides.
"""

import difflib
import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..errors import Invalid, StateError
from ..extensions import db
from ..models import Finding, FindingStatus, User
from ..permissions import require
from . import findings, trail

CANDIDATES = 200  # the most recent look-alikes compared by text; bounded at any scale
SUGGESTIONS = 5
# Without a clause to match on, only text that is clearly alike is suggested.
MIN_SIMILARITY_WITHOUT_CLAUSE = 0.45
WORD = re.compile(r"[a-z0-9]{3,}")


@dataclass
class Suggestion:
    finding: Finding
    similarity: float  # 0..1

    @property
    def percent(self) -> int:
        return round(self.similarity * 100)


def _words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def similarity(a: Finding, b: Finding) -> float:
    """How alike two findings read: the better of a character match and shared words."""
    text_a = f"{a.title} {a.description}".lower().strip()
    text_b = f"{b.title} {b.description}".lower().strip()
    ratio = difflib.SequenceMatcher(None, text_a, text_b).ratio()
    words_a, words_b = _words(text_a), _words(text_b)
    shared = len(words_a & words_b) / len(words_a | words_b) if words_a and words_b else 0.0
    return max(ratio, shared)


def window_days() -> int:
    return int(current_app.config["REPEAT_WINDOW_DAYS"])


def suggest(user: User, finding: Finding, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """Earlier findings in the same area with the same clause (and similar text) within the window."""
    require(user, "finding.triage", finding)
    since = finding.received_at - timedelta(days=window_days())
    query = (
        select(Finding)
        .options(joinedload(Finding.area))
        .where(
            Finding.area_id == finding.area_id,
            Finding.id != finding.id,
            Finding.received_at >= since,
            Finding.received_at <= finding.received_at,
            Finding.status != FindingStatus.REJECTED,
        )
        .order_by(Finding.received_at.desc())
        .limit(CANDIDATES)
    )
    if finding.clause:
        query = query.where(func.lower(Finding.clause) == finding.clause.lower())
    suggestions = []
    for candidate in db.session.scalars(query):
        score = similarity(finding, candidate)
        if finding.clause or score >= MIN_SIMILARITY_WITHOUT_CLAUSE:
            suggestions.append(Suggestion(candidate, score))
    suggestions.sort(key=lambda s: (s.similarity, s.finding.received_at), reverse=True)
    return suggestions[:limit]


def link_repeat(user: User, finding: Finding, earlier: Finding | None) -> Finding:
    """Mark `finding` as a repeat of `earlier` (None removes the link).

    :raise Invalid: when `earlier` is the finding itself, newer than it, or would make a loop.
    :raise StateError: on a closed or rejected finding.
    """
    require(user, "finding.triage", finding)
    if not finding.is_open:
        raise StateError("A closed or rejected finding cannot be linked.")
    old = finding.repeat_of_id
    if earlier is not None:
        if earlier.id == finding.id:
            raise Invalid("A finding cannot repeat itself.", {"repeat_of_id": ["Choose an earlier finding."]})
        if earlier.received_at > finding.received_at:
            raise Invalid("Only an earlier finding can be repeated.", {"repeat_of_id": ["That finding is newer than this one."]})
        seen, step = {finding.id}, earlier
        while step is not None:
            if step.id in seen:
                raise Invalid("That link would make a loop of repeats.", {"repeat_of_id": ["Choose another finding."]})
            seen.add(step.id)
            step = step.repeat_of
    new = earlier.id if earlier else None
    if new == old:
        return finding
    finding.repeat_of_id = new
    finding.repeat_of = earlier
    finding.bump(["repeat_of_id"])
    db.session.flush()
    findings.publish_finding(finding)
    trail.record(user, "finding.repeat_linked" if earlier else "finding.repeat_unlinked", "finding", finding.id,
                 {"repeat_of_id": [old, new]})
    return finding


def repeat_counts(query_filter=None) -> dict[str, int]:
    """Findings that are repeats, and how many of them are still open."""
    base = select(Finding).where(Finding.repeat_of_id.is_not(None))
    if query_filter is not None:
        base = base.where(query_filter)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    open_ = db.session.scalar(select(func.count()).select_from(
        base.where(Finding.status.in_([s.value for s in FindingStatus if s not in (FindingStatus.CLOSED, FindingStatus.REJECTED)])).subquery()
    ))
    return {"total": total, "open": open_}
