"""The audit programme: a year's plan from risk and frequency, impartial rotating auditors.

Every path that puts an auditor on an audit here (planning one audit, generating the
plan with assignments, reassigning) asks `impartiality.check_impartial` first and
refuses an auditor who is not qualified for the checklist's standard on the day.
"""

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..errors import Invalid, NotFound, StateError
from ..extensions import db
from ..models import (
    OPEN_AUDIT_STATUSES,
    Area,
    Audit,
    AuditStatus,
    Competence,
    CompetenceRecord,
    RiskLevel,
    Role,
    Template,
    TemplateStatus,
    User,
    happened_at,
    utcnow,
)
from ..permissions import require
from . import feed, notify, organisation, trail
from .impartiality import check_impartial, conflict_of_interest

OPEN_WORK = OPEN_AUDIT_STATUSES
DONE = (AuditStatus.SUBMITTED, AuditStatus.APPROVED)
PLAN_DAYS = (5, 12, 19, 26)  # spread the audits due in one month over its weeks
EXPIRY_WARNING_DAYS = 60
MAX_PLAN_MONTHS = 24


def standard_family(standard: str) -> str:
    """"ISO 9001:2015" -> "ISO 9001": a qualification covers every edition of a standard."""
    return (standard or "").split(":", 1)[0].strip().upper().replace("  ", " ")


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _weekday(day: date) -> date:
    """Move a Saturday or Sunday to the Monday after."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


# --- qualifications: auditor competences ----------------------------------------------
#
# A qualification to audit against a standard is a competence record of the standard's
# auditor competence (`Competence.audits_standard`, "ISO 9001 internal auditor"). The
# auditor is qualified on a day from the day it was gained (always, when that is not
# known) until it expires.

def auditor_competence(standard: str, create: bool = False) -> Competence | None:
    """The competence that qualifies its holders to audit against `standard`'s family.

    With `create`, one is made when there is none: "<family> internal auditor", or a
    catalogue entry of that name adopted as the family's.
    """
    family = standard_family(standard)
    competence = db.session.scalar(select(Competence).where(Competence.audits_standard == family))
    if competence is None and create:
        name = f"{family} internal auditor"
        competence = db.session.scalar(select(Competence).where(Competence.name == name))
        if competence is None:
            competence = Competence(name=name, description=f"Qualified to audit against {family}.")
            db.session.add(competence)
        competence.audits_standard = family
        db.session.flush()
    return competence


def _qualifications_query(family: str):
    return (select(CompetenceRecord).join(Competence, Competence.id == CompetenceRecord.competence_id)
            .where(Competence.audits_standard == family))


def qualification_for(user: User, standard: str) -> CompetenceRecord | None:
    """`user`'s record of the auditor competence for `standard`'s family, if any."""
    return db.session.scalar(_qualifications_query(standard_family(standard))
                             .where(CompetenceRecord.user_id == user.id))


def qualifications_for(standard: str) -> dict[uuid.UUID, CompetenceRecord]:
    """Everyone's records of the auditor competence for `standard`'s family, by person: one query."""
    return {r.user_id: r for r in db.session.scalars(_qualifications_query(standard_family(standard)))}


def holds_on(record: CompetenceRecord | None, on: date) -> bool:
    return (record is not None and (record.gained_on is None or record.gained_on <= on)
            and (record.expires_on is None or record.expires_on >= on))


def is_qualified(user: User, standard: str, on: date) -> bool:
    return holds_on(qualification_for(user, standard), on)


def _not_qualified_why(record: CompetenceRecord | None, family: str, on: date) -> str:
    if record is None:
        return f"not qualified for {family}"
    if record.gained_on is not None and record.gained_on > on:
        return f"qualified for {family} only from {record.gained_on}"
    return f"qualification for {family} expired on {record.expires_on}"


def set_qualification(actor: User, user: User, standard: str, expires_on: date | None,
                      gained_on: date | None = None) -> CompetenceRecord:
    """Record (or renew) `user`'s qualification to audit against `standard`: their record of
    the standard's auditor competence. A renewal keeps the day it was first gained unless given."""
    require(actor, "programme.plan")
    family = standard_family(standard)
    if not family or len(family) > 40:
        raise Invalid("The qualification is not valid.", {"standard": ["Name the standard, e.g. ISO 9001."]})
    if user.role != Role.AUDITOR:
        raise Invalid(f"{user.name} is not an auditor; only auditors are put on audits.", {"user": ["Not an auditor."]})
    if gained_on is not None and expires_on is not None and expires_on < gained_on:
        raise Invalid("The qualification is not valid.", {"expires_on": ["Must be on or after the day it was gained."]})
    competence = auditor_competence(family, create=True)
    record = qualification_for(user, family)
    if record is None:
        record = CompetenceRecord(user_id=user.id, competence_id=competence.id, gained_on=gained_on)
        db.session.add(record)
    elif gained_on is not None:
        record.gained_on = gained_on
    record.expires_on = expires_on
    record.assessed_by_id = actor.id
    record.recorded_at = utcnow()
    db.session.flush()
    trail.record(actor, "qualification.set", "user", user.id, {
        "standard": family, "expires_on": expires_on, "gained_on": record.gained_on,
        "competence_record_id": str(record.id)})
    return record


