"""Readiness: could an external auditor turn up today?

Each signal counts what would embarrass the organisation in front of a certification
auditor, per standard and site, and is green, amber or red by thresholds the operator
may change (`GEMBA_READINESS_THRESHOLDS`, JSON `{"actions_overdue": {"amber": 1, "red": 5}}`):
a count at or over `red` is red, at or over `amber` amber, else green. The page's status is
its worst signal. Each signal links to the list that clears it.
"""

import uuid
from collections import deque
from dataclasses import asdict, dataclass
from datetime import date

from flask import current_app
from sqlalchemy import func, select

from ..errors import Invalid, NotAllowed
from ..extensions import db
from ..models import (
    OPEN_FINDING_STATUSES,
    ActionStatus,
    Area,
    Audit,
    CorrectiveAction,
    Finding,
    FindingKind,
    ManagementReview,
    ManagementReviewStatus,
    Objective,
    ReviewAction,
    Site,
    Template,
    User,
)
from ..permissions import require, reviews, scope_areas, sites_in_scope
from . import checklists, competence, coverage, documents, objectives, programme, trail
from .programme import add_months, standard_family

ORDER = ("green", "amber", "red")

# Defaults: any overdue or open major is worth a look; several are a problem.
THRESHOLDS = {
    "clauses_not_audited": {"amber": 1, "red": 10},
    "audits_overdue": {"amber": 1, "red": 3},
    "actions_overdue": {"amber": 1, "red": 5},
    "actions_unchecked": {"amber": 1, "red": 10},
    "major_ncs_open": {"amber": 1, "red": 1},
    "checklists_past_review": {"amber": 1, "red": 3},
    "objectives_off_track": {"amber": 1, "red": 3},
    "management_review_overdue": {"amber": 1, "red": 1},
    "trail_verification": {"amber": 1, "red": 1},
    "documents_past_review": {"amber": 1, "red": 3},
    "training_gaps": {"amber": 1, "red": 5},
}
REVIEW_EVERY_MONTHS = 12


@dataclass
class Signal:
    key: str
    status: str
    count: int
    title: str
    href: str


@dataclass
class Readiness:
    signals: list[Signal]
    status: str
    standard: str
    site_id: uuid.UUID | None

    def as_dict(self) -> dict:
        return {"signals": [asdict(s) for s in self.signals], "status": self.status,
                "standard": self.standard, "site_id": str(self.site_id) if self.site_id else None}


def thresholds() -> dict[str, dict[str, int]]:
    """The defaults, with what GEMBA_READINESS_THRESHOLDS overrides."""
    merged = {key: dict(value) for key, value in THRESHOLDS.items()}
    for key, value in (current_app.config.get("READINESS_THRESHOLDS") or {}).items():
        if key in merged and isinstance(value, dict):
            merged[key].update({k: int(v) for k, v in value.items() if k in ("amber", "red") and isinstance(v, int)})
    return merged


def level(key: str, count: int, limits: dict | None = None) -> str:
    limit = (limits or thresholds())[key]
    if count >= limit["red"]:
        return "red"
    return "amber" if count >= limit["amber"] else "green"


class Where:
    """The part of the register a readiness view looks at: a standard, a site, the person's sites."""

    def __init__(self, user: User, standard: str, site_id: uuid.UUID | None):
        self.user, self.standard, self.site_id = user, standard_family(standard) if standard else "", site_id

    def areas(self, column):
        """A clause narrowing `column` (an area id) to the site and the person's sites; None when nothing is narrowed."""
        if self.site_id is None and sites_in_scope(self.user) is None:
            return None
        clause = scope_areas(self.user, column)
        if self.site_id:
            clause = clause & column.in_(select(Area.id).where(Area.site_id == self.site_id))
        return clause

    def templates(self, column):
        if not self.standard:
            return None
        ids = [t.id for t in db.session.scalars(select(Template)) if standard_family(t.standard) == self.standard]
        return column.in_(ids)


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _where(query, *clauses):
    return query.where(*[c for c in clauses if c is not None])


def clauses_not_audited(w: Where, today: date) -> int:
    gaps = 0
    for standard in ([w.standard] if w.standard else coverage.standards()):
        matrix = coverage.matrix(standard, today=today)
        for area in matrix.areas:
            if w.site_id and area.site_id != w.site_id:
                continue
            if not reviews(w.user, area):
                continue
            gaps += sum(1 for clause in matrix.clauses if matrix.is_gap(area, clause))
    return gaps


def audits_overdue(w: Where, today: date) -> int:
    return _count(_where(programme.overdue_query(today), w.areas(Audit.area_id), w.templates(Audit.template_id)))


def _actions_in(w: Where):
    areas = w.areas(Finding.area_id)
    if areas is None:
        return select(CorrectiveAction.id)
    return select(CorrectiveAction.id).join(Finding, Finding.id == CorrectiveAction.finding_id).where(areas)


def _review_actions_in(w: Where):
    query = select(ReviewAction.id).join(ManagementReview, ManagementReview.id == ReviewAction.review_id)
    if w.site_id:
        query = query.where(ManagementReview.site_id == w.site_id)
    return query


