"""What each pushed op does: one handler per synced entity, each calling the service that owns the rules."""

from ...errors import Invalid, NotFound, StateError
from ...extensions import db
from ...models import Audit, Comment, CorrectiveAction, Finding, OpStatus
from ...permissions import require
from .. import actions, audits, comments, documents, evidence, findings
from ..merge import Edit, hold
from .batch import Batch, Outcome


def _outcome(batch: Batch, op: dict, entity: str, edit: Edit, base: int, area_id):
    """Applied, or a conflict when the edit held back fields the server changed since `base`."""
    conflicts = hold(batch.user, entity, edit.record, edit.held, base, device_id=batch.device.id,
                     op_id=op["op_id"], area_id=area_id)
    if not conflicts:
        return Outcome(OpStatus.APPLIED, version=edit.record.version), edit.record
    return Outcome(OpStatus.CONFLICT, version=edit.record.version, conflicts=[
        {"field": c.field, "server_value": c.server_value, "device_value": c.device_value, "conflict_id": str(c.id)}
        for c in conflicts
    ]), edit.record


def audit_op(batch: Batch, op, audit_id, fields):
    user, device = batch.user, batch.device
    audit = batch.records.get(Audit, audit_id)
    status = fields.get("status")
    if audit is None:
        if not fields.get("template_id") or not fields.get("area_id"):
            raise NotFound("There is no such audit. An ad-hoc audit needs template_id and area_id.")
        audit = audits.create_adhoc_audit(user, audit_id, fields["template_id"], fields["area_id"],
                                          at=op.get("at"), device_id=device.id)
        if fields.get("summary"):
            audits.edit_audit(user, audit, {"summary": fields["summary"]}, None, device.id)
        if status == "submitted":
            audits.submit_audit(user, audit, device_id=device.id, **_signoff(fields))
        return Outcome(OpStatus.APPLIED, version=audit.version), audit
    for name in ("template_id", "area_id"):
        if name in fields and fields[name] != getattr(audit, name):
            raise Invalid("The audit is not valid.", {name: ["Fixed when the audit was created."]})
    base = batch.base_version(op)
    edit = Edit(audit)
    if "summary" in fields:
        edit = audits.edit_audit(user, audit, {"summary": fields["summary"]}, base, device.id)
    if status == "in_progress":
        audits.start_audit(user, audit, at=op.get("at"), device_id=device.id)
    elif status == "submitted":
        audits.submit_audit(user, audit, device_id=device.id, **_signoff(fields))
    elif "signatures" in fields or "unsigned_reason" in fields:
        raise Invalid("The audit is not valid.", {"signatures": ["An audit is signed when it is submitted."]})
    elif status is None and "summary" not in fields:
        require(user, "audit.work", audit)
    return _outcome(batch, op, "audit", edit, base, audit.area_id)


def _signoff(fields) -> dict:
    """The sign-off a submitting op carries, if it carries one (older field apps send none)."""
    if "signatures" not in fields:
        return {}
    return {"signatures": fields["signatures"], "unsigned_reason": fields.get("unsigned_reason")}


def response_op(batch: Batch, op, response_id, fields):
    existing = batch.records.answer_for(response_id, fields)
    base = op.get("base_version")
    if existing is not None and existing.id == response_id:
        base = batch.base_version(op)
    edit = audits.record_response(batch.user, response_id, fields, base, batch.device.id, existing=existing)
    # By id: a new answer is not flushed yet, so its relationship to the audit is not loaded.
    audit = batch.records.get(Audit, edit.record.audit_id)
    return _outcome(batch, op, "response", edit, base or 0, audit.area_id)


def finding_op(batch: Batch, op, finding_id, fields):
    finding = batch.records.get(Finding, finding_id)
    if finding is None:
        finding = findings.raise_finding(batch.user, finding_id, fields, device_id=batch.device.id)
        return Outcome(OpStatus.APPLIED, version=finding.version), finding
    base = batch.base_version(op)
    edit = findings.edit_finding(batch.user, finding, fields, base, device_id=batch.device.id)
    return _outcome(batch, op, "finding", edit, base, finding.area_id)


def action_op(batch: Batch, op, action_id, fields):
    action = batch.records.get(CorrectiveAction, action_id)
    if action is None:
        raise NotFound("There is no such corrective action; actions are planned in the register.")
    base = batch.base_version(op)
    edit = actions.record_progress(batch.user, action, fields, base, device_id=batch.device.id)
    return _outcome(batch, op, "action", edit, base, action.finding.area_id)


def comment_op(batch: Batch, op, comment_id, fields):
    comment = batch.records.get(Comment, comment_id)
    if comment is not None:
        same = (comment.author_id == batch.user.id and comment.body == (fields.get("body") or "").strip()
                and comment.audit_id == fields.get("audit_id") and comment.finding_id == fields.get("finding_id"))
        if not same:
            raise StateError("A comment cannot be changed once it was sent.")
        return Outcome(OpStatus.APPLIED, version=comment.version), comment
    comment = comments.comment_from_device(batch.user, comment_id, fields, device_id=batch.device.id)
    return Outcome(OpStatus.APPLIED, version=comment.version), comment


def photo_link_op(batch: Batch, op, link_id, fields):
    """Add one photo to a response, finding or action, through the subject's own rules."""
    user, device = batch.user, batch.device
    subject, subject_id = fields["subject"], fields["subject_id"]
    sha = evidence.check_hashes([fields["sha256"]])[0]
    taken = evidence.capture_times({sha: fields["taken_at"]}, "taken_at") if fields.get("taken_at") else {}
    holder = batch.holding_photos(subject)
    record = db.session.get(holder.model, subject_id)
    if record is None:
        raise NotFound(f"There is no such {holder.label}.")
    photos = evidence.photos_of(holder.photos, record.id)
    edit = holder.edit(user, record, {"photos": photos + [sha]}, None, device.id)
    evidence.note_capture_times(taken, [sha])
    return Outcome(OpStatus.APPLIED, version=edit.record.version), None




def acknowledgement_op(batch: Batch, op, acknowledgement_id, fields):
    """"Read and understood" from a device: recorded once, however often it is pushed."""
    acknowledgement = documents.acknowledgement_from_device(batch.user, acknowledgement_id, fields["revision_id"],
                                                            at=op.get("at"), device_id=batch.device.id)
    return Outcome(OpStatus.APPLIED, version=1), acknowledgement
