"""Management review (ISO 9001/14001/45001 clause 9.3), built from the register's own evidence.

Opening a review for a period assembles the inputs the standard lists from Gemba's data
(actions from previous reviews first, then audit results, nonconformities and corrective
actions, objectives, repeat findings, coverage gaps) and stores them as JSON: they are
frozen as they were on that day, so a later change to a finding never rewrites a past
review. The chair writes what Gemba cannot know (context changes, customer feedback,
supplier performance, resources, risks and opportunities), records the decisions and the
output actions (owners and due dates, tracked like corrective actions), and signs off,
which locks the record.

Not to be confused with `audit_review`, the supervisor's review of a submitted audit.
"""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

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
    Finding,
    FindingKind,
    ManagementReview,
    ManagementReviewStatus,
    Objective,
    ReviewAction,
    Site,
    Template,
    User,
    happened_at,
    utcnow,
)
from ..permissions import require, reviews, scope_areas, sites_in_scope
from . import coverage, objectives, trail
from .reports.review_pdf import review_pdf
from .programme import standard_family
from .records import load_for

# What the chair writes: the inputs of clause 9.2 Gemba cannot know.
NOTE_FIELDS = {
    "context_changes": "Changes in external and internal issues",
    "customer_feedback": "Customer satisfaction and feedback from interested parties",
    "supplier_performance": "Performance of external providers",
    "resources": "Adequacy of resources",
    "risks_opportunities": "Effectiveness of actions taken to address risks and opportunities",
}
DONE_AUDITS = (AuditStatus.SUBMITTED, AuditStatus.APPROVED)
NC_KINDS = (FindingKind.MAJOR_NC, FindingKind.MINOR_NC)
TOP_CLAUSES = 10


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _areas(column, user: User, site_id):
    """A clause narrowing `column` (an area id) to the site and the user's sites; None when nothing is narrowed."""
    if site_id is None and sites_in_scope(user) is None:
        return None  # a whole-organisation reviewer: no join to findings needed for actions
    clause = scope_areas(user, column)
    if site_id:
        clause = clause & column.in_(select(Area.id).where(Area.site_id == site_id))
    return clause


def _where(query, *clauses):
    return query.where(*[c for c in clauses if c is not None])


def _person(user_id, names: dict) -> str:
    if user_id is None:
        return ""
    if user_id not in names:
        user = db.session.get(User, user_id)
        names[user_id] = user.name if user else ""
    return names[user_id]


