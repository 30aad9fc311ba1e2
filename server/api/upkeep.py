"""Objectives, readiness and management reviews over JSON: keeping the system alive between audits."""

from flask_login import current_user
from flask_smorest import Blueprint

from ..access import allow
from ..extensions import db
from ..schemas.upkeep import (
    MeasurementInSchema,
    MeasurementSchema,
    ObjectiveInSchema,
    ObjectiveListSchema,
    ObjectiveQuerySchema,
    ObjectiveSchema,
    ReadinessQuerySchema,
    ReadinessSchema,
)
from ..services import objectives, readiness

blp = Blueprint("upkeep", __name__, url_prefix="/api", description="Objectives, readiness and management reviews")

COMMON = ((401, "Not signed in"), (403, "Not allowed"), (404, "No such record"),
          (409, "The record's status does not allow this"), (422, "A field is not valid"))


def documented(func):
    for status, description in COMMON:
        func = blp.alt_response(status, description=description)(func)
    return func


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
