"""The register's dashboard: this month's work, what is overdue, what waits for review."""

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    OPEN_FINDING_STATUSES,
    Area,
    Audit,
    AuditStatus,
    CorrectiveAction,
    Finding,
    FindingKind,
    User,
)
from ..permissions import can, require, scope_actions, scope_audits, scope_findings
from . import actions, checklists, objectives, programme


@dataclass
class Dashboard:
    open_by_kind: dict[str, int]
    open_by_area: list[tuple[str, int]]
    overdue_actions: list[CorrectiveAction]
    overdue_count: int
    audits_due: list[Audit]
    awaiting_review: int
    repeat_count: int
    # The programme: planned audits past their date, checklists past their review date.
    overdue_audits: list[Audit] = field(default_factory=list)
    overdue_audit_count: int = 0
    reviews_due: list = field(default_factory=list)
    # The person's own objectives whose measurement is due (their reminder).
    measurements_due: list = field(default_factory=list)


def month_bounds(today: date) -> tuple[date, date]:
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def dashboard(user: User, today: date | None = None) -> Dashboard:
    require(user, "register.dashboard")
    given, today = today, today or date.today()
    open_findings = select(Finding).where(Finding.status.in_(OPEN_FINDING_STATUSES), scope_findings(user)).subquery()
    # One grouped pass over the open findings (an index-only scan of ix_finding_status_kind_area)
    # serves both tables; the area names are looked up for the few areas that have any.
    open_counts = db.session.execute(
        select(Finding.kind, Finding.area_id, func.count())
        .where(Finding.status.in_(OPEN_FINDING_STATUSES), scope_findings(user))
        .group_by(Finding.kind, Finding.area_id)
    ).all()
    by_kind: dict[str, int] = {}
    per_area: dict[uuid.UUID, int] = {}
    for kind, area_id, count in open_counts:
        by_kind[kind] = by_kind.get(kind, 0) + count
        per_area[area_id] = per_area.get(area_id, 0) + count
    areas = {a.id: a for a in db.session.scalars(select(Area).where(Area.id.in_(per_area)))} if per_area else {}
    by_area = sorted(((areas[i].site.name, areas[i].name, n) for i, n in per_area.items() if i in areas),
                     key=lambda row: (-row[2], row[0], row[1]))
    overdue = (
        select(CorrectiveAction)
        .where(actions.overdue_clause(given), scope_actions(user))
    )
    overdue_count = db.session.scalar(select(func.count()).select_from(overdue.subquery()))
    overdue_rows = db.session.scalars(
        overdue.options(joinedload(CorrectiveAction.owner), joinedload(CorrectiveAction.finding))
        .order_by(CorrectiveAction.due_date).limit(10)
    ).all()
    start, end = month_bounds(today)
    audits_due = db.session.scalars(
        select(Audit)
        .options(joinedload(Audit.area), joinedload(Audit.auditor), joinedload(Audit.template))
        .where(
            scope_audits(user),
            Audit.planned_date < end,
            Audit.planned_date >= start,
            Audit.status.in_([AuditStatus.PLANNED, AuditStatus.IN_PROGRESS, AuditStatus.RETURNED]),
        )
        .order_by(Audit.planned_date)
    ).all()
    awaiting = db.session.scalar(
        select(func.count()).select_from(Audit).where(Audit.status == AuditStatus.SUBMITTED, scope_audits(user))
    )
    repeats = db.session.scalar(
        select(func.count()).select_from(open_findings).where(open_findings.c.repeat_of_id.is_not(None))
    )
    late_audits = programme.overdue_query(given).where(scope_audits(user))
    return Dashboard(
        open_by_kind={kind.value: by_kind.get(kind.value, 0) for kind in FindingKind},
        open_by_area=[(f"{site} / {name}", count) for site, name, count in by_area],
        overdue_actions=list(overdue_rows),
        overdue_count=overdue_count,
        audits_due=list(audits_due),
        awaiting_review=awaiting,
        repeat_count=repeats,
        overdue_audits=db.session.scalars(late_audits.limit(10)).all(),
        overdue_audit_count=db.session.scalar(select(func.count()).select_from(late_audits.order_by(None).subquery())),
        reviews_due=checklists.overdue_for_review(today) if can(user, "template.edit") else [],
        measurements_due=objectives.due_for(user, today),
    )
