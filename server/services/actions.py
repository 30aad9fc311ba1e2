"""Corrective actions after ISO 9001 clause 10.2: react, find the cause, act, check it worked.

A supervisor plans an action on a finding (containment, up to five whys to a root cause,
the plan, an owner, a due date and when to check effectiveness). The owner marks it
done. Once the effectiveness date has come, a supervisor checks it: effective verifies
and closes the finding, not effective opens a new action on it.
"""

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..errors import Invalid, NotFound, StateError
from ..extensions import db
from ..models import (
    ActionStatus,
    CorrectiveAction,
    Finding,
    FindingStatus,
    User,
    happened_at,
)
from ..permissions import can, require, scope_actions
from . import feed, review, trail, transitions

MAX_WHYS = 5
MAX_TEXT = 4000
DEFAULT_EFFECTIVENESS_DAYS = 30
# What a supervisor may set when planning or re-planning an action.
PLAN_FIELDS = ("containment", "whys", "root_cause", "plan", "owner_id", "due_date", "effectiveness_due")


def publish_action(action: CorrectiveAction) -> None:
    feed.publish("action", action.id, action.version, area_id=action.finding.area_id, user_id=action.owner_id)


def get_action(user: User, action_id: uuid.UUID) -> CorrectiveAction:
    action = db.session.get(CorrectiveAction, action_id)
    if action is None:
        raise NotFound("There is no such corrective action.")
    require(user, "action.view", action)
    return action


def _text(data: dict, field: str, errors: dict, required: bool = False, label: str = "This") -> str:
    value = data.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = ["Must be text."]
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = [f"{label} is required."]
    elif len(value) > MAX_TEXT:
        errors[field] = [f"At most {MAX_TEXT} characters."]
    return value


def _whys(value, errors: dict) -> list[dict]:
    """Check the five whys: 1 to 5 steps, each a why and a because."""
    if not isinstance(value, list):
        errors["whys"] = ["The five whys must be a list of {why, because} steps."]
        return []
    steps = []
    for step in value:
        if not isinstance(step, dict) or not all(isinstance(step.get(k, ""), str) for k in ("why", "because")):
            errors["whys"] = ["Each step needs a why and a because, as text."]
            return []
        why, because = (step.get("why") or "").strip(), (step.get("because") or "").strip()
        if not why and not because:
            continue  # an unused row of the form
        if not why or not because:
            errors["whys"] = ["Each step needs both a why and a because."]
            return []
        if len(why) > MAX_TEXT or len(because) > MAX_TEXT:
            errors["whys"] = [f"At most {MAX_TEXT} characters per answer."]
            return []
        steps.append({"why": why, "because": because})
    if not steps:
        errors["whys"] = ["Ask why at least once to get to the root cause."]
    elif len(steps) > MAX_WHYS:
        errors["whys"] = [f"At most {MAX_WHYS} whys."]
    return steps


def _date(value, field: str, errors: dict, required: bool, label: str) -> date | None:
    if value in (None, ""):
        if required:
            errors[field] = [f"{label} is required."]
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors[field] = ["Use a date like 2026-01-31."]
    return None


