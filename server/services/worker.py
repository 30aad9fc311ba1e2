"""The worker: sends what the outbox holds - emails, daily digests, webhook deliveries.

Claiming: a batch of due rows is taken with `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite
serialises writers anyway) and leased by moving its `next_at` a few minutes ahead, then
committed; so several workers share the queue and a worker killed mid-batch leaves rows
that come due again when the lease runs out. Each result is committed as soon as it is
known (an email: after each message; webhooks: every 64 results), so a restart
repeats at most what was in flight or unrecorded - with the same Message-ID or X-Gemba-Delivery key, so
the receiver can tell. Failures retry with exponential backoff capped at an hour, for
`NOTIFY_RETRY_HOURS` (48 by default, at least 24) from the first attempt, then give up.
"""

import hashlib
import hmac
import http.client
import json
import queue
import smtplib
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html import escape
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from ..extensions import db
from ..errors import NotAllowed
from ..models import Audit, Delivery, Notification, OutboxEvent, User, Webhook, WebhookDelivery, utcnow
from ..permissions import can
from . import checkpoints, notify

BACKOFF_START = 30  # seconds; doubles each attempt
BACKOFF_CAP = 3600
SENDERS = 8  # webhook POSTs in parallel
RECORD_EVERY = 64  # webhook results written per commit


@dataclass
class Round:
    emails: int = 0
    digests: int = 0
    webhooks: int = 0
    failed: int = 0
    events: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_START * 2 ** max(attempts - 1, 0), BACKOFF_CAP))


def _retry_window() -> timedelta:
    return timedelta(hours=max(current_app.config.get("NOTIFY_RETRY_HOURS", 48), 24))


def _claim(model, state_col, due_col, now: datetime, limit: int, state=Delivery.PENDING):
    """Lease up to `limit` due rows of `model` for this worker; commit; return them."""
    ids = db.session.scalars(
        select(model.id).where(state_col == state, due_col <= now).order_by(due_col, model.id).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not ids:
        db.session.commit()
        return []
    db.session.execute(update(model).where(model.id.in_(ids)).values({due_col.key: _lease_end(now)}))
    db.session.commit()
    return db.session.scalars(select(model).where(model.id.in_(ids)).order_by(model.id)).all()


# Email ---------------------------------------------------------------------------------------

def _link(path: str) -> str:
    base = current_app.config.get("BASE_URL", "")
    return f"{base.rstrip('/')}{path}" if path else ""


def compose(notification: Notification, to: User) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["SMTP_FROM"]
    message["To"] = to.email
    message["Subject"] = f"Gemba: {notification.title}"
    # The same on every attempt, so a repeat after a crash is recognisable as one.
    message["Message-ID"] = f"<notification-{notification.id}-{notification.event_id}@gemba>"
    link = _link(notification.link)
    text = f"Hello {to.name},\n\n{notification.title}\n\n{notification.body}\n"
    if link:
        text += f"\nOpen it: {link}\n"
    text += "\nChoose how you hear of this on your account page in the register.\n"
    message.set_content(text)
    body_html = escape(notification.body).replace("\n", "<br>")
    html = (f"<p>Hello {escape(to.name)},</p><p><strong>{escape(notification.title)}</strong></p>"
            f"<p>{body_html}</p>" + (f'<p><a href="{escape(link)}">Open it in Gemba</a></p>' if link else ""))
    message.add_alternative(f"<!doctype html><html><body>{html}</body></html>", subtype="html")
    if notification.attachment:
        message.add_attachment(notification.attachment.encode(), maintype="text", subtype="calendar",
                               filename="audit.ics", params={"method": "PUBLISH"})
    if notification.kind == "audit.report":
        _attach_report(message, notification, to)
    return message


def _attach_report(message: EmailMessage, notification: Notification, to: User) -> None:
    """The audit's PDF as `to` would see it (who may no longer see it is sent no PDF)."""
    from .reports import audit_pdf, pack_name  # noqa: PLC0415 - reportlab loads only when needed
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.id == notification.event_id))
    audit = db.session.get(Audit, uuid.UUID(event.entity_id)) if event else None
    if audit is None or not can(to, "audit.view", audit):
        raise NotAllowed("The recipient may no longer see this audit.")
    message.add_attachment(audit_pdf(to, audit), maintype="application", subtype="pdf",
                           filename=f"{pack_name(audit)}.pdf")


