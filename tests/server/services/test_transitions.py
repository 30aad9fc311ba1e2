"""Which status may follow which, pair by pair: every (from, to) of audits and of findings.

The moves a person can make are written out here as a table, apart from the code's own
table, so that a move added or lost in `services/transitions.py` fails a named pair.
"""

import itertools

import pytest

from server.errors import StateError
from server.models import Audit, AuditStatus, Finding, FindingStatus
from server.services import transitions

AUDIT_MOVES = {
    "planned": {"in_progress"},
    "in_progress": {"submitted"},
    "submitted": {"approved", "returned", "rejected"},
    "returned": {"in_progress", "submitted"},
    # decided audits are locked; a reviewer reopens one with a reason, which returns it
    "approved": {"returned"},
    "rejected": {"returned"},
}

FINDING_MOVES = {
    "open": {"action_planned", "rejected", "closed"},
    "action_planned": {"action_done", "open", "rejected"},
    "action_done": {"verified", "action_planned"},
    "verified": {"closed", "action_planned"},
    "closed": set(),
    "rejected": {"open"},
}


def _pairs(statuses):
    return [(old.value, new.value) for old, new in itertools.product(statuses, repeat=2)]


def test_the_tables_name_every_status():
    assert set(AUDIT_MOVES) == {s.value for s in AuditStatus} == set(transitions.AUDIT)
    assert set(FINDING_MOVES) == {s.value for s in FindingStatus} == set(transitions.FINDING)


@pytest.mark.parametrize(("old", "new"), _pairs(AuditStatus))
def test_audit_status_pair(old, new):
    audit = Audit(status=old)
    if new in AUDIT_MOVES[old]:
        transitions.check_audit(audit, new)
    else:
        with pytest.raises(StateError) as refused:
            transitions.check_audit(audit, new)
        message = refused.value.message
        assert message == f"An audit that is {old.replace('_', ' ')} cannot become {new.replace('_', ' ')}."
        assert refused.value.status == 409


@pytest.mark.parametrize(("old", "new"), _pairs(FindingStatus))
def test_finding_status_pair(old, new):
    finding = Finding(status=old)
    if new in FINDING_MOVES[old]:
        transitions.check_finding(finding, new)
    else:
        with pytest.raises(StateError) as refused:
            transitions.check_finding(finding, new)
        message = refused.value.message
        assert message == f"A finding that is {old.replace('_', ' ')} cannot become {new.replace('_', ' ')}."


@pytest.mark.parametrize("new", ["", "deleted", "APPROVED", "approved "])
def test_a_status_that_does_not_exist_is_never_allowed(new):
    with pytest.raises(StateError):
        transitions.check_audit(Audit(status="submitted"), new)
    with pytest.raises(StateError):
        transitions.check_finding(Finding(status="open"), new)


def test_a_record_in_an_unknown_status_may_go_nowhere():
    with pytest.raises(StateError):
        transitions.check_audit(Audit(status="archived"), "in_progress")
    with pytest.raises(StateError):
        transitions.check_finding(Finding(status="archived"), "open")
