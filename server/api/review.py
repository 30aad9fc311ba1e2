"""The supervisor's workflows over JSON: review audits, triage findings, corrective actions.

The register pages do the same through forms; both call the same services.
"""


from flask_login import current_user
from flask_smorest import Blueprint

from ..access import SIGNED_IN, allow
from ..errors import NotFound
from ..extensions import db
from ..models import Finding
from ..schemas.register import (
    ActionListSchema,
    ActionPlanSchema,
    ActionSchema,
    ApproveSchema,
    AuditStateSchema,
    DoneSchema,
    EffectivenessResultSchema,
    EffectivenessSchema,
    FindingStateSchema,
    QueueSchema,
    ReasonSchema,
    RepeatSchema,
    ReturnSchema,
    SuggestionsSchema,
    TriageSchema,
)
from ..services import actions, audit_review, audits, findings, repeats
from .documenting import documenting

blp = Blueprint("review", __name__, url_prefix="/api", description="Review, triage and corrective actions")

COMMON = ((401, "Not signed in"), (403, "Not allowed"), (404, "No such record"),
          (409, "The record's status does not allow this"), (422, "A field is not valid"))

documented = documenting(blp, COMMON)


@blp.route("/review/queue")
@allow("audit.review")
@blp.response(200, QueueSchema)
@documented
def queue():
    """Submitted audits, findings waiting for triage, and the number of open sync conflicts."""
    return audit_review.queue(current_user)


@blp.route("/audits/<uuid:audit_id>/approve", methods=["POST"])
@allow("audit.review")
@blp.arguments(ApproveSchema)
@blp.response(200, AuditStateSchema)
@documented
def approve(data, audit_id):
    """Approve a submitted audit; it is locked until reopened."""
    audit = audit_review.approve(current_user, audits.get_audit(current_user, audit_id, "audit.review"), data["comment"])
    db.session.commit()
    return audit


@blp.route("/audits/<uuid:audit_id>/return", methods=["POST"])
@allow("audit.review")
@blp.arguments(ReturnSchema)
@blp.response(200, AuditStateSchema)
@documented
def return_audit(data, audit_id):
    """Return a submitted audit to its auditor with a comment (reaches the device on sync)."""
    audit = audit_review.return_audit(current_user, audits.get_audit(current_user, audit_id, "audit.review"), data["comment"])
    db.session.commit()
    return audit


@blp.route("/audits/<uuid:audit_id>/reject", methods=["POST"])
@allow("audit.review")
@blp.arguments(ReasonSchema)
@blp.response(200, AuditStateSchema)
@documented
def reject(data, audit_id):
    """Reject a submitted audit with a reason."""
    audit = audit_review.reject(current_user, audits.get_audit(current_user, audit_id, "audit.review"), data["reason"])
    db.session.commit()
    return audit


@blp.route("/audits/<uuid:audit_id>/reopen", methods=["POST"])
@allow("audit.review")
@blp.arguments(ReasonSchema)
@blp.response(200, AuditStateSchema)
@documented
def reopen(data, audit_id):
    """Reopen an approved or rejected audit with a reason; it goes back to the auditor."""
    audit = audit_review.reopen(current_user, audits.get_audit(current_user, audit_id, "audit.review"), data["reason"])
    db.session.commit()
    return audit


@blp.route("/findings/<uuid:finding_id>/triage", methods=["POST"])
@allow("finding.triage")
@blp.arguments(TriageSchema)
@blp.response(200, FindingStateSchema)
@documented
def triage(data, finding_id):
    """Accept a new finding (it stays open for action) or reject it with a reason."""
    finding = findings.get_finding(current_user, finding_id)
    if data["decision"] == "accept":
        audit_review.accept_finding(current_user, finding, data["reason"])
    else:
        audit_review.reject_finding(current_user, finding, data["reason"])
    db.session.commit()
    return finding


@blp.route("/findings/<uuid:finding_id>/repeat-suggestions")
@allow("finding.triage")
@blp.response(200, SuggestionsSchema)
@documented
def repeat_suggestions(finding_id):
    """Earlier findings with the same clause and area (and similar text) within the window."""
    finding = findings.get_finding(current_user, finding_id)
    return {"suggestions": repeats.suggest(current_user, finding)}


@blp.route("/findings/<uuid:finding_id>/repeat", methods=["POST"])
@allow("finding.triage")
@blp.arguments(RepeatSchema)
@blp.response(200, FindingStateSchema)
@documented
def link_repeat(data, finding_id):
    """Link the finding as a repeat of an earlier one (null removes the link)."""
    finding = findings.get_finding(current_user, finding_id)
    earlier = None
    if data["repeat_of_id"] is not None:
        earlier = db.session.get(Finding, data["repeat_of_id"])
        if earlier is None:
            raise NotFound("There is no such earlier finding.")
    repeats.link_repeat(current_user, finding, earlier)
    db.session.commit()
    return finding


@blp.route("/findings/<uuid:finding_id>/actions", methods=["POST"])
@allow("action.assign")
@blp.arguments(ActionPlanSchema)
@blp.response(201, ActionSchema)
@documented
def plan_action(data, finding_id):
    """Plan a corrective action: containment, five whys, root cause, plan, owner, due date."""
    finding = findings.get_finding(current_user, finding_id)
    action = actions.plan_action(current_user, finding, data)
    db.session.commit()
    return action


@blp.route("/actions/<uuid:action_id>", methods=["PUT"])
@allow("action.assign")
@blp.arguments(ActionPlanSchema)
@blp.response(200, ActionSchema)
@documented
def update_action(data, action_id):
    """Re-plan an open corrective action."""
    action = actions.update_plan(current_user, actions.get_action(current_user, action_id), data)
    db.session.commit()
    return action


@blp.route("/actions/<uuid:action_id>/done", methods=["POST"])
@allow(SIGNED_IN)
@blp.arguments(DoneSchema)
@blp.response(200, ActionSchema)
@documented
def mark_done(data, action_id):
    """The owner marks the action done."""
    action = actions.mark_done(current_user, actions.get_action(current_user, action_id), data["note"])
    db.session.commit()
    return action


@blp.route("/actions/<uuid:action_id>/effectiveness", methods=["POST"])
@allow("action.assign")
@blp.arguments(EffectivenessSchema)
@blp.response(200, EffectivenessResultSchema)
@documented
def effectiveness(data, action_id):
    """Record the effectiveness check; not effective opens a follow-up action."""
    action = actions.get_action(current_user, action_id)
    new_plan = {"plan": data.get("next_plan"), "due_date": data.get("next_due_date")}
    follow_up = actions.check_effectiveness(current_user, action, data["effective"], data["note"], new_plan)
    db.session.commit()
    return {"action": action, "follow_up": follow_up}


@blp.route("/actions/mine")
@allow(SIGNED_IN)
@blp.response(200, ActionListSchema)
@documented
def my_actions():
    """The open corrective actions the signed-in user owns, soonest due first."""
    return {"actions": actions.my_actions(current_user)}
