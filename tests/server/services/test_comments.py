"""The review conversation: who sees a comment, and the limit a person's text is held to."""

import pytest

from server.errors import Invalid
from server.extensions import db
from server.fieldrules import LIMITS
from server.models import Comment
from server.permissions import can
from server.services import audit_review, comments


@pytest.fixture
def scene(make):
    auditor, staff, other = make.user("auditor"), make.user("staff"), make.user("staff")
    supervisor = make.user("supervisor")
    audit = make.audit(make.template(), make.area(), auditor, status="submitted")
    finding = make.finding(make.area(), staff)
    return {"auditor": auditor, "staff": staff, "other": other, "supervisor": supervisor,
            "audit": audit, "finding": finding}


@pytest.mark.parametrize(("subject", "who", "sees"), [
    ("audit", "auditor", True), ("audit", "supervisor", True), ("audit", "staff", False),
    ("finding", "staff", True), ("finding", "supervisor", True), ("finding", "other", False),
    ("finding", "auditor", False),
])
def test_a_comment_is_seen_by_who_sees_its_subject(scene, subject, who, sees):
    comment = comments.add_comment(scene["supervisor"], "Please add a photo.", **{subject: scene[subject]})
    assert can(scene[who], "comment.view", comment) is sees


def test_a_reason_that_fits_is_not_pushed_over_the_limit_by_the_servers_prefix(scene):
    # A reason's own limit leaves room for the server's "Rejected: ", so the comment it
    # becomes stays within the comment limit that every client is told about.
    with pytest.raises(Invalid):
        audit_review.reject(scene["supervisor"], scene["audit"], "r" * (LIMITS["reason"] + 1))
    reason = "r" * LIMITS["reason"]
    audit_review.reject(scene["supervisor"], scene["audit"], reason)
    assert scene["audit"].status == "rejected"
    assert max(len(c.body) for c in db.session.query(Comment).filter_by(audit_id=scene["audit"].id)) \
        <= LIMITS["comment"]
    with pytest.raises(Invalid):
        comments.add_comment(scene["supervisor"], "r" * LIMITS["comment"], audit=scene["audit"], prefix="Note: ")
    with pytest.raises(Invalid):
        comments.add_comment(scene["supervisor"], "r" * (LIMITS["comment"] + 1), audit=scene["audit"])