def assemble(user: User, period_start: date, period_end: date, standard: str = "", site_id=None,
             today: date | None = None, before: datetime | None = None) -> dict:
    """The inputs of a review of `period_start`..`period_end` (both days included), as plain JSON data.

    `before`: the review being opened; actions from reviews opened earlier come first.
    """
    today = today or date.today()
    since, until = _start(period_start), _start(period_end + timedelta(days=1))
    family = standard_family(standard) if standard else ""
    names: dict = {}

    # 1. Actions from previous reviews: what became of them.
    earlier = select(ReviewAction).join(ManagementReview).options(selectinload(ReviewAction.review)).order_by(
        ManagementReview.period_end, ReviewAction.created_at)
    if before is not None:
        earlier = earlier.where(ManagementReview.created_at < before)
    if site_id:
        earlier = earlier.where((ManagementReview.site_id == site_id) | ManagementReview.site_id.is_(None))
    previous = []
    for action in db.session.scalars(earlier):
        previous.append({
            "id": str(action.id), "title": action.title, "owner": _person(action.owner_id, names),
            "due_date": action.due_date.isoformat(), "status": action.status,
            "done_at": action.done_at.date().isoformat() if action.done_at else None,
            "overdue": action.status == "open" and action.due_date < today,
            "review_period": f"{action.review.period_start.isoformat()} to {action.review.period_end.isoformat()}",
        })
    previous_counts = {"total": len(previous), "done": sum(1 for a in previous if a["status"] == "done"),
                       "open": sum(1 for a in previous if a["status"] == "open"),
                       "overdue": sum(1 for a in previous if a["overdue"])}

    # 2. Audit results: the programme done against planned, findings by kind and clause.
    templates = None
    if family:
        templates = [t.id for t in db.session.scalars(select(Template)) if standard_family(t.standard) == family]
    planned_query = _where(select(Audit.status, Audit.submitted_at, Audit.planned_date).where(
        Audit.planned_date >= period_start, Audit.planned_date <= period_end), _areas(Audit.area_id, user, site_id))
    if templates is not None:
        planned_query = planned_query.where(Audit.template_id.in_(templates))
    planned = db.session.execute(planned_query).all()
    done = [row for row in planned if row.status in DONE_AUDITS]
    on_time = [row for row in done if row.submitted_at is not None and row.submitted_at.date() <= row.planned_date]
    findings_in = [c for c in (Finding.received_at >= since, Finding.received_at < until,
                               _areas(Finding.area_id, user, site_id)) if c is not None]
    if templates is not None:
        findings_in.append(Finding.audit_id.in_(select(Audit.id).where(Audit.template_id.in_(templates))))
    # One pass over the period's findings: counts by kind and clause, and the repeats among them.
    by_kind: Counter = Counter()
    by_clause_all: Counter = Counter()
    repeats = 0
    for kind, clause, repeat, count in db.session.execute(
            select(Finding.kind, Finding.clause, Finding.repeat_of_id.is_not(None), func.count())
            .where(*findings_in).group_by(Finding.kind, Finding.clause, Finding.repeat_of_id.is_not(None))):
        by_kind[kind] += count
        repeats += count if repeat else 0
        if clause:
            by_clause_all[clause] += count
    by_clause = sorted(by_clause_all.items(), key=lambda item: (-item[1], item[0]))[:TOP_CLAUSES]
    audit_results = {
        "planned": len(planned), "done": len(done), "done_on_time": len(on_time),
        "by_status": dict(sorted(Counter(row.status for row in planned).items())),
        "findings_by_kind": {kind.value: int(by_kind.get(kind.value, 0)) for kind in FindingKind},
        "findings_by_clause": [{"clause": clause, "count": int(count)} for clause, count in by_clause],
    }

    # 3. Nonconformities and corrective actions.
    area_filter = _areas(Finding.area_id, user, site_id)
    open_ncs = dict(db.session.execute(_where(
        select(Finding.kind, func.count()).where(Finding.kind.in_(NC_KINDS), Finding.status.in_(OPEN_FINDING_STATUSES)),
        area_filter).group_by(Finding.kind)).all())
    actions = select(CorrectiveAction.id)
    if area_filter is not None:
        actions = actions.join(Finding, Finding.id == CorrectiveAction.finding_id).where(area_filter)
    opened = db.session.scalar(select(func.count()).select_from(
        actions.where(CorrectiveAction.created_at >= since, CorrectiveAction.created_at < until).subquery()))
    completed = db.session.scalar(select(func.count()).select_from(
        actions.where(CorrectiveAction.done_at >= since, CorrectiveAction.done_at < until).subquery()))
    overdue = db.session.scalar(select(func.count()).select_from(
        actions.where(CorrectiveAction.status == ActionStatus.OPEN, CorrectiveAction.due_date < today).subquery()))
    checked_query = select(CorrectiveAction.effectiveness_result, func.count()).where(
        CorrectiveAction.effectiveness_at >= since, CorrectiveAction.effectiveness_at < until)
    if area_filter is not None:
        checked_query = checked_query.join(Finding, Finding.id == CorrectiveAction.finding_id).where(area_filter)
    checked = dict(db.session.execute(checked_query.group_by(CorrectiveAction.effectiveness_result)).all())
    nonconformities = {
        "raised": int(by_kind.get(FindingKind.MAJOR_NC.value, 0)) + int(by_kind.get(FindingKind.MINOR_NC.value, 0)),
        "open_major": int(open_ncs.get(FindingKind.MAJOR_NC.value, 0)),
        "open_minor": int(open_ncs.get(FindingKind.MINOR_NC.value, 0)),
        "actions_opened": int(opened), "actions_completed": int(completed), "actions_overdue": int(overdue),
        "checked_effective": int(checked.get(ActionStatus.EFFECTIVE.value, 0)),
        "checked_not_effective": int(checked.get(ActionStatus.NOT_EFFECTIVE.value, 0)),
    }

    # 4. Objectives and their status.
    query = select(Objective).options(selectinload(Objective.measurements)).where(Objective.retired_at.is_(None))
    if site_id:
        query = query.where((Objective.site_id == site_id) | Objective.site_id.is_(None))
    rows = [o for o in db.session.scalars(query.order_by(Objective.title))
            if (not family or not o.standard or standard_family(o.standard) == family) and
            (o.site_id is None or reviews(user, o))]
    objective_rows = []
    for o in rows:
        last = objectives.latest(o)
        objective_rows.append({
            "id": str(o.id), "title": o.title, "owner": _person(o.owner_id, names), "target_value": o.target_value,
            "unit": o.unit, "direction": o.direction, "status": objectives.status(o),
            "latest": last.value if last else None, "measured_on": last.measured_on.isoformat() if last else None,
            "values": [[m.measured_on.isoformat(), m.value] for m in o.measurements
                       if period_start <= m.measured_on <= period_end],
        })

    # 5. Repeat findings and 6. coverage gaps.
    gaps = []
    for name in ([family] if family else coverage.standards()):
        matrix = coverage.matrix(name, today=period_end)
        areas = [a for a in matrix.areas if (not site_id or a.site_id == site_id) and reviews(user, a)]
        gaps.append({"standard": name, "pairs": len(areas) * len(matrix.clauses),
                     "gaps": sum(1 for a in areas for c in matrix.clauses if matrix.is_gap(a, c))})

    return {
        "previous_actions": {"counts": previous_counts, "actions": previous},
        "audit_results": audit_results,
        "nonconformities": nonconformities,
        "objectives": {"counts": dict(Counter(row["status"] for row in objective_rows)), "objectives": objective_rows},
        "repeat_findings": int(repeats),
        "coverage_gaps": gaps,
    }


