"""Who may do what, rule by rule: `permissions.can` for each rule x role x the person's tie to the record.

The expected answers are written out here, apart from `permissions.RULES`, so that a rule
that widens or narrows fails on the named case; a rule missing from these tables fails too.
"""

import uuid
from datetime import UTC, datetime

import pytest
from flask_login import AnonymousUserMixin

from server import permissions
from server.errors import NotAllowed
from server.models import (
    Area, Audit, CompetenceRecord, Conflict, CorrectiveAction, Document, DocumentRevision, Finding, ManagementReview, Objective, Response,
    ReviewAction, User,
)

ROLES = ("staff", "auditor", "supervisor", "admin")
EVERYONE = set(ROLES)
REVIEWERS = {"supervisor", "admin"}
NOBODY: set[str] = set()

# Rules about the role alone.
BY_ROLE = {
    "register.dashboard": {"auditor", "supervisor", "admin"},
    "audit.list": {"auditor", "supervisor", "admin"},
    "audit.plan": REVIEWERS,
    "audit.review": REVIEWERS,
    "audit.start_adhoc": {"auditor", "supervisor", "admin"},
    "finding.list": EVERYONE,
    "finding.raise": EVERYONE,
    "finding.triage": REVIEWERS,
    "action.assign": REVIEWERS,
    "conflict.resolve": REVIEWERS,
    "template.edit": REVIEWERS,
    "programme.plan": REVIEWERS,
    "area.labels": REVIEWERS,
    "admin.users": {"admin"},
    "admin.organisation": {"admin"},
    "admin.tokens": {"admin"},
    "admin.webhooks": {"admin"},
    "trail.view": REVIEWERS,
    "objective.list": EVERYONE,
    "objective.manage": REVIEWERS,
    "readiness.view": REVIEWERS,
    "management_review.manage": REVIEWERS,
    "document.list": EVERYONE,
    "document.manage": REVIEWERS,
    "competence.view": REVIEWERS,
    "competence.manage": REVIEWERS,
}

STRANGER = uuid.uuid4()
TRIAGED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _audit(auditor_id, status):
    return Audit(id=uuid.uuid4(), auditor_id=auditor_id, status=status)


# The person's tie to a record: a name, and how to build such a record for `me`.
AUDITS = {
    "their own, planned": lambda me: _audit(me, "planned"),
    "their own, in progress": lambda me: _audit(me, "in_progress"),
    "their own, returned": lambda me: _audit(me, "returned"),
    "their own, submitted": lambda me: _audit(me, "submitted"),
    "their own, approved": lambda me: _audit(me, "approved"),
    "their own, rejected": lambda me: _audit(me, "rejected"),
    "someone else's, in progress": lambda me: _audit(STRANGER, "in_progress"),
    "nobody's yet": lambda me: _audit(None, "planned"),
}
FINDINGS = {
    "raised by them, open": lambda me: Finding(raised_by_id=me, status="open"),
    "raised by them, accepted": lambda me: Finding(raised_by_id=me, status="open", triaged_at=TRIAGED),
    "raised by them, taken up": lambda me: Finding(raised_by_id=me, status="action_planned"),
    "from an audit of theirs": lambda me: Finding(raised_by_id=STRANGER, status="open", audit=_audit(me, "submitted")),
    "with an action they own": lambda me: Finding(raised_by_id=STRANGER, status="action_planned",
                                                  actions=[CorrectiveAction(owner_id=me)]),
    "someone else's": lambda me: Finding(raised_by_id=STRANGER, status="open", audit=_audit(STRANGER, "submitted"),
                                         actions=[CorrectiveAction(owner_id=STRANGER)]),
}
ACTIONS = {
    "owned by them": lambda me: CorrectiveAction(owner_id=me),
    "someone else's": lambda me: CorrectiveAction(owner_id=STRANGER),
}

RESPONSES = {
    "on their own audit": lambda me: Response(audit=_audit(me, "submitted")),
    "on someone else's audit": lambda me: Response(audit=_audit(STRANGER, "submitted")),
}
CONFLICTS = {
    "met by them": lambda me: Conflict(user_id=me),
    "met by someone else": lambda me: Conflict(user_id=STRANGER),
}
OBJECTIVES = {
    "owned by them": lambda me: Objective(owner_id=me),
    "someone else's": lambda me: Objective(owner_id=STRANGER),
}
MANAGEMENT_REVIEWS = {
    "chaired by them": lambda me: ManagementReview(chair_id=me),
    "chaired by someone else": lambda me: ManagementReview(chair_id=STRANGER),
}
REVIEW_ACTIONS = {
    "owned by them": lambda me: ReviewAction(owner_id=me),
    "someone else's": lambda me: ReviewAction(owner_id=STRANGER),
}