def remove_qualification(actor: User, record: CompetenceRecord) -> None:
    require(actor, "programme.plan")
    competence = db.session.get(Competence, record.competence_id)
    trail.record(actor, "qualification.removed", "user", record.user_id,
                 {"standard": competence.audits_standard, "competence_record_id": str(record.id)})
    db.session.delete(record)
    db.session.flush()


def expiring_qualifications(today: date | None = None, within_days: int = EXPIRY_WARNING_DAYS
                            ) -> list[CompetenceRecord]:
    """Auditor competences that have expired or expire within `within_days`, soonest first."""
    today = today or date.today()
    return list(db.session.scalars(
        select(CompetenceRecord).join(Competence, Competence.id == CompetenceRecord.competence_id)
        .options(joinedload(CompetenceRecord.user), joinedload(CompetenceRecord.competence))
        .where(Competence.audits_standard.is_not(None), CompetenceRecord.expires_on.is_not(None),
               CompetenceRecord.expires_on <= today + timedelta(days=within_days))
        .order_by(CompetenceRecord.expires_on)
    ))


def auditors() -> list[User]:
    """Everyone who may be put on an audit: active auditors."""
    return list(db.session.scalars(
        select(User).where(User.role == Role.AUDITOR, User.active.is_(True)).order_by(User.name)
    ))


@dataclass
class TrainingRow:
    user: User
    by_standard: dict[str, CompetenceRecord | None]


def training_matrix() -> tuple[list[str], list[TrainingRow]]:
    """Auditors x standards: who is qualified for what, until when."""
    people = auditors()
    held = set(db.session.scalars(select(Competence.audits_standard).where(Competence.audits_standard.is_not(None))))
    standards = sorted(held | {standard_family(t.standard) for t in db.session.scalars(
        select(Template).where(Template.status == TemplateStatus.PUBLISHED))})
    records = {standard: qualifications_for(standard) for standard in standards}
    return standards, [TrainingRow(u, {s: records[s].get(u.id) for s in standards}) for u in people]


# --- rotation and suggestions ----------------------------------------------------------

def _last_visits(area_id) -> dict[uuid.UUID, date]:
    """When each auditor last audited (or is next planned to audit) `area_id`."""
    rows = db.session.execute(
        select(Audit.auditor_id, func.max(Audit.planned_date), func.max(Audit.started_at))
        .where(Audit.area_id == area_id, Audit.auditor_id.is_not(None), Audit.status != AuditStatus.REJECTED)
        .group_by(Audit.auditor_id)
    ).all()
    visits = {}
    for auditor_id, planned, started in rows:
        days = [d for d in (planned, started.date() if started else None) if d is not None]
        if days:
            visits[auditor_id] = max(days)
    return visits


