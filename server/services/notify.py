"""Events that notify: written to the outbox in the transaction of the change that causes them.

`emit` appends one `OutboxEvent`, a `Notification` for each person it concerns who may
see the record (`permissions.can`), and a `WebhookDelivery` for each webhook subscribed
to its kind. It flushes nothing by itself: the rows go in with the change, or not at
all. The worker (`services/worker.py`) sends them, and computes the events that come
from the passing of time (due soon, overdue, escalations).
"""

import uuid
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, or_, select

from ..extensions import db
from ..models import (
    Area,
    Audit,
    Competence,
    CompetenceRecord,
    CompetenceRequirement,
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
    Site,
    Template,
    TemplateStatus,
    User,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from ..models.accounts import user_site
from ..fieldrules import FieldErrors
from ..ids import uuid_or_none
from ..permissions import can, require, reviews, site_of
from . import organisation, trail
from .serialise import lock_ordered_writes
from .together import queue, rows_together, writing_together

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
    "audit.report": "An audit report was sent to you",
    "checklist.review_due": "A checklist is past its review date",
    "document.review_due": "A document you own is due for review",
    "document.revision_started": "A finding started the next revision of a document you own",
    "competence.expiring": "A competence is about to expire",
    "competence.expired": "A competence has expired",
    "competence.missing": "People lack competences their role or area requires",
}
# Kinds a person is sent because someone chose them: by email, whatever their preference,
# and the sender too when they chose themselves.
CHOSEN = {"audit.report"}
VIEW = {"finding": "finding.view", "audit": "audit.view", "action": "action.view", "template": "template.edit",
        "document": "document.view", "competence_record": "competence.record.view", "area": "competence.gaps.view"}
CHANNELS = ("email", "digest", "app")


def _cache() -> dict:
    """What emit looks up (webhooks, supervisors, preferences), kept for one transaction:
    a push of 100 findings asks once, not 100 times."""
    session = db.session()
    transaction = session.get_transaction()
    cached = session.info.get("gemba_notify")
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info["gemba_notify"] = cached
    return cached[1]


def _cached(key, load):
    cache = _cache()
    if key not in cache:
        with db.session.no_autoflush:  # a lookup must not flush the batch's pending rows one by one
            cache[key] = load()
    return cache[key]


def _webhooks_for(kind: str) -> list[uuid.UUID]:
    """Active webhooks subscribed to `kind`."""
    hooks = _cached("webhooks", lambda: db.session.execute(
        select(Webhook.id, Webhook.events).where(Webhook.active.is_(True))).all())
    return [hook_id for hook_id, events in hooks if kind in (events or []) or "*" in (events or [])]


def forget_webhooks() -> None:
    _cache().pop("webhooks", None)


def channel_of(user: User, kind: str) -> str:
    chosen = _cached(("preferences", user.id), lambda: dict(db.session.execute(
        select(NotificationPreference.kind, NotificationPreference.channel)
        .where(NotificationPreference.user_id == user.id)).all()))
    return chosen.get(kind, "email")


def _add(model, values: dict) -> None:
    if not queue(model.__table__, values):
        db.session.add(model(**values))


def emit(kind: str, record, entity: str, data: dict, recipients=(), *, actor: User | None = None,
         title: str = "", body: str = "", link: str = "", at: datetime | None = None,
         dedupe: str | None = None, attachment: str | None = None) -> uuid.UUID:
    """Write event `kind` about `record` and tell `recipients` and the subscribed webhooks now.

    The worker's scan uses this; the services use `record_event`, whose audience the
    worker works out. A recipient who may not see `record` (or is the actor, or inactive)
    is skipped: no notification reveals what its recipient may not see.
    """
    event_id = _write_event(kind, record, entity, data, actor, at, dedupe, expanded=True)
    _fan_out(event_id, kind, record, entity, recipients, actor,
             {"title": title, "body": body, "link": link, "attachment": attachment})
    return event_id


def record_event(kind: str, record, entity: str, data: dict, actor: User | None = None) -> uuid.UUID:
    """Write event `kind` in the transaction of the change (one row, nothing looked up);
    `expand` (the worker) then writes who hears of it and the webhook deliveries."""
    return _write_event(kind, record, entity, data, actor, None, None, expanded=False)