# ---- reading ----------------------------------------------------------------------------


def get_review(user: User, review_id, permission: str = "management_review.manage") -> ManagementReview:
    """Load a management review. :raise 404: no such review. :raise 403: not a reviewer of its site."""
    return load_for(user, ManagementReview, review_id, permission, "There is no such management review.")


def review_query(user: User):
    """The reviews `user` may see, newest period first."""
    require(user, "management_review.manage")
    query = select(ManagementReview).options(selectinload(ManagementReview.actions))
    return query.order_by(ManagementReview.period_end.desc(), ManagementReview.created_at.desc())


def visible(user: User, rows) -> list[ManagementReview]:
    return [r for r in rows if reviews(user, r)]


def get_action(user: User, action_id, permission: str = "review_action.work") -> ReviewAction:
    return load_for(user, ReviewAction, action_id, permission, "There is no such review action.")


def open_actions_of(user: User) -> list[ReviewAction]:
    """The review outputs `user` owns that are still open, soonest due first (their My actions)."""
    return list(db.session.scalars(
        select(ReviewAction).options(selectinload(ReviewAction.review))
        .where(ReviewAction.owner_id == user.id, ReviewAction.status == "open").order_by(ReviewAction.due_date)))


# ---- changing ---------------------------------------------------------------------------


def _locked(review: ManagementReview) -> None:
    if review.status != ManagementReviewStatus.DRAFT:
        raise StateError("This management review is signed off and can no longer change.")


def open_review(user: User, period_start, period_end, standard: str = "", site_id=None,
                at: datetime | None = None) -> ManagementReview:
    """Open a review of a period, with its inputs assembled from the register and frozen now.

    :raise Invalid: dates missing, the wrong way round or in the future; no such site.
    """
    require(user, "management_review.manage")
    errors = FieldErrors()
    start = errors.date("period_start", period_start, required=True, label="The period's first day")
    end = errors.date("period_end", period_end, required=True, label="The period's last day")
    standard = errors.text("standard", standard, "standard")
    if start and end and end < start:
        errors.add("period_end", "The period ends before it starts.")
    if end and end > date.today():
        errors.add("period_end", "A review looks back: the period cannot end in the future.")
    site = None
    if site_id:
        site = db.session.get(Site, uuid_or_none(site_id)) if uuid_or_none(site_id) else None
        if site is None:
            errors.add("site_id", "There is no such site.")
    errors.raise_if_any("The management review cannot be opened.")
    review = ManagementReview(period_start=start, period_end=end, standard=standard, site_id=site.id if site else None,
                              chair_id=user.id, attendees=[user.name], notes={k: "" for k in NOTE_FIELDS},
                              created_at=happened_at(at))
    require(user, "management_review.manage", review)
    review.assembled_at = utcnow()
    review.inputs = assemble(user, start, end, standard, review.site_id, before=review.created_at)
    db.session.add(review)
    db.session.flush()
    trail.record(user, "management_review.opened", "management_review", review.id,
                 {"period_start": start, "period_end": end, "standard": standard, "site_id": review.site_id})
    return review


def update_review(user: User, review: ManagementReview, data: dict) -> ManagementReview:
    """Write the meeting down: the day, attendees, the chair's inputs, the decisions. Draft only."""
    require(user, "management_review.manage", review)
    _locked(review)
    errors = FieldErrors()
    changes = {}
    if "held_on" in data:
        held = errors.date("held_on", data.get("held_on"))
        if held and held > date.today():
            errors.add("held_on", "Record the meeting once it has been held.")
        changes["held_on"] = held
    if "attendees" in data:
        value = data.get("attendees")
        lines = value.splitlines() if isinstance(value, str) else value
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            errors.add("attendees", "A list of names.")
            lines = []
        names = [errors.text("attendees", x, "name") for x in lines]
        changes["attendees"] = [n for n in names if n]
    if "notes" in data:
        given = data.get("notes") or {}
        if not isinstance(given, dict) or set(given) - set(NOTE_FIELDS):
            errors.add("notes", f"Only {', '.join(NOTE_FIELDS)}.")
            given = {}
        notes = dict(review.notes or {})
        for key, value in given.items():
            notes[key] = errors.text(f"notes.{key}", value)
        changes["notes"] = notes
    if "decisions" in data:
        changes["decisions"] = errors.text("decisions", data.get("decisions"))
    errors.raise_if_any("The management review is not valid.")
    recorded = {}
    for field, value in changes.items():
        if getattr(review, field) != value:
            recorded[field] = value
            setattr(review, field, value)
    db.session.flush()
    if recorded:
        trail.record(user, "management_review.updated", "management_review", review.id, recorded)
    return review