def workload() -> dict[uuid.UUID, int]:
    """Open audits (planned, in progress, returned) per auditor."""
    query = select(Audit.auditor_id, func.count()).where(Audit.auditor_id.is_not(None), Audit.status.in_(OPEN_WORK))
    return dict(db.session.execute(query.group_by(Audit.auditor_id)).all())


@dataclass
class Suggestion:
    user: User
    last_here: date | None
    open_audits: int
    qualified_until: date | None
    rank: int = 0


@dataclass
class Ineligible:
    user: User
    reason: str


@dataclass
class Suggestions:
    ranked: list[Suggestion] = field(default_factory=list)
    ineligible: list[Ineligible] = field(default_factory=list)


def suggest_auditors(area: Area, template: Template, on: date, extra_load: dict | None = None) -> Suggestions:
    """Eligible auditors for `area` on `on`, the one who audited it least recently first.

    Impartial (not their home area, not one they answer for) and qualified for the
    checklist's standard on the day; ties go to the one with fewer open audits.
    `extra_load` counts audits assigned in the same run that are not flushed yet.
    """
    visits = _last_visits(area.id)
    load = workload()
    for user_id, count in (extra_load or {}).items():
        load[user_id] = load.get(user_id, 0) + count
    result = Suggestions()
    family = standard_family(template.standard)
    records = qualifications_for(family)
    for user in auditors():
        if reason := conflict_of_interest(user, area):
            result.ineligible.append(Ineligible(user, reason))
            continue
        record = records.get(user.id)
        if not holds_on(record, on):
            result.ineligible.append(Ineligible(user, f"{user.name}: {_not_qualified_why(record, family, on)}."))
            continue
        result.ranked.append(Suggestion(user, visits.get(user.id), load.get(user.id, 0), record.expires_on))
    result.ranked.sort(key=lambda s: (s.last_here or date.min, s.open_audits, s.user.name))
    for rank, suggestion in enumerate(result.ranked, start=1):
        suggestion.rank = rank
    return result


def check_assignable(auditor: User, area: Area, template: Template, on: date | None) -> None:
    """:raise NotAllowed: on a conflict of interest. :raise Invalid: when not qualified or not an auditor."""
    if auditor.role != Role.AUDITOR or not auditor.active:
        raise Invalid(f"{auditor.name} is not an active auditor.", {"auditor_id": ["Choose an active auditor."]})
    check_impartial(auditor, area)
    on = on or date.today()
    record = qualification_for(auditor, template.standard)
    if not holds_on(record, on):
        raise Invalid(f"{auditor.name} is not qualified for {standard_family(template.standard)} on {on}: "
                      f"{_not_qualified_why(record, standard_family(template.standard), on)}.",
                      {"auditor_id": ["Not qualified for this checklist's standard on that date."]})


@dataclass
class HistoryRow:
    user: User
    by_area: dict[uuid.UUID, tuple[int, date | None]]


def auditor_history() -> tuple[list[Area], list[HistoryRow]]:
    """Auditors x areas: how many audits each has done there and when last."""
    areas = list(db.session.scalars(organisation.areas_in_order()))
    rows = db.session.execute(
        select(Audit.auditor_id, Audit.area_id, func.count(), func.max(Audit.planned_date))
        .where(Audit.auditor_id.is_not(None), Audit.status.in_(DONE + (AuditStatus.RETURNED, AuditStatus.IN_PROGRESS)))
        .group_by(Audit.auditor_id, Audit.area_id)
    ).all()
    counts: dict = {}
    for auditor_id, area_id, count, last in rows:
        counts.setdefault(auditor_id, {})[area_id] = (count, last)
    return areas, [HistoryRow(u, counts.get(u.id, {})) for u in auditors()]


# --- areas: risk and frequency ---------------------------------------------------------

