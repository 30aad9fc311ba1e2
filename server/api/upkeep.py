"""Objectives, readiness and management reviews over JSON: keeping the system alive between audits."""

from flask import Response, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint

from ..access import SIGNED_IN, allow
from ..extensions import db
from ..schemas.upkeep import (
    EvidencePackQuerySchema,
    ManagementReviewListSchema,
    ManagementReviewSchema,
    ReviewActionDoneSchema,
    ReviewActionInSchema,
    ReviewActionSchema,
    ReviewOpenSchema,
    ReviewUpdateSchema,
    SignOffSchema,
    MeasurementInSchema,
    MeasurementSchema,
    ObjectiveInSchema,
    ObjectiveListSchema,
    ObjectiveQuerySchema,
    ObjectiveSchema,
    ObjectiveUpdateSchema,
    ReadinessQuerySchema,
    ReadinessSchema,
)
from ..services import management_reviews, objectives, readiness
from ..services.reports.period import PeriodPack
from .documenting import documenting

blp = Blueprint("upkeep", __name__, url_prefix="/api", description="Objectives, readiness and management reviews")

COMMON = ((401, "Not signed in"), (403, "Not allowed"), (404, "No such record"),
          (409, "The record's status does not allow this"), (422, "A field is not valid"))

documented = documenting(blp, COMMON)


def _objective(objective):
    return {**{c: getattr(objective, c) for c in ObjectiveSchema._declared_fields if hasattr(objective, c)},
            "owner": objective.owner, **objectives.summary(objective)}


@blp.route("/objectives")
@allow("objective.list")
@blp.arguments(ObjectiveQuerySchema, location="query")
@blp.response(200, ObjectiveListSchema)
@documented
def list_objectives(query):
    """The objectives you may see, each with its status, latest value and measurements; and the computed measures."""
    rows = db.session.scalars(objectives.objective_query(current_user, **query)).all()
    return {"objectives": [_objective(o) for o in rows], "metrics": list(objectives.METRICS.values())}


@blp.route("/objectives", methods=["POST"])
@allow("objective.manage")
@blp.arguments(ObjectiveInSchema)
@blp.response(201, ObjectiveSchema)
@documented
def create_objective(data):
    """Set an objective: a target (value, unit, at least / at most), an owner, how often it is measured."""
    objective = objectives.create_objective(current_user, data)
    db.session.commit()
    return _objective(objective)


@blp.route("/objectives/<uuid:objective_id>")
@allow("objective.list")
@blp.response(200, ObjectiveSchema)
@documented
def get_objective(objective_id):
    """One objective with its measurements and status."""
    return _objective(objectives.get_objective(current_user, objective_id))


@blp.route("/objectives/<uuid:objective_id>", methods=["POST"])
@allow("objective.manage")
@blp.arguments(ObjectiveUpdateSchema)
@blp.response(200, ObjectiveSchema)
@documented
def update_objective(data, objective_id):
    """Change an objective's fields (only those sent); its measurements stay."""
    objective = objectives.get_objective(current_user, objective_id, "objective.manage")
    objectives.update_objective(current_user, objective, data)
    db.session.commit()
    return _objective(objective)


@blp.route("/objectives/<uuid:objective_id>/retire", methods=["POST"])
@allow("objective.manage")
@blp.response(200, ObjectiveSchema)
@documented
def retire_objective(objective_id):
    """Retire an objective: it leaves the lists and readiness; its history stays."""
    objective = objectives.retire_objective(current_user, objectives.get_objective(current_user, objective_id, "objective.manage"))
    db.session.commit()
    return _objective(objective)


@blp.route("/objectives/<uuid:objective_id>/measurements", methods=["POST"])
@allow("objective.list")
@blp.arguments(MeasurementInSchema)
@blp.response(201, MeasurementSchema)
@documented
def add_measurement(data, objective_id):
    """Record a value on a day (the owner or a supervisor); the same day again replaces it."""
    objective = objectives.get_objective(current_user, objective_id, "objective.measure")
    measurement = objectives.record_measurement(current_user, objective, data["value"], data["measured_on"], data["note"])
    db.session.commit()
    return measurement


@blp.route("/readiness")
@allow("readiness.view")
@blp.arguments(ReadinessQuerySchema, location="query")
@blp.response(200, ReadinessSchema)
@documented
def get_readiness(query):
    """Could an external auditor turn up today? Each signal green, amber or red with its count and a link."""
    result = readiness.readiness(current_user, **query)
    db.session.commit()  # the trail checkpoint moves on when the chain held
    return result


