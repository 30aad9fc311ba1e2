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

from ..errors import Invalid, StateError
from ..extensions import db
from ..fieldrules import FieldErrors
from ..ids import uuid_or_none
from ..models import (
    ActionStatus,
    CorrectiveAction,
    Finding,
    FindingStatus,
    PhotoSubject,
    User,
    happened_at,
)
from ..permissions import can, require, scope_actions
from . import audit_review, documents, evidence, feed, findings, notify, organisation, trail, transitions
from .merge import Edit, jsonable, merge
from .records import load_for

DEFAULT_EFFECTIVENESS_DAYS = 30
# What the owner may report from the field.
PROGRESS_FIELDS = ("containment", "whys", "root_cause", "plan", "photos")
# What a supervisor may set when planning or re-planning an action.
PLAN_FIELDS = ("containment", "whys", "root_cause", "plan", "owner_id", "due_date", "effectiveness_due")


def publish_action(action: CorrectiveAction) -> None:
    feed.publish("action", action.id, action.version, area_id=action.finding.area_id, user_id=action.owner_id,
                 record=action)


def get_action(user: User, action_id, permission: str = "action.view") -> CorrectiveAction:
    """Load a corrective action for `user`, who must have `permission` on it.

    :raise 404: no such action. :raise 403: the user may not `permission` it.
    """
    return load_for(user, CorrectiveAction, action_id, permission, "There is no such corrective action.")


def _owner(value, errors: FieldErrors) -> User | None:
    if value in (None, ""):
        errors.add("owner_id", "Choose who owns this action.")
        return None
    owner_id = uuid_or_none(value)
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        errors.add("owner_id", "Choose an active user.")
        return None
    return owner


def clean_plan(data: dict, today: date | None = None, current: CorrectiveAction | None = None) -> dict:
    """Validate a supervisor's plan for an action. :raise Invalid: with every field's problem."""
    today = today or date.today()
    errors = FieldErrors()
    cleaned = {
        "containment": errors.text("containment", data.get("containment")),
        "whys": errors.whys("whys", data.get("whys")),
        "root_cause": errors.text("root_cause", data.get("root_cause"), required=True, label="The root cause"),
        "plan": errors.text("plan", data.get("plan"), required=True, label="The action plan"),
    }
    owner = _owner(data.get("owner_id"), errors)
    cleaned["owner_id"] = owner.id if owner else None
    due = errors.date("due_date", data.get("due_date"), required=True, label="A due date")
    if due and due < today and (current is None or current.due_date != due):
        errors.add("due_date", "The due date cannot be in the past.")
    cleaned["due_date"] = due
    check = errors.date("effectiveness_due", data.get("effectiveness_due"), label="The effectiveness check date")
    if check is None and due is not None and "effectiveness_due" not in errors:
        check = due + timedelta(days=DEFAULT_EFFECTIVENESS_DAYS)
    if check and due and check < due:
        errors.add("effectiveness_due", "Check effectiveness on or after the due date.")
    cleaned["effectiveness_due"] = check
    errors.raise_if_any("The corrective action is not complete.")
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
    findings.publish_finding(finding)
    changes = {"status": [old, new]}
    if reason:
        changes["reason"] = reason
    trail.record(user, f"finding.{new}", "finding", finding.id, changes)
    if new == FindingStatus.CLOSED:
        documents.start_revision_for(user, finding, at)  # a document found out of date gets its next revision


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
        audit_review.mark_triaged(user, finding, at)
        finding.bump(["triaged_at", "triaged_by_id"])
    db.session.flush()
    publish_action(action)
    trail.record(user, "action.planned", "action", action.id, {"finding_id": finding.id} | cleaned)
    notify.action_assigned(user, action)
    # open, action done or verified: there is work again. Already planned: stays.
    _move_finding(user, finding, FindingStatus.ACTION_PLANNED, at=at)
    # Approving the action on a finding that a document is out of date starts its next revision.
    documents.start_revision_for(user, finding, at)
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
    if "owner_id" in changes:
        notify.action_assigned(user, action)
    return action


def mark_done(user: User, action: CorrectiveAction, note: str = "", at: datetime | None = None) -> CorrectiveAction:
    """The owner (or a supervisor) says the action is done (`at`, or now); the finding moves on when all are.

    :raise StateError: unless the action is open.
    """
    require(user, "action.work", action)
    errors = FieldErrors()
    note = errors.text("note", note)
    errors.raise_if_any("The note is not valid.")
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


def record_progress(user: User, action: CorrectiveAction, changes: dict, base_version: int | None = None,
                    device_id=None) -> Edit:
    """The owner reports progress from the field: containment, whys, root cause, plan, done.

    Planning, owners and due dates stay with the office (`plan_action`, `update_plan`).
    Fields the server changed since `base_version` are held back as conflicts.
    :raise NotAllowed: unless owner or supervisor. :raise StateError: once the action is done.
    """
    require(user, "action.work", action)
    if action.status != ActionStatus.OPEN:
        raise StateError(f"This action is {action.status.replace('_', ' ')}; it no longer changes from the field.")
    unknown = set(changes) - set(PROGRESS_FIELDS) - {"done", "done_note"}
    if unknown:
        raise Invalid("The corrective action is not valid.", {name: ["Not changed from the field."] for name in unknown})
    errors = FieldErrors()
    values = {}
    for name in ("containment", "root_cause", "plan"):
        if name in changes:
            values[name] = errors.text(name, changes[name])
    if "whys" in changes:
        values["whys"] = errors.whys("whys", changes["whys"], required=False)
    if "photos" in changes:
        values["photos"] = evidence.check_hashes(changes["photos"])
    errors.raise_if_any("The corrective action is not valid.")
    current = {
        name: evidence.photos_of(PhotoSubject.ACTION, action.id) if name == "photos" else getattr(action, name)
        for name in values
    }
    result = merge(action, values, current, base_version)
    for name, value in result.apply.items():
        if name == "photos":
            evidence.link_photos(user, PhotoSubject.ACTION, action.id, value)
        else:
            setattr(action, name, value)
    if result.apply:
        action.bump(result.apply)
        db.session.flush()
        publish_action(action)
        trail.record(user, "action.progress", "action", action.id, jsonable(result.apply), device_id=device_id)
    if changes.get("done"):
        mark_done(user, action, changes.get("done_note") or "")
    return Edit(action, list(result.apply), result.held)


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
    errors = FieldErrors()
    note = errors.text("note", note, required=not effective, label="A note on why it did not work")
    errors.raise_if_any("The effectiveness check is not complete.")
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


def overdue_clause(today: date | None = None):
    """Open and due before today: the site's local today unless `today` is given."""
    def on_sites(site_ids):
        return CorrectiveAction.finding_id.in_(
            select(Finding.id).where(organisation.in_sites_by_area(Finding.area_id)(site_ids)))
    return (CorrectiveAction.status == ActionStatus.OPEN) & organisation.before_local_today(
        CorrectiveAction.due_date, on_sites, today=today)


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