def set_area_plan(actor: User, area: Area, risk_level: str, audit_every_months: int) -> Area:
    """Set how risky an area is and how often the programme audits it.

    :raise Invalid: on an unknown risk level or a frequency outside 1..36 months.
    """
    require(actor, "programme.plan")
    errors = {}
    if risk_level not in {r.value for r in RiskLevel}:
        errors["risk_level"] = [f"Choose one of {', '.join(r.value for r in RiskLevel)}."]
    if not isinstance(audit_every_months, int) or isinstance(audit_every_months, bool) or not 1 <= audit_every_months <= 36:
        errors["audit_every_months"] = ["Audit at least every 36 months and at most monthly."]
    if errors:
        raise Invalid(f"The plan for {area.label} is not valid.", errors)
    old = (area.risk_level, area.audit_every_months)
    area.risk_level, area.audit_every_months = risk_level, audit_every_months
    db.session.flush()
    if old != (risk_level, audit_every_months):
        trail.record(actor, "area.plan_changed", "area", area.id,
                     {"risk_level": [old[0], risk_level], "audit_every_months": [old[1], audit_every_months]})
    return area


@dataclass
class AreaPlan:
    area: Area
    last_audited: date | None
    next_planned: date | None
    due: date | None  # when the next audit is due by the frequency

    def overdue(self, today: date) -> bool:
        return self.next_planned is None and (self.due is None or self.due < today)


def area_plans(today: date | None = None) -> list[AreaPlan]:
    """Every area with its last audit, its next planned one, and when one is due."""
    today = today or date.today()
    last = dict(db.session.execute(
        select(Audit.area_id, func.max(Audit.planned_date)).where(Audit.status.in_(DONE)).group_by(Audit.area_id)).all())
    upcoming = dict(db.session.execute(
        select(Audit.area_id, func.min(Audit.planned_date))
        .where(Audit.status.in_(OPEN_WORK), Audit.planned_date >= today).group_by(Audit.area_id)).all())
    plans = []
    for area in db.session.scalars(organisation.areas_in_order()):
        done = last.get(area.id)
        plans.append(AreaPlan(area, done, upcoming.get(area.id),
                              add_months(done, area.audit_every_months or 12) if done else None))
    return plans


# --- planning --------------------------------------------------------------------------

def _published(template: Template) -> None:
    if template.status != TemplateStatus.PUBLISHED:
        raise Invalid("Plan audits with a published checklist.", {"template_id": ["Choose a published checklist."]})


def _announce(audit: Audit) -> None:
    feed.publish("audit", audit.id, audit.version, area_id=audit.area_id, user_id=audit.auditor_id)


def plan_audit(actor: User, template: Template, area: Area, planned_date: date, auditor: User | None = None,
               audit_id: uuid.UUID | None = None, at: datetime | None = None) -> Audit:
    """Put one audit on the programme (`at`, or now).

    :raise NotAllowed: when the auditor would audit their own work, or the actor does not
        plan for the area's site.
    :raise Invalid: on an unpublished checklist, a missing date, an unqualified auditor, a
        retired area.
    """
    require(actor, "programme.plan", area)
    if area.retired_at is not None:
        raise Invalid(f"{area.label} is retired; it takes no new audits.", {"area_id": ["Retired."]})
    _published(template)
    if planned_date is None:
        raise Invalid("The audit needs a planned date.", {"planned_date": ["Pick a date."]})
    if auditor is not None:
        check_assignable(auditor, area, template, planned_date)
    audit = Audit(id=audit_id or uuid.uuid4(), template_id=template.id, area_id=area.id,
                  auditor_id=auditor.id if auditor else None, planned_date=planned_date,
                  status=AuditStatus.PLANNED, created_by_id=actor.id, created_at=happened_at(at))
    db.session.add(audit)
    db.session.flush()
    _announce(audit)
    trail.record(actor, "audit.planned", "audit", audit.id, {
        "area": area.label, "template": f"{template.name} v{template.version}",
        "planned_date": planned_date, "auditor": auditor.email if auditor else None,
    })
    notify.audit_planned(actor, audit)
    return audit


def _movable(audit: Audit) -> None:
    if audit.status != AuditStatus.PLANNED:
        raise StateError(f"This audit is {audit.status.replace('_', ' ')}; only a planned audit can be "
                         "rescheduled, reassigned or removed.")