def _write_event(kind, record, entity, data, actor, at, dedupe, expanded: bool) -> uuid.UUID:
    if not writing_together():  # queued rows are numbered under the lock when the batch writes them
        lock_ordered_writes()  # polling reads events in seq order: number them in commit order
    event_id = uuid.uuid4()
    _add(OutboxEvent, {"id": event_id, "kind": kind, "at": at or utcnow(), "entity": entity,
                       "entity_id": str(record.id), "site_id": site_of(record), "data": data,
                       "dedupe": dedupe, "actor_id": actor.id if actor else None, "expanded": expanded})
    return event_id


def _fan_out(event_id, kind: str, record, entity: str, recipients, actor, message: dict,
             now: datetime | None = None) -> None:
    now = now or utcnow()
    site = site_of(record)
    with db.session.no_autoflush:
        told = _told(recipients, actor, entity, record, kind, site)
    for person, channel in told:
        state = {"email": Delivery.PENDING, "digest": Delivery.DIGEST}.get(channel, Delivery.NONE)
        _add(Notification, {"user_id": person.id, "event_id": event_id, "kind": kind,
                            "title": (message["title"] or KINDS[kind])[:300], "body": message["body"],
                            "link": message["link"], "created_at": now, "email_state": state, "email_attempts": 0,
                            "email_next_at": now, "email_error": "", "attachment": message["attachment"]})
    for hook_id in _webhooks_for(kind):
        _add(WebhookDelivery, {"id": uuid.uuid4(), "webhook_id": hook_id, "event_id": event_id,
                               "state": Delivery.PENDING, "attempts": 0, "created_at": now, "next_at": now,
                               "last_error": ""})


def _may_see(person: User, entity: str, record, site) -> bool:
    """`can(person, "<entity>.view", record)`; a reviewer of the record's site sees every
    record there, which is asked once per person and site in a transaction."""
    if _cached(("reviews", person.id, site), lambda: reviews(person, _site(site)) if site else False):
        return person.active
    return can(person, VIEW[entity], record)


def _site(site_id):
    return db.session.get(Site, site_id)


def _told(recipients, actor, entity: str, record, kind: str, site=None) -> list[tuple[User, str]]:
    """The recipients who may see `record`, once each, without the actor, with their channel."""
    seen, told = set(), []
    for person in recipients:
        if person is None or person.id in seen or (actor is not None and person.id == actor.id):
            continue
        seen.add(person.id)
        if not person.active or not _may_see(person, entity, record, site):
            continue
        told.append((person, "email" if kind in CHOSEN else channel_of(person, kind)))
    return told


# Who hears of what --------------------------------------------------------------------

def supervisors_of(site_id) -> list[User]:
    """Active supervisors of a site: those who have it, and those who cover every site."""
    return _cached(("supervisors", site_id), lambda: _supervisors_of(site_id))


def _supervisors_of(site_id) -> list[User]:
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
    def load():
        area = db.session.get(Area, area_id)
        return db.session.get(User, area.responsible_id) if area and area.responsible_id else None
    return _cached(("responsible", area_id), load)


def _finding_data(finding: Finding) -> dict:
    area = db.session.get(Area, finding.area_id)
    return {"finding_id": str(finding.id), "kind": finding.kind, "title": finding.title,
            "site_id": str(area.site_id) if area else None,
            "area_id": str(finding.area_id), "area": area.label if area else "", "status": finding.status}


def _audit_data(audit: Audit) -> dict:
    area = db.session.get(Area, audit.area_id)
    return {"audit_id": str(audit.id), "area_id": str(audit.area_id), "area": area.label if area else "",
            "site_id": str(area.site_id) if area else None,
            "status": audit.status, "auditor_id": str(audit.auditor_id) if audit.auditor_id else None,
            "planned_date": audit.planned_date.isoformat() if audit.planned_date else None}


def _action_data(action: CorrectiveAction) -> dict:
    return {"action_id": str(action.id), "finding_id": str(action.finding_id), "plan": action.plan,
            "owner_id": str(action.owner_id) if action.owner_id else None,
            "due_date": action.due_date.isoformat() if action.due_date else None, "status": action.status}