def _document(owner, *statuses):
    return Document(owner_id=owner, revisions=[DocumentRevision(rev=n, status=status, uploaded_by_id=STRANGER)
                                               for n, status in enumerate(statuses, 1)])


DOCUMENTS = {
    "owned by them, draft": lambda me: _document(me, "draft"),
    "someone else's, draft": lambda me: _document(STRANGER, "draft"),
    "someone else's, in review": lambda me: _document(STRANGER, "in_review"),
    "someone else's, approved": lambda me: _document(STRANGER, "approved"),
    "someone else's, superseded and a draft": lambda me: _document(STRANGER, "obsolete", "draft"),
}
REVISIONS = {
    "a draft of their document": lambda me: _document(me, "draft").revisions[0],
    "a draft they uploaded": lambda me: DocumentRevision(status="draft", uploaded_by_id=me,
                                                         document=Document(owner_id=STRANGER)),
    "someone else's draft": lambda me: _document(STRANGER, "draft").revisions[0],
    "someone else's, in review": lambda me: _document(STRANGER, "in_review").revisions[0],
    "someone else's, approved": lambda me: _document(STRANGER, "approved").revisions[0],
    "someone else's, obsolete": lambda me: _document(STRANGER, "obsolete").revisions[0],
}
COMPETENCE_RECORDS = {
    "their own": lambda me: CompetenceRecord(user_id=me, user=User(id=me, home_area=Area(responsible_id=STRANGER))),
    "of someone in an area they answer for": lambda me: CompetenceRecord(
        user_id=STRANGER, user=User(id=STRANGER, home_area=Area(responsible_id=me))),
    "someone else's": lambda me: CompetenceRecord(user_id=STRANGER,
                                                  user=User(id=STRANGER, home_area=Area(responsible_id=STRANGER))),
}
GAP_AREAS = {
    "an area they answer for": lambda me: Area(responsible_id=me),
    "someone else's area": lambda me: Area(responsible_id=STRANGER),
}

EDITABLE = {"their own, planned", "their own, in progress", "their own, returned"}
AUDIT_VIEW = {tie: EVERYONE for tie in AUDITS if tie.startswith("their own")} | {
    "someone else's, in progress": REVIEWERS, "nobody's yet": REVIEWERS}
FINDING_VIEW = {tie: EVERYONE for tie in FINDINGS} | {"someone else's": REVIEWERS}
ACTION_WORK = {"owned by them": EVERYONE, "someone else's": REVIEWERS}

# Rules about a record: for each tie, the roles that may.
BY_RECORD = {
    "audit.view": (AUDITS, AUDIT_VIEW),
    "comment.audit": (AUDITS, AUDIT_VIEW),
    # Only the assigned auditor works on an audit, reviewers included, and only until it is submitted.
    "audit.work": (AUDITS, {tie: EVERYONE if tie in EDITABLE else NOBODY for tie in AUDITS}),
    "finding.view": (FINDINGS, FINDING_VIEW),
    "comment.finding": (FINDINGS, FINDING_VIEW),
    # The person who raised it may correct it until a supervisor has taken it up.
    "finding.edit": (FINDINGS, {tie: REVIEWERS for tie in FINDINGS} | {"raised by them, open": EVERYONE,
                                                                       "raised by them, accepted": EVERYONE}),
    # ...but once triaged, what the finding is (kind, area, clause, title) is the reviewers' to change.
    "finding.classify": (FINDINGS, {tie: REVIEWERS for tie in FINDINGS} | {"raised by them, open": EVERYONE}),
    # Segregation of duties: a reviewer may not approve, return or reject an audit they did themselves.
    "audit.decide": (AUDITS, {tie: NOBODY if tie.startswith("their own") else REVIEWERS for tie in AUDITS}),
    # ... and withdraw it then; reviewers triage (reject) rather than withdraw.
    "finding.withdraw": (FINDINGS, {tie: NOBODY for tie in FINDINGS} | {"raised by them, open": EVERYONE}),
    "action.view": (ACTIONS, ACTION_WORK),
    "action.work": (ACTIONS, ACTION_WORK),
    "response.view": (RESPONSES, {"on their own audit": EVERYONE, "on someone else's audit": REVIEWERS}),
    "conflict.view": (CONFLICTS, {"met by them": EVERYONE, "met by someone else": REVIEWERS}),
    # An objective's owner measures it, whatever their role; reviewers set and see them all.
    "objective.view": (OBJECTIVES, {"owned by them": EVERYONE, "someone else's": REVIEWERS}),
    "objective.measure": (OBJECTIVES, {"owned by them": EVERYONE, "someone else's": REVIEWERS}),
    # The chair signs a management review off; an admin may stand in.
    "management_review.sign_off": (MANAGEMENT_REVIEWS, {"chaired by them": REVIEWERS, "chaired by someone else": {"admin"}}),
    "review_action.work": (REVIEW_ACTIONS, {"owned by them": EVERYONE, "someone else's": REVIEWERS}),
    # A document is for everyone once a revision is released; before that, its managers and owner.
    "document.view": (DOCUMENTS, {tie: EVERYONE for tie in DOCUMENTS} | {
        "someone else's, draft": REVIEWERS, "someone else's, in review": REVIEWERS}),
    "document.revision.view": (REVISIONS, {tie: EVERYONE for tie in REVISIONS} | {
        "someone else's draft": REVIEWERS, "someone else's, in review": REVIEWERS}),
    # A competence record's expiry is told to its holder and their home area's responsible person.
    "competence.record.view": (COMPETENCE_RECORDS, {"their own": EVERYONE,
                                                    "of someone in an area they answer for": EVERYONE,
                                                    "someone else's": REVIEWERS}),
    "competence.gaps.view": (GAP_AREAS, {"an area they answer for": EVERYONE, "someone else's area": REVIEWERS}),
}
# Rules that look up stored records (a comment's subject, a photo's links): tested against
# the database in tests/server/services/test_sync_pull.py and test_comments.py.
STORED = {"comment.view", "photo.view"}


