"""Objectives and KPIs (clause 6.2): a target, an owner, measurements, and whether it is on track.

A measurement is entered by the objective's owner, or computed by Gemba from the register
(`METRICS`: audits done on time, open major NCs, ...). The status comes from the latest
measurement against the target and the step from the one before it:

- meets the target and did not get worse: on track;
- meets it but got worse, or misses it but got better: at risk;
- misses it and did not get better: off track;
- no measurement yet: unmeasured.

A measurement is due `every_months` after the last one; an objective whose last
measurement is older than that (plus a grace of a month's half) has no recent measurement.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..errors import Invalid, StateError
from ..extensions import db
from ..fieldrules import FieldErrors
from ..ids import uuid_or_none
from ..models import (
    OPEN_FINDING_STATUSES,
    ActionStatus,
    Area,
    Audit,
    AuditStatus,
    CorrectiveAction,
    Direction,
    Finding,
    FindingKind,
    Measurement,
    Objective,
    Site,
    Template,
    User,
    happened_at,
)
from ..permissions import require, scope_objectives
from . import coverage, trail
from .programme import add_months, standard_family
from .records import load_for

MANUAL = "manual"
STATUSES = ("on_track", "at_risk", "off_track", "unmeasured")
STATUS_LABELS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track", "unmeasured": "Unmeasured"}
WINDOW_MONTHS = 12  # the percentages look back over a year to the day measured


@dataclass(frozen=True)
class Scope:
    """Where a computed measure looks: a site, an area, a standard (each optional)."""

    site_id: uuid.UUID | None = None
    area_id: uuid.UUID | None = None
    standard: str = ""

    def areas(self, column):
        """A clause narrowing `column` (an area id) to this scope, or None for everywhere."""
        if self.area_id:
            return column == self.area_id
        if self.site_id:
            return column.in_(select(Area.id).where(Area.site_id == self.site_id))
        return None

    def templates(self, column):
        if not self.standard:
            return None
        family = standard_family(self.standard)
        ids = [t.id for t in db.session.scalars(select(Template)) if standard_family(t.standard) == family]
        return column.in_(ids)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _where(query, *clauses):
    return query.where(*[c for c in clauses if c is not None])


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def audits_on_time(scope: Scope, on: date, days: int | None) -> float | None:
    """Audits planned in the year to `on` that were submitted on or before their planned day, in %."""
    since = add_months(on, -WINDOW_MONTHS)
    rows = db.session.execute(_where(
        select(Audit.planned_date, Audit.submitted_at, Audit.status)
        .where(Audit.planned_date >= since, Audit.planned_date < on, Audit.status != AuditStatus.REJECTED),
        scope.areas(Audit.area_id), scope.templates(Audit.template_id),
    )).all()
    on_time = sum(1 for planned, submitted, _ in rows if submitted is not None and submitted.date() <= planned)
    return _pct(on_time, len(rows))


def open_major_ncs(scope: Scope, on: date, days: int | None) -> float:
    """Major nonconformities still open."""
    return float(db.session.scalar(_where(
        select(func.count()).select_from(Finding)
        .where(Finding.kind == FindingKind.MAJOR_NC, Finding.status.in_(OPEN_FINDING_STATUSES)),
        scope.areas(Finding.area_id),
    )))


def ncs_older_than(scope: Scope, on: date, days: int | None) -> float:
    """Nonconformities (major or minor) open for more than `days` days."""
    before = _midnight(on - timedelta(days=days or 30))
    return float(db.session.scalar(_where(
        select(func.count()).select_from(Finding)
        .where(Finding.kind.in_([FindingKind.MAJOR_NC, FindingKind.MINOR_NC]),
               Finding.status.in_(OPEN_FINDING_STATUSES), Finding.received_at < before),
        scope.areas(Finding.area_id),
    )))


def _action_rows(scope: Scope, *where):
    query = select(CorrectiveAction).join(Finding, Finding.id == CorrectiveAction.finding_id).where(*where)
    return db.session.scalars(_where(query, scope.areas(Finding.area_id))).all()


def actions_on_time(scope: Scope, on: date, days: int | None) -> float | None:
    """Actions due in the year to `on` that were done on or before their due date, in %."""
    since = add_months(on, -WINDOW_MONTHS)
    rows = _action_rows(scope, CorrectiveAction.due_date >= since, CorrectiveAction.due_date < on)
    on_time = sum(1 for a in rows if a.done_at is not None and a.done_at.date() <= a.due_date)
    return _pct(on_time, len(rows))


def effective_first_time(scope: Scope, on: date, days: int | None) -> float | None:
    """Findings whose first corrective action was checked in the year to `on` and found effective, in %."""
    since = _midnight(add_months(on, -WINDOW_MONTHS))
    until = _midnight(on + timedelta(days=1))
    first: dict[uuid.UUID, CorrectiveAction] = {}
    for action in sorted(_action_rows(scope), key=lambda a: a.created_at):
        first.setdefault(action.finding_id, action)
    checked = [a for a in first.values() if a.effectiveness_at is not None and since <= a.effectiveness_at < until]
    effective = sum(1 for a in checked if a.effectiveness_result == ActionStatus.EFFECTIVE)
    return _pct(effective, len(checked))


def repeat_findings(scope: Scope, on: date, days: int | None) -> float:
    """Findings received in the year to `on` that repeat an earlier one."""
    since = _midnight(add_months(on, -WINDOW_MONTHS))
    until = _midnight(on + timedelta(days=1))
    return float(db.session.scalar(_where(
        select(func.count()).select_from(Finding)
        .where(Finding.repeat_of_id.is_not(None), Finding.received_at >= since, Finding.received_at < until),
        scope.areas(Finding.area_id),
    )))


def programme_coverage(scope: Scope, on: date, days: int | None) -> float | None:
    """Area x clause pairs audited in the last 12 months, in % (one standard, or all)."""
    standards = [standard_family(scope.standard)] if scope.standard else coverage.standards()
    covered = total = 0
    for standard in standards:
        matrix = coverage.matrix(standard, today=on)
        for area in matrix.areas:
            if (scope.area_id and area.id != scope.area_id) or (scope.site_id and area.site_id != scope.site_id):
                continue
            for clause in matrix.clauses:
                total += 1
                covered += 0 if matrix.is_gap(area, clause) else 1
    return _pct(covered, total)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    direction: str
    compute: Callable[[Scope, date, int | None], float | None]
    takes_days: bool = False


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("audits_on_time", "Audits done on time", "%", Direction.AT_LEAST, audits_on_time),
    Metric("open_major_ncs", "Open major NCs", "NCs", Direction.AT_MOST, open_major_ncs),
    Metric("ncs_older_than", "NCs open longer than N days", "NCs", Direction.AT_MOST, ncs_older_than, takes_days=True),
    Metric("actions_on_time", "Corrective actions closed on time", "%", Direction.AT_LEAST, actions_on_time),
    Metric("effective_first_time", "Actions effective first time", "%", Direction.AT_LEAST, effective_first_time),
    Metric("repeat_findings", "Repeat findings (last 12 months)", "findings", Direction.AT_MOST, repeat_findings),
    Metric("programme_coverage", "Programme coverage", "%", Direction.AT_LEAST, programme_coverage),
)}


# ---- reading -----------------------------------------------------------------------------


def get_objective(user: User, objective_id, permission: str = "objective.view") -> Objective:
    """Load an objective for `user`. :raise 404: no such objective. :raise 403: not allowed."""
    return load_for(user, Objective, objective_id, permission, "There is no such objective.")


def objective_query(user: User, site_id=None, standard: str | None = None, owner_id=None):
    """Objectives `user` may see (not retired), with their measurements, by title."""
    require(user, "objective.list")
    query = (select(Objective).options(selectinload(Objective.measurements), selectinload(Objective.owner))
             .where(scope_objectives(user), Objective.retired_at.is_(None)))
    if site_id:
        query = query.where(Objective.site_id == site_id)
    if standard:
        query = query.where(Objective.standard.in_(_same_family(standard)))
    if owner_id:
        query = query.where(Objective.owner_id == owner_id)
    return query.order_by(Objective.title)


def _same_family(standard: str) -> list[str]:
    family = standard_family(standard)
    known = {s for s in db.session.scalars(select(Objective.standard).distinct())}
    return [s for s in known if standard_family(s) == family] or [standard]


def meets(objective: Objective, value: float) -> bool:
    if objective.direction == Direction.AT_MOST:
        return value <= objective.target_value
    return value >= objective.target_value


def _better(objective: Objective, new: float, old: float) -> int:
    """1 when `new` is better than `old` for this objective, -1 when worse, 0 when level."""
    step = new - old if objective.direction == Direction.AT_LEAST else old - new
    return (step > 0) - (step < 0)


def status(objective: Objective) -> str:
    """on_track, at_risk, off_track or unmeasured, from the latest two measurements."""
    values = [m.value for m in sorted(objective.measurements, key=lambda m: m.measured_on)]
    if not values:
        return "unmeasured"
    latest = values[-1]
    trend = _better(objective, latest, values[-2]) if len(values) > 1 else 0
    if meets(objective, latest):
        return "at_risk" if trend < 0 else "on_track"
    return "at_risk" if trend > 0 else "off_track"


def latest(objective: Objective) -> Measurement | None:
    return max(objective.measurements, key=lambda m: m.measured_on, default=None)


def next_due(objective: Objective) -> date:
    """When the next measurement is due: `every_months` after the last, or at once when none."""
    last = latest(objective)
    if last is None:
        return objective.created_at.date()
    return add_months(last.measured_on, objective.every_months)


def is_stale(objective: Objective, today: date | None = None) -> bool:
    """Whether the objective lacks a recent measurement: none, or the next one is over half a month late."""
    today = today or date.today()
    return latest(objective) is None or next_due(objective) + timedelta(days=15) < today


def summary(objective: Objective, today: date | None = None) -> dict:
    """What the API and the pack say about an objective besides its fields."""
    last = latest(objective)
    return {
        "status": status(objective),
        "latest": {"value": last.value, "measured_on": last.measured_on.isoformat()} if last else None,
        "next_due": next_due(objective).isoformat(),
        "stale": is_stale(objective, today),
    }


def due_for(user: User, today: date | None = None) -> list[Objective]:
    """The objectives `user` owns whose measurement is due: the owner's reminder on the dashboard."""
    today = today or date.today()
    owned = db.session.scalars(
        select(Objective).options(selectinload(Objective.measurements))
        .where(Objective.owner_id == user.id, Objective.retired_at.is_(None)).order_by(Objective.title)
    )
    return [o for o in owned if next_due(o) <= today]