# Hooks the services call: one row each, in the change's transaction ----------------------

def finding_raised(actor: User, finding: Finding) -> None:
    """Every finding is an event (webhooks, polling); a major NC also tells people (`AUDIENCES`)."""
    record_event("finding.raised", finding, "finding", _finding_data(finding), actor)


def audit_submitted(actor: User, audit: Audit) -> None:
    record_event("audit.submitted", audit, "audit", _audit_data(audit) | {"score": audit.score}, actor)


def audit_decided(actor: User, audit: Audit, kind: str, comment: str) -> None:
    """Returned or rejected: its auditor learns why."""
    record_event(kind, audit, "audit", _audit_data(audit) | {"comment": comment}, actor)


def audit_planned(actor: User, audit: Audit, kind: str = "audit.planned") -> None:
    if audit.auditor_id is not None:
        record_event(kind, audit, "audit", _audit_data(audit), actor)


def action_assigned(actor: User, action: CorrectiveAction) -> None:
    if action.owner_id is not None:
        record_event("action.assigned", action, "action", _action_data(action), actor)


# Who hears of an event the services recorded, worked out by the worker ------------------------

def _user(user_id) -> User | None:
    return db.session.get(User, uuid.UUID(user_id)) if user_id else None


def _finding_audience(event, finding, actor):
    if event.data.get("kind") != FindingKind.MAJOR_NC:
        return [], {}
    data = event.data
    return [_responsible(finding.area_id), *supervisors_of(site_of(finding))], {
        "title": f"Major nonconformity: {data['title']}", "link": f"/findings/{finding.id}",
        "body": f"{data['area']}: {data['title']}\n\n{finding.description or ''}".strip()}


def _submitted_audience(event, audit, actor):
    who = actor.name if actor else "The auditor"
    return reviewers_of(audit), {"title": f"Audit submitted for review: {event.data['area']}",
                                 "link": f"/audits/{audit.id}",
                                 "body": f"{who} submitted the audit of {event.data['area']}."}


def _decided_audience(event, audit, actor):
    verb = "returned" if event.kind == "audit.returned" else "rejected"
    return [_user(event.data.get("auditor_id"))], {
        "title": f"Your audit of {event.data['area']} was {verb}", "link": f"/audits/{audit.id}",
        "body": f"{actor.name if actor else 'A supervisor'} {verb} it:\n\n{event.data.get('comment', '')}"}


def _planned_audience(event, audit, actor):
    from .calendars import audit_invitation  # noqa: PLC0415 - calendars imports this module
    data = event.data
    return [_user(data.get("auditor_id"))], {
        "title": f"Audit of {data['area']} on {data['planned_date']}", "link": f"/audits/{audit.id}",
        "body": f"{actor.name if actor else 'A planner'} planned an audit of {data['area']} for you on "
                f"{data['planned_date']}.", "attachment": audit_invitation(audit)}


def _assigned_audience(event, action, actor):
    finding = action.finding
    return [_user(event.data.get("owner_id"))], {
        "title": f"Corrective action for: {finding.title}", "link": f"/findings/{finding.id}",
        "body": f"{event.data.get('plan', '')}\n\nDue {event.data.get('due_date') or 'without a date'}."}


def _report_audience(event, audit, actor):
    note = event.data.get("note", "")
    who = actor.name if actor else "Someone"
    return [_user(user_id) for user_id in event.data.get("recipients", [])], {
        "title": f"Audit report: {event.data['area']}", "link": f"/audits/{audit.id}",
        "body": f"{who} sent you the report of the audit of {event.data['area']} (PDF attached)."
                + (f"\n\n{note}" if note else "")}


def report_recipients(audit: Audit) -> list[User]:
    """The active people who may see `audit`: whom its report may be sent to."""
    people = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [person for person in people if can(person, "audit.view", audit)]