def person(role: str, active: bool = True) -> User:
    return User(id=uuid.uuid4(), name=role.title(), email=f"{role}@example.test", role=role, active=active)


def test_the_tables_cover_every_rule():
    assert set(BY_ROLE) | set(BY_RECORD) | STORED == set(permissions.RULES)
    assert not set(BY_ROLE) & set(BY_RECORD)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("rule", sorted(BY_ROLE))
def test_rule_by_role(rule, role):
    assert permissions.can(person(role), rule) is (role in BY_ROLE[rule])


CASES = [(rule, tie, role) for rule, (ties, _) in sorted(BY_RECORD.items()) for tie in ties for role in ROLES]


@pytest.mark.parametrize(("rule", "tie", "role"), CASES, ids=[f"{r}-{t}-{role}" for r, t, role in CASES])
def test_rule_by_role_and_tie(rule, tie, role):
    ties, allowed = BY_RECORD[rule]
    me = person(role)
    assert permissions.can(me, rule, ties[tie](me.id)) is (role in allowed[tie])


@pytest.mark.parametrize("rule", sorted(permissions.RULES))
def test_nobody_signed_in_and_inactive_people_may_do_nothing(rule):
    records = {**{r: ties for r, (ties, _) in BY_RECORD.items()},
               **{r: AUDITS for r in ("audit.view", "comment.audit", "audit.work")},
               **{r: FINDINGS for r in ("finding.view", "comment.finding", "finding.edit", "finding.classify",
                                        "finding.withdraw")},
               **{r: ACTIONS for r in ("action.view", "action.work")}}
    for role in ROLES:
        gone = person(role, active=False)
        if rule in STORED:
            continue
        record = next(iter(records[rule].values()))(gone.id) if rule in records else None
        assert permissions.can(gone, rule, record) is False
        assert permissions.can(None, rule, record) is False
        assert permissions.can(AnonymousUserMixin(), rule, record) is False


def test_require_says_why_and_an_unknown_rule_is_a_programming_error():
    staff = person("staff")
    with pytest.raises(NotAllowed) as refused:
        permissions.require(staff, "audit.work", _audit(STRANGER, "in_progress"))
    assert refused.value.message == permissions.MESSAGES["audit.work"]
    with pytest.raises(NotAllowed) as refused:
        permissions.require(staff, "trail.view")
    assert refused.value.message == "You do not have permission to do that."
    permissions.require(person("admin"), "trail.view")
    with pytest.raises(KeyError):
        permissions.can(staff, "audit.delete")


@pytest.mark.parametrize("role", ROLES)
def test_deciding_on_audits_is_for_reviewers_when_asked_without_an_audit(role):
    # A route may be guarded by "audit.decide"; the audit itself then decides (above).
    assert permissions.can(person(role), "audit.decide") is (role in REVIEWERS)
    assert "audit.decide" in permissions.ROLE_ACTIONS