def assign(actor: User, audit: Audit, auditor: User | None) -> Audit:
    """Put `auditor` (or nobody) on a planned audit.

    :raise NotAllowed: on a conflict of interest. :raise StateError: once the audit has started.
    """
    require(actor, "programme.plan")
    _movable(audit)
    if auditor is not None:
        check_assignable(auditor, audit.area, audit.template, audit.planned_date)
    new_id = auditor.id if auditor else None
    if new_id == audit.auditor_id:
        return audit
    old = audit.auditor
    audit.auditor_id = new_id
    audit.bump(["auditor_id"])
    db.session.flush()
    _announce(audit)
    if old is not None:  # the former auditor's device learns it is no longer theirs
        feed.publish("audit", audit.id, audit.version, area_id=audit.area_id, user_id=old.id)
    trail.record(actor, "audit.assigned", "audit", audit.id,
                 {"auditor": [old.email if old else None, auditor.email if auditor else None]})
    notify.audit_planned(actor, audit, "audit.assigned")
    return audit


def reschedule(actor: User, audit: Audit, planned_date: date) -> Audit:
    """Move a planned audit to another day; its auditor must still be qualified then."""
    require(actor, "programme.plan")
    _movable(audit)
    if planned_date is None:
        raise Invalid("The audit needs a planned date.", {"planned_date": ["Pick a date."]})
    if audit.auditor is not None:
        check_assignable(audit.auditor, audit.area, audit.template, planned_date)
    old = audit.planned_date
    audit.planned_date = planned_date
    audit.bump(["planned_date"])
    db.session.flush()
    _announce(audit)
    trail.record(actor, "audit.rescheduled", "audit", audit.id, {"planned_date": [old, planned_date]})
    return audit


def remove_planned(actor: User, audit: Audit) -> None:
    """Take a planned audit that has not started off the programme."""
    require(actor, "programme.plan")
    _movable(audit)
    feed.publish("audit", audit.id, audit.version + 1, area_id=audit.area_id, user_id=audit.auditor_id, deleted=True)
    trail.record(actor, "audit.removed", "audit", audit.id,
                 {"area": audit.area.label, "planned_date": audit.planned_date})
    db.session.delete(audit)
    db.session.flush()


@dataclass
class PlannedSlot:
    area: Area
    planned_date: date
    audit: Audit | None = None  # set once created
    skipped: str = ""


def _family_audits(template: Template, area: Area) -> list[Audit]:
    family = select(Template.id).where(Template.family_id == template.family_id)
    return list(db.session.scalars(
        select(Audit).where(Audit.area_id == area.id, Audit.template_id.in_(family),
                            Audit.status != AuditStatus.REJECTED, Audit.planned_date.is_not(None))
        .order_by(Audit.planned_date)
    ))


