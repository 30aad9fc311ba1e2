"""Events that notify: written to the outbox in the transaction of the change that causes them.

`emit` appends one `OutboxEvent`, a `Notification` for each person it concerns who may
see the record (`permissions.can`), and a `WebhookDelivery` for each webhook subscribed
to its kind. It flushes nothing by itself: the rows go in with the change, or not at
all. The worker (`services/worker.py`) sends them, and computes the events that come
from the passing of time (due soon, overdue, escalations).
"""

import uuid
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from ..extensions import db
from ..models import (
    Area,
    Audit,
    CorrectiveAction,
    Delivery,
    Document,
    DocumentStatus,
    Finding,
    FindingKind,
    Notification,
    NotificationPreference,
    OutboxEvent,
    Role,
    User,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from ..models.accounts import user_site
from ..permissions import can, site_of
from .serialise import lock_ordered_writes
from .together import queue

# Every kind of event, what it tells, and the permission its recipient needs on the record.
KINDS = {
    "finding.raised": "A major nonconformity was raised",
    "audit.submitted": "An audit was submitted for review",
    "audit.returned": "Your audit was returned",
    "audit.rejected": "Your audit was rejected",
    "audit.planned": "An audit was planned for you",
    "audit.assigned": "An audit was assigned to you",
    "audit.not_started": "A planned audit has not started",
    "action.assigned": "A corrective action was assigned to you",
    "action.due_soon": "A corrective action is due soon",
    "action.overdue": "A corrective action is overdue",
    "action.escalated": "An overdue corrective action was escalated",
    "action.check_due": "An effectiveness check is due",
    "document.review_due": "A document you own is due for review",
}
VIEW = {"finding": "finding.view", "audit": "audit.view", "action": "action.view", "document": "document.view"}
CHANNELS = ("email", "digest", "app")


def _webhooks_for(kind: str) -> list[uuid.UUID]:
    """Active webhooks subscribed to `kind`, read once per transaction."""
    session = db.session()
    cached = session.info.get("gemba_webhooks")
    if cached is None or cached[0] is not session.get_transaction():
        hooks = db.session.execute(select(Webhook.id, Webhook.events).where(Webhook.active.is_(True))).all()
        cached = (session.get_transaction(), hooks)
        session.info["gemba_webhooks"] = cached
    return [hook_id for hook_id, events in cached[1] if kind in (events or []) or "*" in (events or [])]


def forget_webhooks() -> None:
    db.session().info.pop("gemba_webhooks", None)


def channel_of(user: User, kind: str) -> str:
    pref = db.session.get(NotificationPreference, (user.id, kind))
    return pref.channel if pref else "email"


def _add(model, values: dict) -> None:
    if not queue(model.__table__, values):
        db.session.add(model(**values))


def emit(kind: str, record, entity: str, data: dict, recipients=(), *, actor: User | None = None,
         title: str = "", body: str = "", link: str = "", at: datetime | None = None,
         dedupe: str | None = None, attachment: str | None = None) -> uuid.UUID:
    """Write event `kind` about `record` for `recipients` and the subscribed webhooks; return its id.

    A recipient who may not see `record` (or is the actor, or inactive) is skipped: no
    notification reveals what its recipient may not see.
    """
    lock_ordered_writes()  # polling reads events in seq order: number them in commit order
    now = utcnow()
    event_id = uuid.uuid4()
    site = site_of(record)
    _add(OutboxEvent, {"id": event_id, "kind": kind, "at": at or now, "entity": entity,
                       "entity_id": str(record.id), "site_id": site, "data": data, "dedupe": dedupe})
    seen = set()
    for person in recipients:
        if person is None or person.id in seen or (actor is not None and person.id == actor.id):
            continue
        seen.add(person.id)
        if not person.active or not can(person, VIEW[entity], record):
            continue
        channel = channel_of(person, kind)
        state = {"email": Delivery.PENDING, "digest": Delivery.DIGEST}.get(channel, Delivery.NONE)
        _add(Notification, {"user_id": person.id, "event_id": event_id, "kind": kind,
                            "title": title[:300] or KINDS[kind], "body": body, "link": link,
                            "created_at": now, "email_state": state, "email_attempts": 0,
                            "email_next_at": now, "email_error": "", "attachment": attachment})
    for hook_id in _webhooks_for(kind):
        _add(WebhookDelivery, {"id": uuid.uuid4(), "webhook_id": hook_id, "event_id": event_id,
                               "state": Delivery.PENDING, "attempts": 0, "created_at": now, "next_at": now,
                               "last_error": ""})
    return event_id


# Who hears of what --------------------------------------------------------------------

def supervisors_of(site_id) -> list[User]:
    """Active supervisors of a site: those who have it, and those who cover every site."""
    has_sites = select(user_site.c.user_id)
    query = select(User).where(User.role == Role.SUPERVISOR, User.active.is_(True)).where(
        or_(User.id.in_(select(user_site.c.user_id).where(user_site.c.site_id == site_id)),
            User.id.not_in(has_sites)))
    return list(db.session.scalars(query.order_by(User.email)))


def reviewers_of(record) -> list[User]:
    """The supervisors of a record's site; the admins when it has none."""
    people = supervisors_of(site_of(record))
    if not people:
        people = list(db.session.scalars(
            select(User).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.email)))
    return people