@blp.route("/management-reviews")
@allow("management_review.manage")
@blp.response(200, ManagementReviewListSchema)
@documented
def list_reviews():
    """Management reviews, newest period first (without their inputs)."""
    rows = management_reviews.visible(current_user, db.session.scalars(management_reviews.review_query(current_user)))
    return {"reviews": [management_reviews.to_dict(r) for r in rows]}


@blp.route("/management-reviews", methods=["POST"])
@allow("management_review.manage")
@blp.arguments(ReviewOpenSchema)
@blp.response(201, ManagementReviewSchema)
@documented
def open_review(data):
    """Open a review of a period: its inputs are assembled from the register now and frozen."""
    review = management_reviews.open_review(current_user, **data)
    db.session.commit()
    return management_reviews.to_dict(review)


@blp.route("/management-reviews/<uuid:review_id>")
@allow("management_review.manage")
@blp.response(200, ManagementReviewSchema)
@documented
def get_review(review_id):
    """One review with its frozen `inputs`, the chair's notes, decisions and output actions."""
    return management_reviews.to_dict(management_reviews.get_review(current_user, review_id))


@blp.route("/management-reviews/<uuid:review_id>", methods=["POST"])
@allow("management_review.manage")
@blp.arguments(ReviewUpdateSchema)
@blp.response(200, ManagementReviewSchema)
@documented
def update_review(data, review_id):
    """Write the meeting down (held on, attendees, the chair's inputs, decisions) until it is signed off."""
    review = management_reviews.update_review(current_user, management_reviews.get_review(current_user, review_id), data)
    db.session.commit()
    return management_reviews.to_dict(review)


@blp.route("/management-reviews/<uuid:review_id>/actions", methods=["POST"])
@allow("management_review.manage")
@blp.arguments(ReviewActionInSchema)
@blp.response(201, ManagementReviewSchema)
@documented
def add_review_action(data, review_id):
    """Add an output action with an owner and a due date; it shows in the owner's actions."""
    review = management_reviews.get_review(current_user, review_id)
    management_reviews.add_action(current_user, review, data)
    db.session.commit()
    return management_reviews.to_dict(review)


@blp.route("/management-reviews/<uuid:review_id>/sign-off", methods=["POST"])
@allow("management_review.manage")
@blp.arguments(SignOffSchema)
@blp.response(200, ManagementReviewSchema)
@documented
def sign_off_review(data, review_id):
    """The chair signs off, locking the review; with no outputs, only once `no_outputs_confirmed`."""
    review = management_reviews.get_review(current_user, review_id)
    management_reviews.sign_off(current_user, review, data["no_outputs_confirmed"])
    db.session.commit()
    return management_reviews.to_dict(review)


@blp.route("/management-reviews/<uuid:review_id>/pack.pdf")
@allow("management_review.manage")
@blp.response(200, content_type="application/pdf", description="The review pack")
@documented
def review_pack(review_id):
    """The review's PDF pack: cover, each input with its figures and charts, the outputs."""
    review = management_reviews.get_review(current_user, review_id)
    pdf = management_reviews.pack_pdf(current_user, review)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="management-review-{review.period_end.isoformat()}.pdf"'})


@blp.route("/review-actions/<uuid:review_action_id>/done", methods=["POST"])
@allow(SIGNED_IN)
@blp.arguments(ReviewActionDoneSchema)
@blp.response(200, ReviewActionSchema)
@documented
def review_action_done(data, review_action_id):
    """The owner marks a management-review output done."""
    action = management_reviews.mark_action_done(current_user, management_reviews.get_action(current_user, review_action_id),
                                                 data["note"])
    db.session.commit()
    return action


@blp.route("/evidence-pack")
@allow("readiness.view")
@blp.arguments(EvidencePackQuerySchema, location="query")
@blp.response(200, content_type="application/zip", description="The period pack, SHA256SUMS at its root")
@documented
def evidence_pack(query):
    """A ZIP for the external auditor: programme, audit reports, registers, reviews, objectives, readiness, trail.

    Streamed as it is written; `sha256sum -c SHA256SUMS` checks every file in it.
    """
    pack = PeriodPack(current_user, **query)
    return Response(stream_with_context(pack.stream()), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{pack.filename}"'})
