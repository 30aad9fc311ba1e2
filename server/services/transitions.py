"""Which status may follow which. Every path that changes a status asks here first."""

from ..errors import StateError
from ..models import Audit, AuditStatus, Finding, FindingStatus

A, F = AuditStatus, FindingStatus

AUDIT = {
    A.PLANNED: {A.IN_PROGRESS},
    A.IN_PROGRESS: {A.SUBMITTED},
    A.SUBMITTED: {A.APPROVED, A.RETURNED, A.REJECTED},
    A.RETURNED: {A.IN_PROGRESS, A.SUBMITTED},
    # Approved and rejected audits are locked; reopening needs a reason (see review).
    A.APPROVED: {A.RETURNED},
    A.REJECTED: {A.RETURNED},
}

FINDING = {
    F.OPEN: {F.ACTION_PLANNED, F.REJECTED, F.CLOSED},
    F.ACTION_PLANNED: {F.ACTION_DONE, F.OPEN, F.REJECTED},
    F.ACTION_DONE: {F.VERIFIED, F.ACTION_PLANNED},
    F.VERIFIED: {F.CLOSED, F.ACTION_PLANNED},
    F.CLOSED: set(),  # reopening a closed finding is a supervisor's explicit act, not an edit
    F.REJECTED: {F.OPEN},
}


def check_audit(audit: Audit, new: str) -> None:
    """:raise StateError: unless `audit` may move from its status to `new`."""
    if new not in AUDIT.get(audit.status, set()):
        raise StateError(f"An audit that is {audit.status.replace('_', ' ')} cannot become {new.replace('_', ' ')}.")


def check_finding(finding: Finding, new: str) -> None:
    """:raise StateError: unless `finding` may move from its status to `new`."""
    if new not in FINDING.get(finding.status, set()):
        raise StateError(f"A finding that is {finding.status.replace('_', ' ')} cannot become {new.replace('_', ' ')}.")