# ---- changing ----------------------------------------------------------------------------


def _clean(data: dict, errors: FieldErrors) -> dict:
    cleaned = {
        "title": errors.text("title", data.get("title"), "title", required=True, label="A title"),
        "standard": errors.text("standard", data.get("standard"), "standard"),
        "clause": errors.text("clause", data.get("clause"), "clause"),
        "unit": errors.text("unit", data.get("unit"), "clause"),
    }
    owner_id = uuid_or_none(data.get("owner_id"))
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        errors.add("owner_id", "Choose an active person to own the objective.")
    cleaned["owner_id"] = owner.id if owner else None
    target = data.get("target_value")
    if isinstance(target, bool) or not isinstance(target, int | float):
        try:
            target = float(target) if isinstance(target, str) and target.strip() else None
        except ValueError:
            target = None
    if target is None:
        errors.add("target_value", "The target must be a number.")
    cleaned["target_value"] = float(target) if target is not None else None
    cleaned["direction"] = errors.one_of("direction", data.get("direction") or Direction.AT_LEAST, Direction)
    every = data.get("every_months", 1)
    if isinstance(every, str) and every.strip().isdigit():
        every = int(every)
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 12:
        errors.add("every_months", "Measure it every 1 to 12 months.")
        every = 1
    cleaned["every_months"] = every
    cleaned["due_date"] = errors.date("due_date", data.get("due_date"), label="A due date")
    source = data.get("source") or MANUAL
    if source != MANUAL and source not in METRICS:
        errors.add("source", f"Must be {MANUAL} or one of {', '.join(METRICS)}.")
    cleaned["source"] = source
    days = data.get("source_days")
    if isinstance(days, str):
        days = int(days) if days.strip().isdigit() else (None if not days.strip() else -1)
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650):
        errors.add("source_days", "A number of days from 1 to 3650.")
        days = None
    if source in METRICS and METRICS[source].takes_days and days is None and "source_days" not in errors:
        days = 30
    cleaned["source_days"] = days if source in METRICS and METRICS[source].takes_days else None
    area_id, site_id = uuid_or_none(data.get("area_id")), uuid_or_none(data.get("site_id"))
    area = db.session.get(Area, area_id) if area_id else None
    site = db.session.get(Site, site_id) if site_id else None
    if data.get("area_id") and area is None:
        errors.add("area_id", "There is no such area.")
    if data.get("site_id") and site is None:
        errors.add("site_id", "There is no such site.")
    if area and site and area.site_id != site.id:
        errors.add("area_id", "The area is not at that site.")
    cleaned["area_id"] = area.id if area else None
    cleaned["site_id"] = area.site_id if area else (site.id if site else None)
    return cleaned


