"""Clause coverage: which clauses of a standard were audited in which area, when, with what result.

An audit covers a clause in its area when it was submitted or approved and answered a
question with that clause (an "N/A" answer does not count: the clause was not looked
at). The result of the last covering audit is the worst finding it raised against the
clause, or "conforming" when it raised none and no answer called for one.
"""

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Area, Audit, AuditStatus, Finding, Question, Response, Template
from .programme import add_months, standard_family

COVERING = (AuditStatus.SUBMITTED, AuditStatus.APPROVED)
CYCLE_MONTHS = 12
# Worst first; "issue" is an answer that called for a finding where none was raised yet.
RESULTS = ("major_nc", "minor_nc", "issue", "observation", "improvement", "conforming")
SEVERITY = {name: rank for rank, name in enumerate(RESULTS)}


@dataclass
class Cell:
    last: date
    result: str
    audit_id: uuid.UUID
    gap: bool = False


@dataclass
class Matrix:
    standard: str
    areas: list[Area]
    clauses: list[str]
    cells: dict[tuple[uuid.UUID, str], Cell]
    since: date

    def cell(self, area: Area, clause: str) -> Cell | None:
        return self.cells.get((area.id, clause))

    def is_gap(self, area: Area, clause: str) -> bool:
        cell = self.cell(area, clause)
        return cell is None or cell.gap

    @property
    def gap_count(self) -> int:
        return sum(1 for a in self.areas for c in self.clauses if self.is_gap(a, c))


def clause_key(clause: str) -> tuple:
    """Sort "4.1" < "6.1.2" < "10.2" numerically."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\s]+", clause.strip()) if p)


def standards() -> list[str]:
    """The standards that have checklists, as families ("ISO 9001")."""
    return sorted({standard_family(s) for s in db.session.scalars(select(Template.standard).distinct())})


def _templates_of(standard: str) -> list[uuid.UUID]:
    return [t.id for t in db.session.scalars(select(Template)) if standard_family(t.standard) == standard_family(standard)]


def _audit_day(audit: Audit) -> date:
    if audit.submitted_at is not None:
        return audit.submitted_at.date()
    return audit.planned_date or audit.created_at.date()


def matrix(standard: str, today: date | None = None, cycle_months: int = CYCLE_MONTHS) -> Matrix:
    """Areas x clauses of `standard` with the last covering audit of each pair.

    A pair is a gap when no audit covered it or the last one is older than `cycle_months`.
    """
    today = today or date.today()
    since = add_months(today, -cycle_months)
    template_ids = _templates_of(standard)
    areas = list(db.session.scalars(select(Area).order_by(Area.site, Area.name)))
    clauses = sorted({c for c in db.session.scalars(
        select(Question.clause).where(Question.template_id.in_(template_ids), Question.clause != "").distinct())},
        key=clause_key)
    audits = db.session.scalars(
        select(Audit).where(Audit.template_id.in_(template_ids), Audit.status.in_(COVERING))
    ).all()
    audit_ids = [a.id for a in audits]
    by_id = {a.id: a for a in audits}
    answered = db.session.execute(
        select(Response.audit_id, Question.clause, Response.value, Question.finding_answers)
        .join(Question, Question.id == Response.question_id)
        .where(Response.audit_id.in_(audit_ids), Question.clause != "")
    ).all()
    raised = db.session.execute(
        select(Finding.audit_id, Finding.clause, Finding.kind, Question.clause)
        .outerjoin(Question, Question.id == Finding.question_id)
        .where(Finding.audit_id.in_(audit_ids))
    ).all()
    findings: dict[tuple[uuid.UUID, str], str] = {}
    for audit_id, clause, kind, question_clause in raised:
        for c in {clause, question_clause} - {None, ""}:
            key = (audit_id, c)
            if key not in findings or SEVERITY[kind] < SEVERITY[findings[key]]:
                findings[key] = kind
    # Per (audit, clause): covered, and the result.
    covered: dict[tuple[uuid.UUID, str], str] = {}
    for audit_id, clause, value, finding_answers in answered:
        if value in (None, "", "na"):
            continue
        result = "issue" if value in (finding_answers or []) else "conforming"
        key = (audit_id, clause)
        if key in findings:
            result = findings[key]
        if key not in covered or SEVERITY[result] < SEVERITY[covered[key]]:
            covered[key] = result
    cells: dict[tuple[uuid.UUID, str], Cell] = {}
    for (audit_id, clause), result in covered.items():
        audit = by_id[audit_id]
        day = _audit_day(audit)
        key = (audit.area_id, clause)
        if key not in cells or day > cells[key].last:
            cells[key] = Cell(day, result, audit_id)
    for cell in cells.values():
        cell.gap = cell.last < since
    return Matrix(standard_family(standard), areas, clauses, cells, since)


def to_csv(m: Matrix) -> str:
    """One row per area and clause: when it was last audited, the result, and whether it is a gap."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["standard", "site", "area", "clause", "last_audited", "result", "audit_id", "gap"])
    for area in m.areas:
        for clause in m.clauses:
            cell = m.cell(area, clause)
            writer.writerow([
                m.standard, _safe(area.site), _safe(area.name), _safe(clause),
                cell.last.isoformat() if cell else "", cell.result if cell else "",
                str(cell.audit_id) if cell else "", "yes" if m.is_gap(area, clause) else "no",
            ])
    return out.getvalue()


def _safe(text: str) -> str:
    # A cell starting with = + - @ runs as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