def _smtp() -> smtplib.SMTP:
    config = current_app.config
    return smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config.get("SMTP_TIMEOUT", 30))


def _failed(row, attempts_attr: str, next_attr: str, error_attr: str, state_attr: str, error: str,
            now: datetime, started: datetime) -> bool:
    """Count a failed attempt; True when the row gave up."""
    attempts = getattr(row, attempts_attr) + 1
    setattr(row, attempts_attr, attempts)
    setattr(row, error_attr, error[:300])
    if now - started >= _retry_window():
        setattr(row, state_attr, Delivery.FAILED)
        return True
    setattr(row, next_attr, now + backoff(attempts))
    return False


def send_emails(now: datetime, result: Round, batch: int = 50) -> None:
    rows = _claim(Notification, Notification.email_state, Notification.email_next_at, now, batch)
    if not rows:
        return
    try:
        smtp = _smtp()
    except OSError as exc:  # the SMTP server is down: every claimed row waits its backoff
        for row in rows:
            result.failed += _failed(row, "email_attempts", "email_next_at", "email_error", "email_state",
                                     f"SMTP: {exc}", now, row.created_at)
        db.session.commit()
        result.errors.append(f"SMTP: {exc}")
        return
    deadline = time.monotonic() + _lease().total_seconds()
    with smtp:
        for row in rows:
            if time.monotonic() + current_app.config.get("SMTP_TIMEOUT", 30) >= deadline:
                break  # the lease could run out mid-send: the rest wait for a later claim
            user = db.session.get(User, row.user_id)
            try:
                smtp.send_message(compose(row, user))
            except NotAllowed as exc:
                row.email_state, row.email_error = Delivery.FAILED, exc.message[:300]
                result.failed += 1
            except smtplib.SMTPRecipientsRefused as exc:
                row.email_state, row.email_error = Delivery.FAILED, str(exc)[:300]
                result.failed += 1
            except (OSError, smtplib.SMTPException) as exc:
                result.failed += _failed(row, "email_attempts", "email_next_at", "email_error", "email_state",
                                         f"SMTP: {exc}", now, row.created_at)
                db.session.commit()
                result.errors.append(f"SMTP: {exc}")
                break  # the rest keep their lease and come due again
            else:
                row.email_state, row.email_sent_at = Delivery.SENT, utcnow()
                result.emails += 1
            db.session.commit()


def digest_due(now: datetime) -> datetime:
    """The moment today's digest goes out (NOTIFY_DIGEST_HOUR, UTC); notifications before it are in it."""
    hour = current_app.config.get("NOTIFY_DIGEST_HOUR", 7)
    moment = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment if moment <= now else moment - timedelta(days=1)


def send_digests(now: datetime, result: Round) -> None:
    cutoff = digest_due(now)
    people = db.session.scalars(select(Notification.user_id).where(
        Notification.email_state == Delivery.DIGEST, Notification.created_at < cutoff).distinct()).all()
    db.session.commit()
    for user_id in people:
        rows = db.session.scalars(select(Notification).where(
            Notification.user_id == user_id, Notification.email_state == Delivery.DIGEST,
            Notification.created_at < cutoff).order_by(Notification.id).with_for_update(skip_locked=True)).all()
        if not rows:
            db.session.commit()
            continue
        user = db.session.get(User, user_id)
        message = EmailMessage()
        message["From"] = current_app.config["SMTP_FROM"]
        message["To"] = user.email
        message["Subject"] = f"Gemba: your daily digest ({len(rows)})"
        message["Message-ID"] = f"<digest-{user_id}-{rows[-1].id}@gemba>"
        lines = [f"Hello {user.name},", ""]
        items = []
        for row in rows:
            link = _link(row.link)
            lines += [f"- {row.title}", *( [f"  {link}"] if link else [])]
            items.append(f"<li>{escape(row.title)}" + (f' - <a href="{escape(link)}">open</a>' if link else "")
                         + "</li>")
        message.set_content("\n".join(lines) + "\n")
        message.add_alternative(f"<!doctype html><html><body><p>Hello {escape(user.name)},</p>"
                                f"<ul>{''.join(items)}</ul></body></html>", subtype="html")
        try:
            with _smtp() as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            db.session.rollback()
            result.errors.append(f"SMTP: {exc}")
            return  # tried again on the next round
        sent_at = utcnow()
        for row in rows:
            row.email_state, row.email_sent_at = Delivery.SENT, sent_at
        db.session.commit()
        result.digests += 1