def actions_overdue(w: Where, today: date) -> int:
    corrective = _count(_actions_in(w).where(CorrectiveAction.status == ActionStatus.OPEN, CorrectiveAction.due_date < today))
    review = _count(_review_actions_in(w).where(ReviewAction.status == "open", ReviewAction.due_date < today))
    return corrective + review


def actions_unchecked(w: Where, today: date) -> int:
    """Done actions whose effectiveness check date has passed without a check."""
    return _count(_actions_in(w).where(
        CorrectiveAction.status == ActionStatus.DONE,
        (CorrectiveAction.effectiveness_due.is_(None)) | (CorrectiveAction.effectiveness_due < today)))


def major_ncs_open(w: Where, today: date) -> int:
    return _count(_where(select(Finding.id).where(Finding.kind == FindingKind.MAJOR_NC,
                                                  Finding.status.in_(OPEN_FINDING_STATUSES)), w.areas(Finding.area_id)))


def checklists_past_review(w: Where, today: date) -> int:
    due = checklists.overdue_for_review(today)
    return sum(1 for t in due if not w.standard or standard_family(t.standard) == w.standard)


def objectives_off_track(w: Where, today: date) -> int:
    query = objectives.objective_query(w.user, site_id=w.site_id, standard=w.standard or None)
    return sum(1 for o in db.session.scalars(query)
               if objectives.status(o) == "off_track" or objectives.is_stale(o, today))


def management_review_overdue(w: Where, today: date) -> int:
    """1 when no management review was signed off in the last 12 months (for this standard and site, or the whole)."""
    since = add_months(today, -REVIEW_EVERY_MONTHS)
    query = select(ManagementReview.id).where(ManagementReview.status == ManagementReviewStatus.SIGNED_OFF,
                                              func.coalesce(ManagementReview.held_on, ManagementReview.period_end) >= since)
    if w.site_id:
        query = query.where((ManagementReview.site_id == w.site_id) | ManagementReview.site_id.is_(None))
    if w.standard:
        query = query.where(ManagementReview.standard.in_(["", w.standard]))
    return 0 if db.session.scalar(query.limit(1)) else 1


def trail_verification(w: Where, today: date) -> int:
    return 0 if trail.verify_recent() is None else 1


def documents_past_review(w: Where, today: date) -> int:
    """Approved controlled documents whose review date has passed (those the person may see)."""
    return _count(documents.document_query(w.user, overdue_on=today))


def training_gaps(w: Where, today: date) -> int:
    """Required competences people lack or hold expired (the competence matrix's missing and expired cells)."""
    read = competence.matrix_rows(w.user, w.site_id, today=today)
    deque(read.rows, maxlen=0)  # counted as read; no cells kept
    counts = read.counts()
    return counts[competence.MISSING] + counts[competence.EXPIRED]


SIGNALS = (
    ("clauses_not_audited", "Clauses not audited in the last 12 months", clauses_not_audited, "/coverage"),
    ("audits_overdue", "Audits overdue", audits_overdue, "/dashboard#overdue-audits"),
    ("actions_overdue", "Actions overdue", actions_overdue, "/actions?status=overdue"),
    ("actions_unchecked", "Actions done without an effectiveness check", actions_unchecked, "/actions?status=done"),
    ("major_ncs_open", "Major nonconformities open", major_ncs_open, "/findings?kind=major_nc&status=open_any"),
    ("checklists_past_review", "Checklists past their review date", checklists_past_review, "/checklists"),
    ("objectives_off_track", "Objectives off track or without a recent measurement", objectives_off_track, "/objectives"),
    ("management_review_overdue", "No management review signed off in the last 12 months", management_review_overdue,
     "/management-reviews"),
    ("trail_verification", "Audit trail fails verification", trail_verification, "/trail"),
    ("documents_past_review", "Controlled documents past their review date", documents_past_review, "/documents?overdue=1"),
    ("training_gaps", "Required competences missing or expired", training_gaps, "/competences"),
)


def readiness(user: User, standard: str | None = None, site_id: uuid.UUID | None = None,
              today: date | None = None) -> Readiness:
    """Every signal for `standard` and `site_id` (each optional) as `user` may see them.

    :raise 403: not a reviewer, or a site they do not cover. :raise 422: no such site.
    """
    require(user, "readiness.view")
    today = today or date.today()
    if site_id is not None:
        site = db.session.get(Site, site_id)
        if site is None:
            raise Invalid("There is no such site.", {"site_id": ["There is no such site."]})
        if not reviews(user, site):
            raise NotAllowed("You do not review that site.")
    w = Where(user, standard or "", site_id)
    limits = thresholds()
    signals = []
    for key, title, count_of, path in SIGNALS:
        count = count_of(w, today)
        href = path
        if key == "clauses_not_audited" and w.standard:
            href = f"/coverage?standard={w.standard.replace(' ', '+')}"
        signals.append(Signal(key, level(key, count, limits), count, title, href))
    worst = max((s.status for s in signals), key=ORDER.index, default="green")
    return Readiness(signals, worst, w.standard, site_id)