def create_objective(user: User, data: dict, at: datetime | None = None) -> Objective:
    """Set an objective. :raise Invalid: with each field's problem. :raise NotAllowed: unless a reviewer of its site."""
    require(user, "objective.manage")
    errors = FieldErrors()
    cleaned = _clean(data, errors)
    errors.raise_if_any("The objective is not valid.")
    objective = Objective(created_by_id=user.id, created_at=happened_at(at), **cleaned)
    require(user, "objective.manage", objective)
    db.session.add(objective)
    db.session.flush()
    trail.record(user, "objective.set", "objective", objective.id, cleaned)
    return objective


FIELDS = ("title", "standard", "clause", "owner_id", "target_value", "unit", "direction", "every_months", "due_date",
          "source", "source_days", "site_id", "area_id")


def update_objective(user: User, objective: Objective, data: dict) -> Objective:
    """Change an objective's fields (those given); its measurements stay. :raise Invalid: with each field's problem."""
    require(user, "objective.manage", objective)
    if objective.retired_at is not None:
        raise StateError("A retired objective no longer changes.")
    current = {field: getattr(objective, field) for field in FIELDS}
    if "area_id" in data and "site_id" not in data:
        current["site_id"] = None  # a new area brings its own site
    errors = FieldErrors()
    cleaned = _clean(current | {k: v for k, v in data.items() if k in FIELDS}, errors)
    errors.raise_if_any("The objective is not valid.")
    changes = {}
    for field, value in cleaned.items():
        if getattr(objective, field) != value:
            changes[field] = [getattr(objective, field), value]
            setattr(objective, field, value)
    require(user, "objective.manage", objective)  # still one of the reviewer's sites
    db.session.flush()
    if changes:
        trail.record(user, "objective.updated", "objective", objective.id, changes)
    return objective