# Webhooks ------------------------------------------------------------------------------------

def body_of(event: OutboxEvent) -> bytes:
    """A delivery's JSON body; the same bytes on every attempt."""
    return _body(event.id, event.kind, event.at, event.data)


def _body(event_id, kind: str, at: datetime, data: dict) -> bytes:
    return json.dumps({"id": str(event_id), "kind": kind, "at": at.isoformat(), "data": data},
                      separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


_connections = threading.local()


def _post(url: str, body: bytes, headers: dict, timeout: float) -> int:
    """POST over a kept-alive connection of this thread; the status, or raise OSError."""
    parts = urlsplit(url)
    key = (parts.scheme, parts.netloc)
    pool = getattr(_connections, "pool", None)
    if pool is None:
        pool = _connections.pool = {}
    for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
        connection = pool.get(key)
        if connection is None:
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connection = pool[key] = cls(parts.netloc, timeout=timeout)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.will_close:
                connection.close()
                pool.pop(key, None)
            return response.status
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            connection.close()
            pool.pop(key, None)
            if attempt == 2:
                raise
        except (OSError, http.client.HTTPException):
            connection.close()
            pool.pop(key, None)
            raise
    raise OSError("unreachable")


def _attempt(job: tuple) -> tuple:
    delivery_id, url, secret, kind, event, timeout = job
    body = _body(*event)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "Gemba-Webhooks/1",
               "X-Gemba-Event": kind, "X-Gemba-Delivery": str(delivery_id),
               "X-Gemba-Timestamp": timestamp, "X-Gemba-Signature": signature(secret, timestamp, body)}
    try:
        status = _post(url, body, headers, timeout)
    except (OSError, http.client.HTTPException) as exc:
        return delivery_id, None, f"{type(exc).__name__}: {exc}"
    return delivery_id, status, "" if 200 <= status < 300 else f"HTTP {status}"


_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="gemba-webhook")
    return _pool


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config.get("WORKER_LEASE_SECONDS", 300))


def _lease_end(now: datetime) -> datetime:
    """When a claim made now runs out: counted from the clock, not from when the round began
    (a slow round must not claim rows already due again for another worker)."""
    return max(now, datetime.now(UTC)) + _lease()