def add_action(user: User, review: ManagementReview, data: dict, today: date | None = None,
               at: datetime | None = None) -> ReviewAction:
    """Add an output action (title, owner, due date) to a draft review.

    `today` is the day the due date may not precede, `at` the moment it was decided (both now unless given).
    """
    require(user, "management_review.manage", review)
    _locked(review)
    errors = FieldErrors()
    title = errors.text("title", data.get("title"), "title", required=True, label="What is to be done")
    owner_id = uuid_or_none(data.get("owner_id"))
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        errors.add("owner_id", "Choose an active person to own the action.")
    due = errors.date("due_date", data.get("due_date"), required=True, label="A due date")
    if due and due < (today or date.today()):
        errors.add("due_date", "The due date cannot be in the past.")
    errors.raise_if_any("The action is not complete.")
    action = ReviewAction(review_id=review.id, title=title, owner_id=owner.id, due_date=due, created_at=happened_at(at))
    review.actions.append(action)
    db.session.flush()
    trail.record(user, "review_action.added", "review_action", action.id,
                 {"review_id": review.id, "title": title, "owner_id": owner.id, "due_date": due})
    return action


def mark_action_done(user: User, action: ReviewAction, note: str = "", at: datetime | None = None) -> ReviewAction:
    """The owner (or a supervisor) says a review output is done. :raise StateError: unless open."""
    require(user, "review_action.work", action)
    errors = FieldErrors()
    note = errors.text("note", note)
    errors.raise_if_any("The note is not valid.")
    if action.status != "open":
        raise StateError("This action is already done.")
    action.status, action.done_at, action.done_note = "done", happened_at(at), note
    db.session.flush()
    trail.record(user, "review_action.done", "review_action", action.id, {"status": ["open", "done"], "note": note})
    return action


def sign_off(user: User, review: ManagementReview, no_outputs_confirmed: bool = False,
             at: datetime | None = None) -> ManagementReview:
    """The chair signs the review off, which locks it.

    A review with neither decisions nor actions asks first whether that is really the
    outcome: :raise Invalid: (field `outputs`) unless `no_outputs_confirmed`.
    """
    require(user, "management_review.sign_off", review)
    _locked(review)
    if not review.actions and not (review.decisions or "").strip() and not no_outputs_confirmed:
        raise Invalid("This review has no outputs: no decisions and no actions. Is that really the outcome?",
                      {"outputs": ["Record the decisions or actions, or confirm there are none."]})
    review.status = ManagementReviewStatus.SIGNED_OFF
    review.signed_off_at, review.signed_off_by_id = happened_at(at), user.id
    if review.held_on is None:
        review.held_on = review.signed_off_at.date()
    db.session.flush()
    trail.record(user, "management_review.signed_off", "management_review", review.id,
                 {"outputs": len(review.actions), "no_outputs_confirmed": no_outputs_confirmed})
    return review


def to_dict(review: ManagementReview) -> dict:
    """The record as the API gives it: its fields, frozen inputs, the chair's notes and outputs."""
    return {
        "id": str(review.id), "period_start": review.period_start.isoformat(), "period_end": review.period_end.isoformat(),
        "held_on": review.held_on.isoformat() if review.held_on else None, "standard": review.standard,
        "site_id": str(review.site_id) if review.site_id else None, "chair_id": str(review.chair_id),
        "chair": review.chair.name if review.chair else "", "attendees": list(review.attendees or []),
        "status": review.status, "assembled_at": review.assembled_at.isoformat(),
        "signed_off_at": review.signed_off_at.isoformat() if review.signed_off_at else None,
        "inputs": review.inputs, "notes": dict(review.notes or {}), "decisions": review.decisions,
        "actions": [{"id": str(a.id), "title": a.title, "owner_id": str(a.owner_id),
                     "owner": a.owner.name if a.owner else "", "due_date": a.due_date.isoformat(),
                     "status": a.status, "done_at": a.done_at.isoformat() if a.done_at else None}
                    for a in review.actions],
    }


def pack_pdf(user: User, review: ManagementReview) -> bytes:
    """The review's PDF pack, drawn from its frozen inputs."""
    require(user, "management_review.manage", review)
    return review_pdf(review, NOTE_FIELDS)