def retire_objective(user: User, objective: Objective, at: datetime | None = None) -> Objective:
    """Retire an objective: it leaves the lists and readiness, and keeps its history."""
    require(user, "objective.manage", objective)
    if objective.retired_at is None:
        objective.retired_at = happened_at(at)
        db.session.flush()
        trail.record(user, "objective.retired", "objective", objective.id, {})
    return objective


def record_measurement(user: User, objective: Objective, value, measured_on, note: str = "",
                       computed: bool = False) -> Measurement:
    """Record the objective's value on a day (replacing one already there for that day).

    :raise Invalid: a value that is not a number, or a day in the future or before the objective was set.
    """
    require(user, "objective.measure", objective)
    errors = FieldErrors()
    note = errors.text("note", note)
    day = errors.date("measured_on", measured_on, required=True, label="The day measured")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) > 1e12:
        errors.add("value", "The value must be a number.")
    if day and day > date.today():
        errors.add("measured_on", "A measurement cannot be in the future.")
    errors.raise_if_any("The measurement is not valid.")
    existing = db.session.scalar(
        select(Measurement).where(Measurement.objective_id == objective.id, Measurement.measured_on == day))
    if existing is not None:
        old = existing.value
        existing.value, existing.note, existing.computed, existing.entered_by_id = float(value), note, computed, user.id
        measurement = existing
    else:
        old = None
        measurement = Measurement(objective_id=objective.id, value=float(value), measured_on=day, note=note,
                                  computed=computed, entered_by_id=user.id)
        objective.measurements.append(measurement)
    db.session.flush()
    trail.record(user, "objective.measured", "objective", objective.id,
                 {"measured_on": day, "value": [old, float(value)], "computed": computed})
    return measurement


