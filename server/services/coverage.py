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
from types import SimpleNamespace

from sqlalchemy import func, select

from ..extensions import db
from ..models import Area, Audit, AuditStatus, Finding, Question, Response, Template
from . import checklists, organisation
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
    """Sort "4.1" < "6.1.2" < "10.2" numerically; parts that are not numbers ("A.5", "45001:8.1") after them, by text."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\s]+", clause.strip()) if p)


def standards() -> list[str]:
    """The standards that have checklists, as families ("ISO 9001")."""
    return sorted({standard_family(s) for s in db.session.scalars(select(Template.standard).distinct())})


def _templates_of(standard: str) -> list[uuid.UUID]:
    return [t.id for t in db.session.scalars(select(Template)) if standard_family(t.standard) == standard_family(standard)]


def _day(submitted_at, planned_date, created_at) -> date:
    if submitted_at is not None:
        return submitted_at.date()
    return planned_date or created_at.date()


BATCH = 500  # audits whose answers are read in one query


def matrix(standard: str, today: date | None = None, cycle_months: int = CYCLE_MONTHS) -> Matrix:
    """Areas x clauses of `standard` with the last covering audit of each pair.

    A pair is a gap when no audit covered it or the last one is older than `cycle_months`.
    Each area's audits are read newest first, and only until every clause its checklists
    ask about has a cell, so years of history cost about as much as the last round.
    """
    today = today or date.today()
    since = add_months(today, -cycle_months)
    template_ids = _templates_of(standard)
    areas = list(db.session.scalars(organisation.areas_in_order()))
    questions = {
        question_id: (clause, (finding_answers or [], kind, options), template_id)
        for question_id, clause, finding_answers, kind, options, template_id in db.session.execute(
            select(Question.id, Question.clause, Question.finding_answers, Question.kind, Question.options,
                   Question.template_id)
            .where(Question.template_id.in_(template_ids), Question.clause != ""))
    }
    shapes = _show_if_shapes(template_ids)
    template_clauses: dict[uuid.UUID, set[str]] = {}
    for clause, _, template_id in questions.values():
        template_clauses.setdefault(template_id, set()).add(clause)
    clauses = sorted({clause for clause, _, _ in questions.values()}, key=clause_key)
    # Newest first per area: (id, template, day). Only each area's latest few are read at
    # first; an area whose clauses they do not all cover reads the rest (`_older`).
    history = _latest(template_ids)
    needed = {area_id: set(clauses) for area_id in history}
    read = {area_id: {a[0] for a in audits} for area_id, audits in history.items()}
    complete = {area_id for area_id, audits in history.items() if len(audits) < LATEST}
    cells: dict[tuple[uuid.UUID, str], Cell] = {}
    while True:
        batch: dict[uuid.UUID, tuple[uuid.UUID, date]] = {}
        with_show_if: dict[uuid.UUID, uuid.UUID] = {}  # audit -> its template, when that has show-ifs
        for area_id, audits in history.items():
            if not audits and needed[area_id] and area_id not in complete:
                audits.extend(_older(template_ids, area_id, read[area_id]))
                complete.add(area_id)
            hoped = set()  # what the audits taken so far would cover if fully answered
            while audits and needed[area_id] - hoped and len(batch) < BATCH:
                audit_id, template_id, day = audits.pop(0)
                if template_clauses.get(template_id, set()) & (needed[area_id] - hoped):
                    batch[audit_id] = (area_id, day)
                    if template_id in shapes:
                        with_show_if[audit_id] = template_id
                    hoped |= template_clauses[template_id]
        if not batch:
            break
        for (area_id, clause), cell in _cells(batch, questions, _hidden(with_show_if, shapes)).items():
            if (area_id, clause) not in cells:
                cells[(area_id, clause)] = cell
                needed[area_id].discard(clause)
    for cell in cells.values():
        cell.gap = cell.last < since
    return Matrix(standard_family(standard), areas, clauses, cells, since)


LATEST = 12  # covering audits per area read up front; a checklist rarely needs more to show every clause


def _history_query(template_ids):
    return (select(Audit.id, Audit.area_id, Audit.template_id, Audit.submitted_at, Audit.planned_date, Audit.created_at)
            .where(Audit.template_id.in_(template_ids), Audit.status.in_(COVERING)))


def _newest_first(rows) -> list[tuple[uuid.UUID, uuid.UUID, date]]:
    audits = [(audit_id, template_id, _day(submitted, planned, created))
              for audit_id, _, template_id, submitted, planned, created in rows]
    audits.sort(key=lambda a: a[2], reverse=True)
    return audits


def _latest(template_ids) -> dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID, date]]]:
    """Each area's LATEST newest covering audits (by submission, then planned and created day)."""
    base = _history_query(template_ids).add_columns(func.row_number().over(
        partition_by=Audit.area_id,
        order_by=(Audit.submitted_at.desc().nulls_last(), Audit.planned_date.desc().nulls_last(), Audit.created_at.desc()),
    ).label("rank")).subquery()
    rows = db.session.execute(select(base.c.id, base.c.area_id, base.c.template_id, base.c.submitted_at,
                                     base.c.planned_date, base.c.created_at).where(base.c.rank <= LATEST)).all()
    by_area: dict[uuid.UUID, list] = {}
    for row in rows:
        by_area.setdefault(row[1], []).append(row)
    return {area_id: _newest_first(area_rows) for area_id, area_rows in by_area.items()}