def send_report(actor: User, audit: Audit, recipient_ids, note: str = "") -> int:
    """Email `audit`'s PDF report to the chosen people, each of whom must be able to see it.

    The worker renders the PDF for each recipient as they would see it and attaches it.
    :raise Invalid: without recipients, or naming one who may not see the audit.
    """
    require(actor, "audit.view", audit)
    errors = FieldErrors()
    note = errors.text("note", note, "comment")
    people = []
    for value in recipient_ids or []:
        person = db.session.get(User, value if isinstance(value, uuid.UUID) else uuid_or_none(value))
        if person is None or not person.active or not can(person, "audit.view", audit):
            errors.add("recipients", "Choose people who may see this audit.")
            break
        people.append(person)
    if not people and "recipients" not in errors:
        errors.add("recipients", "Choose at least one person.")
    errors.raise_if_any("The report cannot be sent.")
    record_event("audit.report", audit, "audit", _audit_data(audit) | {
        "recipients": sorted({str(p.id) for p in people}), "note": note}, actor)
    trail.record(actor, "audit.report_sent", "audit", audit.id, {"to": sorted(p.email for p in people)})
    return len({p.id for p in people})


AUDIENCES = {
    "audit.report": _report_audience,
    "finding.raised": _finding_audience,
    "audit.submitted": _submitted_audience,
    "audit.returned": _decided_audience,
    "audit.rejected": _decided_audience,
    "audit.planned": _planned_audience,
    "audit.assigned": _planned_audience,
    "action.assigned": _assigned_audience,
}
MODELS = {"finding": Finding, "audit": Audit, "action": CorrectiveAction}


def expand(limit: int = 500, now: datetime | None = None) -> int:
    """Write the notifications and webhook deliveries of recorded events, each event once.

    Claimed with FOR UPDATE SKIP LOCKED and marked expanded in the same transaction, so
    two workers never expand one event and a crash leaves it for the next round. Flushes;
    the caller commits.
    """
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.expanded.is_(False))
                                .order_by(OutboxEvent.seq).limit(limit).with_for_update(skip_locked=True)).all()
    wanted: dict = {}
    for event in events:
        wanted.setdefault(event.entity, set()).add(uuid.UUID(event.entity_id))
    for entity, ids in wanted.items():  # one query per kind of record, not one per event
        db.session.scalars(select(MODELS[entity]).where(MODELS[entity].id.in_(ids))).all()
    actors = {event.actor_id for event in events if event.actor_id}
    if actors:
        db.session.scalars(select(User).where(User.id.in_(actors))).all()
    with rows_together():  # the notifications and deliveries go in with one statement per table
        for event in events:
            record = db.session.get(MODELS[event.entity], uuid.UUID(event.entity_id))
            actor = _user(str(event.actor_id)) if event.actor_id else None
            recipients, message = AUDIENCES[event.kind](event, record, actor) if record is not None else ([], {})
            recipients = _there_at(recipients, event.at)
            _fan_out(event.id, event.kind, record, event.entity, recipients, None if event.kind in CHOSEN else actor,
                     {"title": "", "body": "", "link": "", "attachment": None} | message, now)
            event.expanded = True
    return len(events)


def _there_at(recipients, at: datetime) -> list:
    """The recipients whose accounts existed when the event happened: the audience it would have
    had expanded at once. A person added while it waited (the worker behind or down) does not
    hear of what happened before they were here."""
    return [person for person in recipients if person is not None and person.created_at <= at]


# Events from the passing of time (the worker runs this) --------------------------------------

def _once(dedupe: str) -> bool:
    return db.session.scalar(select(OutboxEvent.seq).where(OutboxEvent.dedupe == dedupe)) is None


# The furthest-ahead time zone (UTC+14): no site's local date is later than UTC's plus this.
_AHEAD = timedelta(hours=14)


def _local_days(today: date | None, now: datetime):
    """`day(area)`: the local date of the area's site, as the register counts "due" and
    "overdue" (an action due on the 5th in Tokyo is overdue from Tokyo's midnight, not
    London's); `today` given, that day everywhere (tests, back-dated runs)."""
    if today is not None:
        return lambda area: today
    return lambda area: organisation.local_today(area, now)