def compute(objective: Objective, on: date | None = None) -> float | None:
    """The value Gemba computes for a computed objective on `on`, or None when there is nothing to count."""
    metric = METRICS.get(objective.source)
    if metric is None:
        raise Invalid("This objective is measured by its owner.", {"source": ["Enter the value instead."]})
    scope = Scope(objective.site_id, objective.area_id, objective.standard)
    return metric.compute(scope, on or date.today(), objective.source_days)


def measure_now(user: User, objective: Objective, today: date | None = None) -> Measurement | None:
    """Compute a computed objective's value for today and record it (nothing when there is nothing to count)."""
    require(user, "objective.measure", objective)
    today = today or date.today()
    value = compute(objective, today)
    if value is None:
        return None
    return record_measurement(user, objective, value, today, computed=True)


# ---- the trend chart ---------------------------------------------------------------------

CHART_W, CHART_H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 220, 48, 16, 16, 36


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def trend_chart(objective: Objective) -> Markup:
    """An SVG line of the measurements against a dashed target line."""
    points = sorted(objective.measurements, key=lambda m: m.measured_on)
    title = f"{objective.title}: measurements against the target of {_fmt(objective.target_value)} {objective.unit}"
    values = [m.value for m in points] + [objective.target_value]
    low, high = min(0.0, *values), max(values) or 1.0
    span = (high - low) or 1.0
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def y(v: float) -> float:
        return PAD_T + plot_h - (v - low) / span * plot_h

    parts = [f'<line x1="{PAD_L}" y1="{PAD_T + plot_h}" x2="{CHART_W - PAD_R}" y2="{PAD_T + plot_h}" stroke="#767676"/>']
    for v in (low, (low + high) / 2, high):
        parts.append(f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end" fill="#4a4a4a">{_fmt(v)}</text>')
    ty = y(objective.target_value)
    parts.append(f'<line class="target" x1="{PAD_L}" y1="{ty:.1f}" x2="{CHART_W - PAD_R}" y2="{ty:.1f}" '
                 f'stroke="#b35900" stroke-width="2" stroke-dasharray="6 4"><title>Target {_fmt(objective.target_value)}</title></line>')
    if points:
        first, last = points[0].measured_on, points[-1].measured_on
        days = max(1, (last - first).days)

        def x(d: date) -> float:
            return PAD_L + plot_w / 2 if len(points) == 1 else PAD_L + (d - first).days / days * plot_w

        path = " ".join(f"{x(m.measured_on):.1f},{y(m.value):.1f}" for m in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f5fa8" stroke-width="2.5"/>')
        for m in points:
            colour = "#1f7a3a" if meets(objective, m.value) else "#b00020"
            parts.append(f'<circle class="measurement" cx="{x(m.measured_on):.1f}" cy="{y(m.value):.1f}" r="4" fill="{colour}">'
                         f'<title>{m.measured_on.isoformat()}: {_fmt(m.value)} {escape(objective.unit)}</title></circle>')
        for d, anchor in ((first, "start"), (last, "end")) if first != last else ((first, "middle"),):
            parts.append(f'<text x="{x(d):.1f}" y="{CHART_H - 12}" font-size="11" text-anchor="{anchor}" fill="#4a4a4a">{d:%b %Y}</text>')
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" class="chart" role="img" '
        f'aria-labelledby="objective-{objective.id}-title"><title id="objective-{objective.id}-title">{escape(title)}</title>'
        + "".join(parts) + "</svg>"
    )