def _older(template_ids, area_id, read: set) -> list[tuple[uuid.UUID, uuid.UUID, date]]:
    """An area's covering audits other than those `read` already, newest first."""
    rows = db.session.execute(_history_query(template_ids).where(Audit.area_id == area_id, Audit.id.not_in(read))).all()
    return _newest_first(rows)


def _show_if_shapes(template_ids) -> dict[uuid.UUID, list]:
    """The questions (id, position, show_if) of those of `template_ids` that use show-if."""
    rows = db.session.execute(select(Question.template_id, Question.id, Question.position, Question.show_if)
                              .where(Question.template_id.in_(template_ids))).all()
    by_template: dict[uuid.UUID, list] = {}
    for template_id, question_id, position, show_if in rows:
        by_template.setdefault(template_id, []).append(SimpleNamespace(id=question_id, position=position, show_if=show_if))
    return {t: qs for t, qs in by_template.items() if any(q.show_if for q in qs)}


def _hidden(audits: dict, shapes: dict) -> dict[uuid.UUID, set]:
    """The questions `checklists.visibility` hides in each of `audits` (audit -> template)."""
    if not audits:
        return {}
    answers: dict[uuid.UUID, dict] = {audit_id: {} for audit_id in audits}
    for audit_id, question_id, value in db.session.execute(
            select(Response.audit_id, Response.question_id, Response.value).where(Response.audit_id.in_(list(audits)))):
        answers[audit_id][question_id] = value
    return {audit_id: {qid for qid, shown in checklists.visibility(shapes[template_id], answers[audit_id]).items()
                       if not shown}
            for audit_id, template_id in audits.items()}


def _cells(batch: dict, questions: dict, hidden: dict) -> dict[tuple[uuid.UUID, str], Cell]:
    """The newest covering cell per (area, clause) among the audits in `batch`; a question
    show-if hides (`hidden`: audit -> question ids) covers nothing."""
    audit_ids = list(batch)
    findings: dict[tuple[uuid.UUID, str], str] = {}
    for audit_id, clause, kind, question_id in db.session.execute(
        select(Finding.audit_id, Finding.clause, Finding.kind, Finding.question_id).where(Finding.audit_id.in_(audit_ids))
    ):
        question_clause = questions.get(question_id, ("",))[0] if question_id else ""
        for c in {clause, question_clause} - {None, ""}:
            key = (audit_id, c)
            if key not in findings or SEVERITY[kind] < SEVERITY[findings[key]]:
                findings[key] = kind
    covered: dict[tuple[uuid.UUID, str], str] = {}
    for audit_id, question_id, value in db.session.execute(
        select(Response.audit_id, Response.question_id, Response.value)
        .where(Response.audit_id.in_(audit_ids), Response.question_id.in_(select(Question.id).where(Question.clause != "")))
    ):
        if value in (None, "", "na", []) or question_id not in questions or question_id in hidden.get(audit_id, ()):
            continue
        clause, (finding_answers, kind, options), _ = questions[question_id]
        key = (audit_id, clause)
        calls = checklists.answer_calls_for(finding_answers, kind, options, value)
        result = findings.get(key) or ("issue" if calls else "conforming")
        if key not in covered or SEVERITY[result] < SEVERITY[covered[key]]:
            covered[key] = result
    cells: dict[tuple[uuid.UUID, str], Cell] = {}
    for (audit_id, clause), result in covered.items():
        area_id, day = batch[audit_id]
        key = (area_id, clause)
        if key not in cells or day > cells[key].last:
            cells[key] = Cell(day, result, audit_id)
    return cells


def to_csv(m: Matrix) -> str:
    """One row per area and clause: when it was last audited, the result, and whether it is a gap."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["standard", "site", "area", "clause", "last_audited", "result", "audit_id", "gap"])
    for area in m.areas:
        for clause in m.clauses:
            cell = m.cell(area, clause)
            writer.writerow([
                m.standard, _safe(area.site.name), _safe(area.name), _safe(clause),
                cell.last.isoformat() if cell else "", cell.result if cell else "",
                str(cell.audit_id) if cell else "", "yes" if m.is_gap(area, clause) else "no",
            ])
    return out.getvalue()


def _safe(text: str) -> str:
    # A cell starting with = + - @ runs as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