def _owner(value, errors: dict) -> User | None:
    if value in (None, ""):
        errors["owner_id"] = ["Choose who owns this action."]
        return None
    try:
        owner = db.session.get(User, value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except ValueError:
        owner = None
    if owner is None or not owner.active:
        errors["owner_id"] = ["Choose an active user."]
        return None
    return owner


def clean_plan(data: dict, today: date | None = None, current: CorrectiveAction | None = None) -> dict:
    """Validate a supervisor's plan for an action. :raise Invalid: with every field's problem."""
    today = today or date.today()
    errors: dict[str, list[str]] = {}
    cleaned = {
        "containment": _text(data, "containment", errors),
        "whys": _whys(data.get("whys", []), errors),
        "root_cause": _text(data, "root_cause", errors, required=True, label="The root cause"),
        "plan": _text(data, "plan", errors, required=True, label="The action plan"),
    }
    owner = _owner(data.get("owner_id"), errors)
    cleaned["owner_id"] = owner.id if owner else None
    due = _date(data.get("due_date"), "due_date", errors, True, "A due date")
    if due and due < today and (current is None or current.due_date != due):
        errors["due_date"] = ["The due date cannot be in the past."]
    cleaned["due_date"] = due
    check = _date(data.get("effectiveness_due"), "effectiveness_due", errors, False, "The effectiveness check date")
    if check is None and due is not None and "effectiveness_due" not in errors:
        check = due + timedelta(days=DEFAULT_EFFECTIVENESS_DAYS)
    if check and due and check < due:
        errors["effectiveness_due"] = ["Check effectiveness on or after the due date."]
    cleaned["effectiveness_due"] = check
    if errors:
        raise Invalid("The corrective action is not complete.", errors)
    return cleaned


def _move_finding(user: User, finding: Finding, new: str, reason: str = "", at: datetime | None = None) -> None:
    if finding.status == new:
        return
    transitions.check_finding(finding, new)
    old = finding.status
    finding.status = new
    changed = ["status"]
    if new == FindingStatus.CLOSED:
        finding.closed_at = happened_at(at)
        changed.append("closed_at")
    finding.bump(changed)
    db.session.flush()
    review.publish_finding(finding)
    changes = {"status": [old, new]}
    if reason:
        changes["reason"] = reason
    trail.record(user, f"finding.{new}", "finding", finding.id, changes)


def plan_action(user: User, finding: Finding, data: dict, today: date | None = None,
                at: datetime | None = None) -> CorrectiveAction:
    """Plan a corrective action on `finding`, which becomes action planned.

    Planning an action on a finding nobody triaged yet accepts it. `today` is the day
    the due date may not precede, `at` the moment of planning (both now unless given).
    :raise Invalid: on missing or bad fields. :raise StateError: on a closed or rejected finding.
    """
    require(user, "action.assign", finding)
    if finding.status in (FindingStatus.CLOSED, FindingStatus.REJECTED):
        raise StateError(f"A finding that is {finding.status} takes no new actions; reopen it first.")
    cleaned = clean_plan(data, today)
    action = CorrectiveAction(finding_id=finding.id, created_by_id=user.id, status=ActionStatus.OPEN,
                              created_at=happened_at(at), **cleaned)
    action.finding = finding
    action.bump(PLAN_FIELDS + ("status",))
    db.session.add(action)
    if finding.triaged_at is None:
        review.mark_triaged(user, finding, at)
        finding.bump(["triaged_at", "triaged_by_id"])
    db.session.flush()
    publish_action(action)
    trail.record(user, "action.planned", "action", action.id, {"finding_id": finding.id} | cleaned)
    # open, action done or verified: there is work again. Already planned: stays.
    _move_finding(user, finding, FindingStatus.ACTION_PLANNED, at=at)
    return action


def update_plan(user: User, action: CorrectiveAction, data: dict, today: date | None = None) -> CorrectiveAction:
    """Change the plan of an open action; only the fields that changed are bumped.

    :raise StateError: once the action is done.
    """
    require(user, "action.assign", action)
    if action.status != ActionStatus.OPEN:
        raise StateError("Only an open action can be re-planned.")
    cleaned = clean_plan(data, today, current=action)
    changes = {}
    for field, value in cleaned.items():
        if getattr(action, field) != value:
            changes[field] = [getattr(action, field), value]
            setattr(action, field, value)
    if not changes:
        return action
    action.bump(changes)
    db.session.flush()
    publish_action(action)
    if "owner_id" in changes and changes["owner_id"][0] is not None:
        # The former owner's device drops the action (and the finding, unless they still see it).
        former = changes["owner_id"][0]
        feed.publish("action", action.id, action.version, area_id=action.finding.area_id, user_id=former)
        finding = action.finding
        feed.publish("finding", finding.id, finding.version, area_id=finding.area_id, user_id=former)
    trail.record(user, "action.updated", "action", action.id, changes)
    return action


def mark_done(user: User, action: CorrectiveAction, note: str = "", at: datetime | None = None) -> CorrectiveAction:
    """The owner (or a supervisor) says the action is done (`at`, or now); the finding moves on when all are.

    :raise StateError: unless the action is open.
    """
    require(user, "action.work", action)
    errors: dict = {}
    note = _text({"note": note}, "note", errors)
    if errors:
        raise Invalid("The note is not valid.", errors)
    if action.status != ActionStatus.OPEN:
        raise StateError(f"This action is already {action.status.replace('_', ' ')}.")
    action.status = ActionStatus.DONE
    action.done_at = happened_at(at)
    action.done_note = note
    action.bump(["status", "done_at", "done_note"])
    db.session.flush()
    publish_action(action)
    trail.record(user, "action.done", "action", action.id, {"status": [ActionStatus.OPEN, ActionStatus.DONE], "note": note})
    finding = action.finding
    if finding.status == FindingStatus.ACTION_PLANNED and not _open_actions(finding):
        _move_finding(user, finding, FindingStatus.ACTION_DONE, at=at)
    return action


def _open_actions(finding: Finding) -> list[CorrectiveAction]:
    return [a for a in finding.actions if a.status == ActionStatus.OPEN]


def check_effectiveness(user: User, action: CorrectiveAction, effective: bool, note: str,
                        new_plan: dict | None = None, today: date | None = None,
                        at: datetime | None = None) -> CorrectiveAction | None:
    """Record whether a done action worked (checked on `today` at `at`, both now unless given).

    Effective: when no other action is pending, the finding is verified and closed.
    Not effective: a new action opens from `new_plan` (its fields default to the old
    action's analysis, due in two weeks) and is returned.
    :raise StateError: unless the action is done and its check date has come.
    """
    require(user, "action.assign", action)
    today = today or date.today()
    errors: dict = {}
    note = _text({"note": note}, "note", errors, required=not effective, label="A note on why it did not work")
    if errors:
        raise Invalid("The effectiveness check is not complete.", errors)
    if action.status != ActionStatus.DONE:
        raise StateError("Only a done action can be checked for effectiveness.")
    if action.effectiveness_due and today < action.effectiveness_due:
        raise StateError(f"Effectiveness is to be checked on or after {action.effectiveness_due.isoformat()}.")
    finding = action.finding
    follow_up = None
    if not effective:
        # Validate the follow-up before anything changes, so a bad plan changes nothing.
        base = {
            "containment": action.containment, "whys": action.whys, "root_cause": action.root_cause,
            "plan": action.plan, "owner_id": action.owner_id, "due_date": today + timedelta(days=14),
        }
        merged = base | {k: v for k, v in (new_plan or {}).items() if v not in (None, "", [])}
        clean_plan(merged, today)
    result = ActionStatus.EFFECTIVE if effective else ActionStatus.NOT_EFFECTIVE
    action.status = result
    action.effectiveness_result = result
    action.effectiveness_by_id = user.id
    action.effectiveness_at = happened_at(at)
    action.effectiveness_note = note
    action.bump(["status", "effectiveness_result", "effectiveness_by_id", "effectiveness_at", "effectiveness_note"])
    db.session.flush()
    publish_action(action)
    trail.record(user, "action.checked", "action", action.id, {"result": result, "note": note})
    if effective:
        if finding.status == FindingStatus.ACTION_DONE and not _open_actions(finding) and not _unchecked(finding):
            _move_finding(user, finding, FindingStatus.VERIFIED, note, at)
            _move_finding(user, finding, FindingStatus.CLOSED, at=at)
    else:
        follow_up = plan_action(user, finding, merged, today, at)
    return follow_up


def _unchecked(finding: Finding) -> list[CorrectiveAction]:
    return [a for a in finding.actions if a.status == ActionStatus.DONE]


def action_query(user: User, status: str | None = None, owner_id: uuid.UUID | None = None,
                 overdue: bool = False, today: date | None = None):
    """Actions `user` may see, filtered as the actions list and its exports are."""
    today = today or date.today()
    query = (
        select(CorrectiveAction)
        .options(joinedload(CorrectiveAction.owner), joinedload(CorrectiveAction.finding).joinedload(Finding.area))
        .where(scope_actions(user))
    )
    if status:
        query = query.where(CorrectiveAction.status == status)
    if owner_id:
        query = query.where(CorrectiveAction.owner_id == owner_id)
    if overdue:
        query = query.where(overdue_clause(today))
    return query.order_by(CorrectiveAction.due_date.asc().nulls_last(), CorrectiveAction.created_at)


def overdue_clause(today: date):
    return (CorrectiveAction.status == ActionStatus.OPEN) & (CorrectiveAction.due_date < today)


def my_actions(user: User, today: date | None = None) -> list[CorrectiveAction]:
    """The actions `user` owns that still need something from them, soonest due first."""
    return list(db.session.scalars(
        action_query(user, owner_id=user.id, today=today).where(CorrectiveAction.status == ActionStatus.OPEN)
    ))


def due_for_check(user: User, today: date | None = None) -> list[CorrectiveAction]:
    """Done actions whose effectiveness check date has come."""
    today = today or date.today()
    if not can(user, "action.assign"):
        return []
    return list(db.session.scalars(
        action_query(user, status=ActionStatus.DONE, today=today).where(
            (CorrectiveAction.effectiveness_due.is_(None)) | (CorrectiveAction.effectiveness_due <= today)
        )
    ))


def overdue_count(user: User, today: date | None = None) -> int:
    today = today or date.today()
    return db.session.scalar(
        select(func.count()).select_from(CorrectiveAction).where(overdue_clause(today), scope_actions(user))
    )


def reminders(today: date | None = None, within_days: int = 3) -> dict[User, list[CorrectiveAction]]:
    """Open actions due within `within_days` or overdue, grouped by their owner."""
    today = today or date.today()
    rows = db.session.scalars(
        select(CorrectiveAction)
        .options(joinedload(CorrectiveAction.owner), joinedload(CorrectiveAction.finding))
        .where(
            CorrectiveAction.status == ActionStatus.OPEN,
            CorrectiveAction.owner_id.is_not(None),
            CorrectiveAction.due_date <= today + timedelta(days=within_days),
        )
        .order_by(CorrectiveAction.due_date)
    ).all()
    grouped: dict[User, list[CorrectiveAction]] = {}
    for action in rows:
        if action.owner.active:
            grouped.setdefault(action.owner, []).append(action)
    return grouped
