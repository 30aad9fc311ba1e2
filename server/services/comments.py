"""The review conversation: comments on an audit or a finding, from the register or a device.

A comment reaches the device of the person it concerns (the audit's auditor, the
finding's raiser) on their next sync. Comments never change once written.
"""

import uuid

from ..errors import Invalid, NotFound
from ..extensions import db
from ..fieldrules import LIMITS, FieldErrors
from ..models import Audit, Comment, Finding, User, happened_at
from ..permissions import require
from . import feed, trail
from .merge import jsonable


def add_comment(user: User, body, *, audit: Audit | None = None, finding: Finding | None = None,
                comment_id: uuid.UUID | None = None, device_id=None, prefix: str = "", at=None) -> Comment:
    """Add one message to the conversation on `audit` or `finding` (written `at`, or now).

    `prefix` ("Rejected: ") is the server's own label for a decision; the person's text
    alone is held to the comment limit, so a reason that fits is never pushed over it.
    :raise Invalid: an empty or too long body. :raise NotAllowed: when the user may not see the subject.
    """
    if (audit is None) == (finding is None):
        raise Invalid("A comment belongs to one audit or one finding.",
                      {"audit_id": ["Give an audit or a finding, not both."]})
    require(user, "comment.audit" if audit else "comment.finding", audit or finding)
    errors = FieldErrors()
    body = errors.text("body", body, "comment", required=True, label="The comment")
    if prefix and "body" not in errors and len(prefix + body) > LIMITS["comment"]:
        errors.add("body", f"At most {LIMITS['comment'] - len(prefix):,} characters here (this has {len(body):,}).")
    errors.raise_if_any("The comment is not valid.")
    comment = Comment(id=comment_id or uuid.uuid4(), audit_id=audit.id if audit else None,
                      finding_id=finding.id if finding else None, author_id=user.id, body=prefix + body,
                      created_at=happened_at(at))
    db.session.add(comment)
    db.session.flush()
    feed.publish("comment", comment.id, comment.version, area_id=(audit or finding).area_id,
                 user_id=audit.auditor_id if audit else finding.raised_by_id, record=comment)
    trail.record(user, "comment.added", "comment", comment.id,
                 jsonable({"audit_id": comment.audit_id, "finding_id": comment.finding_id, "body": comment.body}),
                 device_id=device_id)
    return comment


def comment_from_device(user: User, comment_id: uuid.UUID, fields: dict, device_id=None) -> Comment:
    """Add a comment a device sent: `fields` name its audit or finding and its body.

    :raise Invalid: without exactly one subject. :raise NotFound: no such subject.
    """
    audit_id, finding_id = fields.get("audit_id"), fields.get("finding_id")
    if bool(audit_id) == bool(finding_id):
        raise Invalid("A comment belongs to one audit or one finding.",
                      {"audit_id": ["Give an audit or a finding, not both."]})
    if audit_id:
        audit = db.session.get(Audit, audit_id)
        if audit is None:
            raise NotFound("There is no such audit.")
        return add_comment(user, fields.get("body"), audit=audit, comment_id=comment_id, device_id=device_id)
    finding = db.session.get(Finding, finding_id)
    if finding is None:
        raise NotFound("There is no such finding.")
    return add_comment(user, fields.get("body"), finding=finding, comment_id=comment_id, device_id=device_id)