def scan(today: date | None = None, now: datetime | None = None) -> int:
    """Emit due-soon, overdue, escalation, effectiveness-check and not-started events, each once.

    An action's due date, an effectiveness check's and a planned audit's date are the local
    days of their site (`_local_days`): a reminder and the register's "overdue" agree. Dates
    with no site (checklist and document reviews, competence) are UTC days.
    """
    now = now or utcnow()
    day_of = _local_days(today, now)
    latest = today or (now + _AHEAD).date()  # no site is past this date yet
    today = today or now.date()
    config = current_app.config
    soon_days = timedelta(days=config.get("NOTIFY_DUE_SOON_DAYS", 3))
    escalate = config.get("NOTIFY_ESCALATE_DAYS", 14)
    count = 0
    open_actions = db.session.scalars(
        select(CorrectiveAction).where(CorrectiveAction.status == "open", CorrectiveAction.owner_id.is_not(None),
                                       CorrectiveAction.due_date <= latest + soon_days))
    for action in open_actions:
        finding = action.finding
        local = day_of(finding.area)
        if action.due_date > local + soon_days:
            continue
        owner = db.session.get(User, action.owner_id)
        late = (local - action.due_date).days
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
        CorrectiveAction.status == "done", CorrectiveAction.effectiveness_due <= latest))
    for action in checks:
        if action.effectiveness_due > day_of(action.finding.area):
            continue
        key = f"action.check_due:{action.id}:{action.effectiveness_due}"
        if _once(key):
            emit("action.check_due", action, "action", _action_data(action), reviewers_of(action), dedupe=key,
                 title=f"Effectiveness check due: {action.finding.title}", link=f"/findings/{action.finding_id}")
            count += 1
    stale = db.session.scalars(select(Template).where(Template.status == TemplateStatus.PUBLISHED,
                                                      Template.review_due < today))
    for template in stale:
        key = f"checklist.review_due:{template.id}:{template.review_due}"
        if _once(key):
            creator = db.session.get(User, template.created_by_id) if template.created_by_id else None
            people = [creator] if creator is not None and creator.active and can(creator, "template.edit") else \
                list(db.session.scalars(select(User).where(User.role == Role.ADMIN, User.active.is_(True))))
            emit("checklist.review_due", template, "template",
                 {"template_id": str(template.id), "name": template.name, "version": template.version,
                  "review_due": template.review_due.isoformat()}, people, dedupe=key,
                 title=f"Checklist past its review date: {template.name} (due {template.review_due})",
                 link=f"/checklists/{template.id}")
            count += 1
    late_audits = db.session.scalars(select(Audit).where(Audit.status == "planned", Audit.planned_date < latest))
    for audit in late_audits:
        if audit.planned_date >= day_of(audit.area):
            continue
        key = f"audit.not_started:{audit.id}:{audit.planned_date}"
        if _once(key):
            people = [audit.auditor, *reviewers_of(audit)]
            emit("audit.not_started", audit, "audit", _audit_data(audit), people, dedupe=key,
                 title=f"Planned audit not started: {audit.area.label} ({audit.planned_date})",
                 link=f"/audits/{audit.id}")
            count += 1
    count += _document_reviews(today, config.get("DOCUMENT_REVIEW_NOTICE_DAYS", 30))
    return count + competence_notices(today)


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


# Competences: expiring, expired, required and missing ----------------------------------------

GAP_LINES = 50  # a missing-competence notice lists this many people x competences, then says how many more


def _told_already(keys: list[str]) -> set[str]:
    """Of `keys`, those an event was already written for: one query per 500, not one per key."""
    told: set[str] = set()
    for start in range(0, len(keys), 500):
        told |= set(db.session.scalars(select(OutboxEvent.dedupe).where(OutboxEvent.dedupe.in_(keys[start:start + 500]))))
    return told