def _among(column, ids: list):
    """`column IN ids`; on PostgreSQL one array parameter (`= ANY(...)`), not one per id."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(column.type)))
    return column.in_(ids)


def _claim_ids(table, now: datetime, limit: int) -> list:
    """Lease up to `limit` due webhook deliveries for this worker; commit; return their ids."""
    c = table.c
    ids = db.session.scalars(select(c.id).where(c.state == Delivery.PENDING, c.next_at <= now)
                             .order_by(c.next_at, c.id).limit(limit).with_for_update(skip_locked=True)).all()
    if ids:
        db.session.execute(update(table).where(_among(c.id, ids)).values(next_at=_lease_end(now)))
    db.session.commit()
    return ids


def deliver_webhooks(now: datetime, result: Round, batch: int = 200) -> None:
    deliveries, events, hooks = WebhookDelivery.__table__, OutboxEvent.__table__, Webhook.__table__
    ids = _claim_ids(deliveries, now, batch)
    if not ids:
        return
    deadline = time.monotonic() + _lease().total_seconds()  # no POST may still run when the lease ends
    d, e, h = deliveries.c, events.c, hooks.c
    # Plain rows, not ORM objects: nothing to expire at each commit below.
    rows = db.session.execute(
        select(d.id, d.attempts, d.created_at, h.url, h.secret, h.active, e.id, e.kind, e.at, e.data)
        .join_from(deliveries, hooks, d.webhook_id == h.id).join(events, d.event_id == e.id)
        .where(_among(d.id, ids)).order_by(d.next_at, d.id)).all()
    timeout = current_app.config.get("WEBHOOK_TIMEOUT", 10)
    known = {row[0]: (row[1], row[2]) for row in rows}
    off = [{"delivery_id": row[0], "state": Delivery.FAILED, "last_error": "The webhook was switched off."}
           for row in rows if not row[5]]
    if off:
        db.session.execute(_RECORD, off)
    db.session.commit()
    jobs = [(row[0], row[3], row[4], row[7], (row[6], row[7], row[8], row[9]), timeout) for row in rows if row[5]]
    window = _retry_window()
    # Senders take a slot before each POST and the slot is given back once its result is
    # committed; results are written RECORD_EVERY at a time, one statement and one commit.
    # So a worker killed now repeats at most SENDERS + RECORD_EVERY deliveries, each with
    # its idempotency key.
    todo, outcomes = queue.SimpleQueue(), queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    slots = threading.Semaphore(SENDERS + RECORD_EVERY)

    def sender():
        while True:
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            slots.acquire()
            if time.monotonic() + timeout >= deadline:
                outcomes.put((job[0], None, None))  # the lease may run out mid-POST: leave it to a later claim
                continue
            try:
                outcomes.put(_attempt(job))
            except BaseException as exc:  # never leave the recorder waiting
                outcomes.put((job[0], None, f"{type(exc).__name__}: {exc}"))

    for _ in range(min(SENDERS, len(jobs))):
        _executor().submit(sender)
    received, buffer = 0, []
    while received < len(jobs):
        buffer.append(outcomes.get())
        received += 1
        if len(buffer) >= RECORD_EVERY or received == len(jobs):
            _record(buffer, known, now, window, result)
            for _ in buffer:
                slots.release()
            buffer = []


_RECORD = WebhookDelivery.__table__.update().where(WebhookDelivery.__table__.c.id == bindparam("delivery_id"))


def _record(outcomes: list[tuple], known: dict, now: datetime, window: timedelta, result: Round) -> None:
    rows = []
    sent_at = utcnow()
    for delivery_id, status, error in outcomes:
        if error is None:
            continue  # not sent: its lease runs out and another round claims it
        attempts, started = known[delivery_id]
        row = {"delivery_id": delivery_id, "attempts": attempts + 1, "last_status": status,
               "last_error": error[:300], "state": Delivery.PENDING, "delivered_at": None, "next_at": None}
        if not error:
            row |= {"state": Delivery.SENT, "delivered_at": sent_at}
            result.webhooks += 1
        elif now - started >= window:
            row["state"] = Delivery.FAILED
            result.failed += 1
        else:
            row["next_at"] = now + backoff(attempts + 1)
        rows.append(row)
    if rows:
        db.session.execute(_RECORD, rows)  # SET from each row's keys (one executemany)
    db.session.commit()


# The loop ------------------------------------------------------------------------------------

def run_once(now: datetime | None = None, scan: bool = True) -> Round:
    """One round: compute time-based events, then send what is due."""
    given = now
    now = now or datetime.now(UTC)
    result = Round()
    if scan:
        result.events = notify.scan(now=now)
        db.session.commit()
        # The trail's head is signed as often as the scan runs (hourly under `gemba worker`),
        # so deleting the newest events is caught by `gemba trail verify` without a cron job.
        checkpoints.checkpoint(now)
        db.session.commit()
    notify.forget_webhooks()
    now = given or datetime.now(UTC)  # what the scan wrote is due now
    while notify.expand(now=now):
        db.session.commit()
    db.session.commit()
    while True:
        before = result.emails + result.webhooks + result.failed
        send_emails(now, result)
        deliver_webhooks(now, result)
        if result.emails + result.webhooks + result.failed == before or result.errors:
            break
    send_digests(now, result)
    return result


def run_forever(interval: float = 5.0, scan_every: float = 3600.0, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    last_scan = 0.0
    while not stop.is_set():
        scan = time.monotonic() - last_scan >= scan_every
        try:
            run_once(scan=scan)
            if scan:
                last_scan = time.monotonic()
        except Exception as exc:  # a database hiccup: log it and try again next round
            db.session.rollback()
            current_app.logger.exception("worker round failed: %s", exc)
        stop.wait(interval)