def plan_slots(template: Template, start: date, months: int = 12, areas: list[Area] | None = None) -> list[PlannedSlot]:
    """Where the programme needs an audit with `template` between `start` and `start + months`.

    Each area is due `audit_every_months` after its last audit with this checklist (or at
    `start` when it never had one or is overdue). An audit already on the programme near a
    due date counts for it, so generating twice plans nothing new.
    """
    end = add_months(start, months)
    areas = areas if areas is not None else list(db.session.scalars(organisation.areas_in_order()))
    slots: list[PlannedSlot] = []
    per_month: dict[tuple[int, int], int] = {}
    for area in areas:
        every = max(1, min(area.audit_every_months or 12, 36))
        existing = _family_audits(template, area)
        before = [a.planned_date for a in existing if a.planned_date < start]
        due = add_months(before[-1], every) if before else start
        due = max(due, start)
        window = timedelta(days=every * 30 // 2)
        while due < end:
            near = [a for a in existing if abs(a.planned_date - due) < window and a.planned_date >= start]
            if near:
                due = add_months(max(near[-1].planned_date, due), every)
                continue
            key = (due.year, due.month)
            day = PLAN_DAYS[per_month.get(key, 0) % len(PLAN_DAYS)]
            per_month[key] = per_month.get(key, 0) + 1
            planned = _weekday(date(due.year, due.month, day))
            if planned < start:
                planned = _weekday(start)
            if planned >= end:
                break
            slots.append(PlannedSlot(area, planned))
            due = add_months(due, every)
    return sorted(slots, key=lambda s: (s.planned_date, s.area.site.name, s.area.name))


def generate_plan(actor: User, template: Template, start: date, months: int = 12,
                  assign_auditors: bool = True) -> list[PlannedSlot]:
    """Plan a year (or `months`) of audits with `template` from each area's frequency.

    With `assign_auditors`, each new audit gets the top-ranked eligible auditor, counting
    the audits handed out earlier in the same run as workload. An audit no one may take
    stays unassigned, with the reason in `skipped`.
    """
    require(actor, "programme.plan")
    _published(template)
    if not 1 <= months <= MAX_PLAN_MONTHS:
        raise Invalid("Plan between 1 and 24 months.", {"months": ["Between 1 and 24."]})
    slots = plan_slots(template, start, months)
    for slot in slots:
        auditor = None
        if assign_auditors:
            ranked = suggest_auditors(slot.area, template, slot.planned_date).ranked
            if ranked:
                auditor = ranked[0].user
            else:
                slot.skipped = "No impartial, qualified auditor is available."
        slot.audit = plan_audit(actor, template, slot.area, slot.planned_date, auditor)
    trail.record(actor, "programme.generated", "template", template.id,
                 {"start": start, "months": months, "planned": len(slots)})
    return slots


# --- reading the programme -------------------------------------------------------------

def select_audits(status: str | None = None, area_id=None, auditor_id=None):
    """Select audits with area, auditor and checklist loaded: of this status, area and auditor, each when given."""
    query = select(Audit).options(joinedload(Audit.area), joinedload(Audit.auditor), joinedload(Audit.template))
    if status:
        query = query.where(Audit.status == status)
    if area_id:
        query = query.where(Audit.area_id == area_id)
    if auditor_id:
        query = query.where(Audit.auditor_id == auditor_id)
    return query


def programme_query(status: str | None = None, area_id=None, auditor_id=None, start: date | None = None,
                    end: date | None = None, unassigned: bool = False):
    query = select_audits(status, area_id, auditor_id).where(Audit.planned_date.is_not(None))
    if unassigned:
        query = query.where(Audit.auditor_id.is_(None))
    if start:
        query = query.where(Audit.planned_date >= start)
    if end:
        query = query.where(Audit.planned_date < end)
    return query.order_by(Audit.planned_date, Audit.created_at)


def overdue_query(today: date | None = None):
    """Audits whose planned date (the site's local day) has passed and that are not submitted yet."""
    late = organisation.before_local_today(Audit.planned_date, organisation.in_sites_by_area(Audit.area_id), today=today)
    return programme_query().where(late, Audit.status.in_(OPEN_WORK))


def overdue_audits(today: date | None = None, limit: int | None = None) -> list[Audit]:
    query = overdue_query(today)
    return list(db.session.scalars(query.limit(limit) if limit else query))


@dataclass
class Month:
    year: int
    month: int
    weeks: list[list[tuple[date, list[Audit]]]]

    @property
    def title(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    @property
    def previous(self) -> date:
        return add_months(date(self.year, self.month, 1), -1)

    @property
    def next(self) -> date:
        return add_months(date(self.year, self.month, 1), 1)


def month_calendar(year: int, month: int) -> Month:
    """The weeks of one month (Monday first), each day with the audits planned on it."""
    if not (1 <= month <= 12 and 1900 <= year <= 9999):
        raise NotFound("There is no such month.")
    first = date(year, month, 1)
    days = list(calendar.Calendar(firstweekday=0).itermonthdates(year, month))
    audits = db.session.scalars(programme_query(start=days[0], end=days[-1] + timedelta(days=1))).all()
    by_day: dict[date, list[Audit]] = {}
    for audit in audits:
        by_day.setdefault(audit.planned_date, []).append(audit)
    weeks = [[(d, by_day.get(d, [])) for d in days[i:i + 7]] for i in range(0, len(days), 7)]
    return Month(first.year, first.month, weeks)
