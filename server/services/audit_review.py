"""The supervisor's review: the queue, and approving, returning, rejecting, reopening audits
and triaging incoming findings.

Every decision changes a versioned record (so devices pull it), publishes it to the feed
and leaves an event in the trail. A return, a rejection and a reopening carry a comment
so the auditor learns why on the next sync.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..errors import StateError
from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import (
    Audit,
    AuditStatus,
    Conflict,
    ConflictStatus,
    Finding,
    FindingStatus,
    User,
    happened_at,
)
from ..permissions import require, scope_areas
from . import notify, trail, transitions
from .audits import publish_audit
from .comments import add_comment
from .findings import publish_finding

QUEUE_LIMIT = 200


@dataclass
class ReviewQueue:
    audits: list[Audit]
    findings: list[Finding]
    audit_count: int
    finding_count: int
    open_conflicts: int


def untriaged_findings():
    """The findings no supervisor has taken up yet."""
    return select(Finding).where(Finding.status == FindingStatus.OPEN, Finding.triaged_at.is_(None))


def queue(user: User, limit: int = QUEUE_LIMIT) -> ReviewQueue:
    """What waits for a supervisor: submitted audits, new findings, open conflicts."""
    require(user, "audit.review")
    submitted = select(Audit).where(Audit.status == AuditStatus.SUBMITTED, scope_areas(user, Audit.area_id))
    untriaged = untriaged_findings().where(scope_areas(user, Finding.area_id))
    audits = db.session.scalars(
        submitted.options(joinedload(Audit.area), joinedload(Audit.auditor), joinedload(Audit.template))
        .order_by(Audit.submitted_at.asc().nulls_last(), Audit.created_at).limit(limit)
    ).all()
    findings = db.session.scalars(
        untriaged.options(joinedload(Finding.area), joinedload(Finding.raised_by))
        .order_by(Finding.received_at).limit(limit)
    ).all()
    return ReviewQueue(
        audits=list(audits),
        findings=list(findings),
        audit_count=_count(submitted),
        finding_count=_count(untriaged),
        open_conflicts=db.session.scalar(
            select(func.count()).select_from(Conflict)
            .where(Conflict.status == ConflictStatus.OPEN, scope_areas(user, Conflict.area_id))
        ),
    )


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _text(value, field: str, label: str, required: bool = True) -> str:
    errors = FieldErrors()
    text = errors.text(field, value, "reason" if field == "reason" else "comment", required=required, label=label)
    errors.raise_if_any(f"{label} is not valid.")
    return text


def _decide(user: User, audit: Audit, new_status: str, action: str, note: str = "", at=None,
            permission: str = "audit.decide") -> Audit:
    require(user, permission, audit)
    transitions.check_audit(audit, new_status)
    old_status = audit.status
    audit.status = new_status
    audit.reviewed_at = happened_at(at)
    audit.reviewed_by_id = user.id
    audit.bump(["status", "reviewed_at", "reviewed_by_id"])
    db.session.flush()
    publish_audit(audit)
    changes = {"status": [old_status, new_status]}
    if note:
        changes["reason"] = note
    trail.record(user, action, "audit", audit.id, changes)
    return audit


def approve(user: User, audit: Audit, comment: str = "", at: datetime | None = None) -> Audit:
    """Approve a submitted audit; it is locked until reopened with a reason.

    :raise StateError: unless the audit is submitted.
    """
    comment = _text(comment, "comment", "The comment", required=False)
    _decide(user, audit, AuditStatus.APPROVED, "audit.approved", comment, at)
    if comment:
        add_comment(user, comment, audit=audit, at=at)
    return audit


def return_audit(user: User, audit: Audit, comment: str, at: datetime | None = None) -> Audit:
    """Send a submitted audit back to its auditor with a comment saying what to fix.

    :raise Invalid: without a comment. :raise StateError: unless the audit is submitted.
    """
    comment = _text(comment, "comment", "A comment for the auditor")
    # The table also lets approved audits become returned, but that is `reopen`.
    _require_status(audit, (AuditStatus.SUBMITTED,), "returned")
    _decide(user, audit, AuditStatus.RETURNED, "audit.returned", comment, at)
    add_comment(user, comment, audit=audit, at=at)
    notify.audit_decided(user, audit, "audit.returned", comment)
    return audit


def reject(user: User, audit: Audit, reason: str, at: datetime | None = None) -> Audit:
    """Reject a submitted audit, saying why. :raise Invalid: without a reason."""
    reason = _text(reason, "reason", "A reason")
    _decide(user, audit, AuditStatus.REJECTED, "audit.rejected", reason, at)
    add_comment(user, reason, audit=audit, prefix="Rejected: ", at=at)
    notify.audit_decided(user, audit, "audit.rejected", reason)
    return audit


def reopen(user: User, audit: Audit, reason: str) -> Audit:
    """Reopen an approved or rejected audit (it goes back to the auditor as returned).

    :raise Invalid: without a reason. :raise StateError: unless approved or rejected.
    """
    reason = _text(reason, "reason", "A reason for reopening")
    _require_status(audit, (AuditStatus.APPROVED, AuditStatus.REJECTED), "reopened")
    _decide(user, audit, AuditStatus.RETURNED, "audit.reopened", reason, permission="audit.review")
    add_comment(user, reason, audit=audit, prefix="Reopened: ")
    return audit


def _require_status(audit: Audit, allowed: tuple, verb: str) -> None:
    if audit.status not in allowed:
        raise StateError(f"An audit that is {audit.status.replace('_', ' ')} cannot be {verb}.")


def accept_finding(user: User, finding: Finding, comment: str = "", at: datetime | None = None) -> Finding:
    """Take a finding up: it stays open, waiting for a corrective action.

    :raise StateError: if it was already triaged or is no longer open.
    """
    require(user, "finding.triage", finding)
    comment = _text(comment, "comment", "The comment", required=False)
    if finding.status != FindingStatus.OPEN or finding.triaged_at is not None:
        raise StateError("This finding has already been triaged.")
    mark_triaged(user, finding, at)
    finding.bump(["triaged_at", "triaged_by_id"])
    db.session.flush()
    publish_finding(finding)
    trail.record(user, "finding.accepted", "finding", finding.id, {"comment": comment} if comment else {})
    if comment:
        add_comment(user, comment, finding=finding, at=at)
    return finding


def mark_triaged(user: User, finding: Finding, at: datetime | None = None) -> None:
    finding.triaged_at = happened_at(at)
    finding.triaged_by_id = user.id


def reject_finding(user: User, finding: Finding, reason: str, at: datetime | None = None) -> Finding:
    """Reject a finding (not a nonconformity, a duplicate, ...), saying why.

    :raise Invalid: without a reason. :raise StateError: if its status does not allow it.
    """
    require(user, "finding.triage", finding)
    reason = _text(reason, "reason", "A reason")
    transitions.check_finding(finding, FindingStatus.REJECTED)
    old_status = finding.status
    finding.status = FindingStatus.REJECTED
    finding.status_reason = reason
    changed = ["status", "status_reason"]
    if finding.triaged_at is None:
        mark_triaged(user, finding, at)
        changed += ["triaged_at", "triaged_by_id"]
    finding.bump(changed)
    db.session.flush()
    publish_finding(finding)
    trail.record(user, "finding.rejected", "finding", finding.id,
                 {"status": [old_status, FindingStatus.REJECTED], "reason": reason})
    add_comment(user, reason, finding=finding, prefix="Rejected: ", at=at)
    return finding