def _responsible(area_id) -> User | None:
    area = db.session.get(Area, area_id)
    return db.session.get(User, area.responsible_id) if area and area.responsible_id else None


def _finding_data(finding: Finding) -> dict:
    area = db.session.get(Area, finding.area_id)
    return {"finding_id": str(finding.id), "kind": finding.kind, "title": finding.title,
            "area_id": str(finding.area_id), "area": area.label if area else "", "status": finding.status}


def _audit_data(audit: Audit) -> dict:
    area = db.session.get(Area, audit.area_id)
    return {"audit_id": str(audit.id), "area_id": str(audit.area_id), "area": area.label if area else "",
            "status": audit.status, "auditor_id": str(audit.auditor_id) if audit.auditor_id else None,
            "planned_date": audit.planned_date.isoformat() if audit.planned_date else None}


def _action_data(action: CorrectiveAction) -> dict:
    return {"action_id": str(action.id), "finding_id": str(action.finding_id), "plan": action.plan,
            "owner_id": str(action.owner_id) if action.owner_id else None,
            "due_date": action.due_date.isoformat() if action.due_date else None, "status": action.status}


# Hooks the services call -----------------------------------------------------------------

def finding_raised(actor: User, finding: Finding, at=None) -> None:
    """Every finding is an event (webhooks, polling); a major NC also tells the area's
    responsible person and the site's supervisors."""
    data = _finding_data(finding)
    recipients = []
    if finding.kind == FindingKind.MAJOR_NC:
        recipients = [_responsible(finding.area_id), *supervisors_of(site_of(finding))]
    emit("finding.raised", finding, "finding", data, recipients, actor=actor,
         title=f"Major nonconformity: {finding.title}", link=f"/findings/{finding.id}",
         body=f"{data['area']}: {finding.title}\n\n{finding.description}".strip(), at=at)


def audit_submitted(actor: User, audit: Audit) -> None:
    data = _audit_data(audit) | {"score": audit.score}
    emit("audit.submitted", audit, "audit", data, reviewers_of(audit), actor=actor,
         title=f"Audit submitted for review: {data['area']}", link=f"/audits/{audit.id}",
         body=f"{audit.auditor.name if audit.auditor else 'The auditor'} submitted the audit of {data['area']}.")


def audit_decided(actor: User, audit: Audit, kind: str, comment: str) -> None:
    """Returned or rejected: its auditor learns why."""
    data = _audit_data(audit) | {"comment": comment}
    verb = "returned" if kind == "audit.returned" else "rejected"
    emit(kind, audit, "audit", data, [audit.auditor], actor=actor,
         title=f"Your audit of {data['area']} was {verb}", link=f"/audits/{audit.id}",
         body=f"{actor.name} {verb} it:\n\n{comment}")


def audit_planned(actor: User, audit: Audit, kind: str = "audit.planned") -> None:
    from .calendars import audit_invitation  # noqa: PLC0415 - calendars imports this module
    if audit.auditor_id is None:
        return
    data = _audit_data(audit)
    auditor = db.session.get(User, audit.auditor_id)
    emit(kind, audit, "audit", data, [auditor], actor=actor,
         title=f"Audit of {data['area']} on {data['planned_date']}", link=f"/audits/{audit.id}",
         body=f"{actor.name} planned an audit of {data['area']} for you on {data['planned_date']}.",
         attachment=audit_invitation(audit))