def competence_notices(today: date) -> int:
    """Tell people of competences expiring within `COMPETENCE_EXPIRING_DAYS` (the matrix's window)
    and of those that expired in the last `COMPETENCE_EXPIRED_NOTICE_DAYS` (each record once per
    expiry: the holder and their home area's responsible person; the site's supervisors too once
    expired), and each week an area's responsible person and its site's supervisors of the
    people there who lack a competence their role or area requires."""
    config = current_app.config
    soon = today + timedelta(days=config.get("COMPETENCE_EXPIRING_DAYS", 30))
    since = today - timedelta(days=config.get("COMPETENCE_EXPIRED_NOTICE_DAYS", 30))
    rows = db.session.execute(
        select(CompetenceRecord, Competence.name)
        .join(Competence, Competence.id == CompetenceRecord.competence_id)
        .join(User, User.id == CompetenceRecord.user_id)
        .where(User.active.is_(True), CompetenceRecord.expires_on.is_not(None),
               CompetenceRecord.expires_on >= since, CompetenceRecord.expires_on <= soon)
        .order_by(CompetenceRecord.expires_on)).all()
    keys = {record.id: (f"competence.{'expired' if record.expires_on < today else 'expiring'}:"
                        f"{record.id}:{record.expires_on}") for record, _ in rows}
    told = _told_already(list(keys.values()))
    count = 0
    for record, name in rows:
        key = keys[record.id]
        if key in told:
            continue
        person = db.session.get(User, record.user_id)
        area_id = person.home_area_id
        expired = record.expires_on < today
        people = [person, _responsible(area_id) if area_id else None]
        if expired and area_id:
            people += supervisors_of(db.session.get(Area, area_id).site_id)
        kind = "competence.expired" if expired else "competence.expiring"
        emit(kind, record, "competence_record",
             {"competence_record_id": str(record.id), "user_id": str(person.id), "person": person.name,
              "competence_id": str(record.competence_id), "competence": name,
              "expires_on": record.expires_on.isoformat(), "area_id": str(area_id) if area_id else None},
             people, dedupe=key, link="/competences",
             title=f"{person.name}: {name} {'expired on' if expired else 'expires on'} {record.expires_on}")
        count += 1
    return count + _competence_gaps(today)


def missing_competences_query():
    """(person id, home area id, competence id) for each active person lacking a competence their
    role, their home area, or both require: no record at all (an expired one is expired, not missing)."""
    requirement = CompetenceRequirement
    applies = or_(and_(requirement.role == User.role, requirement.area_id.is_(None)),
                  and_(requirement.area_id == User.home_area_id, requirement.role.is_(None)),
                  and_(requirement.role == User.role, requirement.area_id == User.home_area_id))
    held = exists().where(CompetenceRecord.user_id == User.id, CompetenceRecord.competence_id == requirement.competence_id)
    return (select(User.id, User.home_area_id, requirement.competence_id).distinct()
            .join(requirement, applies).where(User.active.is_(True), User.home_area_id.is_not(None), ~held))


def _competence_gaps(today: date) -> int:
    """A weekly notice per area with people who lack a required competence (while any do)."""
    gaps: dict = {}
    for user_id, area_id, competence_id in db.session.execute(missing_competences_query()):
        gaps.setdefault(area_id, []).append((user_id, competence_id))
    if not gaps:
        return 0
    year, week, _ = today.isocalendar()
    keys = {area_id: f"competence.missing:{area_id}:{year}-W{week:02d}" for area_id in gaps}
    told = _told_already(list(keys.values()))
    people = dict(db.session.execute(select(User.id, User.name).where(
        User.id.in_({user_id for pairs in gaps.values() for user_id, _ in pairs}))).all())
    names = dict(db.session.execute(select(Competence.id, Competence.name)).all())
    count = 0
    for area_id, pairs in gaps.items():
        if keys[area_id] in told:
            continue
        area = db.session.get(Area, area_id)
        lines = sorted(f"{people[user_id]}: {names[competence_id]}" for user_id, competence_id in pairs)
        body = "\n".join(lines[:GAP_LINES]) + (f"\n... and {len(lines) - GAP_LINES} more." if len(lines) > GAP_LINES else "")
        emit("competence.missing", area, "area",
             {"area_id": str(area_id), "area": area.label, "site_id": str(area.site_id), "missing": len(pairs),
              "people": len({user_id for user_id, _ in pairs})},
             [_responsible(area_id), *supervisors_of(area.site_id)], dedupe=keys[area_id],
             link=f"/competences?area={area_id}",
             title=f"{area.label}: {len(pairs)} required competence{'s' if len(pairs) != 1 else ''} missing",
             body=body)
        count += 1
    return count