def action_assigned(actor: User, action: CorrectiveAction) -> None:
    if action.owner_id is None:
        return
    data = _action_data(action)
    owner = db.session.get(User, action.owner_id)
    finding = action.finding
    emit("action.assigned", action, "action", data, [owner], actor=actor,
         title=f"Corrective action for: {finding.title}", link=f"/findings/{finding.id}",
         body=f"{action.plan}\n\nDue {data['due_date'] or 'without a date'}.")


# Events from the passing of time (the worker runs this) --------------------------------------

def _once(dedupe: str) -> bool:
    return db.session.scalar(select(OutboxEvent.seq).where(OutboxEvent.dedupe == dedupe)) is None


def scan(today: date | None = None) -> int:
    """Emit due-soon, overdue, escalation, effectiveness-check and not-started events, each once."""
    today = today or datetime.now(UTC).date()
    config = current_app.config
    soon = today + timedelta(days=config.get("NOTIFY_DUE_SOON_DAYS", 3))
    escalate = config.get("NOTIFY_ESCALATE_DAYS", 14)
    count = 0
    open_actions = db.session.scalars(
        select(CorrectiveAction).where(CorrectiveAction.status == "open", CorrectiveAction.owner_id.is_not(None),
                                       CorrectiveAction.due_date <= soon))
    for action in open_actions:
        owner = db.session.get(User, action.owner_id)
        finding = action.finding
        late = (today - action.due_date).days
        data = _action_data(action) | {"days_late": max(late, 0)}
        base = dict(link=f"/findings/{finding.id}", at=None)
        if late <= 0:
            key = f"action.due_soon:{action.id}:{action.due_date}"
            if _once(key):
                emit("action.due_soon", action, "action", data, [owner], dedupe=key,
                     title=f"Due {action.due_date}: {finding.title}", body=action.plan, **base)
                count += 1
            continue
        key = f"action.overdue:{action.id}:{action.due_date}"
        if _once(key):
            emit("action.overdue", action, "action", data, [owner], dedupe=key,
                 title=f"Overdue by {late} days: {finding.title}", body=action.plan, **base)
            count += 1
        for level, people in ((1, lambda: [_responsible(finding.area_id)]),
                              (2, lambda: supervisors_of(site_of(finding)))):
            key = f"action.escalated:{action.id}:{action.due_date}:{level}"
            if late >= escalate * level and _once(key):
                emit("action.escalated", action, "action", data | {"level": level}, people(), dedupe=key,
                     title=f"Escalated: {late} days overdue: {finding.title}",
                     body=f"{owner.name}'s action is {late} days overdue.\n\n{action.plan}", **base)
                count += 1
    checks = db.session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.status == "done", CorrectiveAction.effectiveness_due <= today))
    for action in checks:
        key = f"action.check_due:{action.id}:{action.effectiveness_due}"
        if _once(key):
            emit("action.check_due", action, "action", _action_data(action), reviewers_of(action), dedupe=key,
                 title=f"Effectiveness check due: {action.finding.title}", link=f"/findings/{action.finding_id}")
            count += 1
    late_audits = db.session.scalars(select(Audit).where(Audit.status == "planned", Audit.planned_date < today))
    for audit in late_audits:
        key = f"audit.not_started:{audit.id}:{audit.planned_date}"
        if _once(key):
            people = [audit.auditor, *reviewers_of(audit)]
            emit("audit.not_started", audit, "audit", _audit_data(audit), people, dedupe=key,
                 title=f"Planned audit not started: {audit.area.label} ({audit.planned_date})",
                 link=f"/audits/{audit.id}")
            count += 1
    return count + _document_reviews(today, config.get("DOCUMENT_REVIEW_NOTICE_DAYS", 30))


def _document_reviews(today: date, notice_days: int) -> int:
    """Remind each approved document's owner once, `notice_days` before its review falls due (or when overdue)."""
    count = 0
    due = db.session.scalars(select(Document).where(Document.status == DocumentStatus.APPROVED,
                                                    Document.next_review_due <= today + timedelta(days=notice_days)))
    for document in due:
        key = f"document.review_due:{document.id}:{document.next_review_due}"
        if _once(key):
            late = document.next_review_due < today
            emit("document.review_due", document, "document",
                 {"document_id": str(document.id), "number": document.number, "title": document.title,
                  "next_review_due": document.next_review_due.isoformat(), "overdue": late},
                 [document.owner], dedupe=key, link=f"/documents/{document.id}",
                 title=f"{document.number} {'review overdue since' if late else 'due for review on'} "
                       f"{document.next_review_due}: {document.title}")
            count += 1
    return count
