"""Competence over JSON: the catalogue, requirements, people's records, training sessions, the matrix."""

import json
from collections import deque
from collections.abc import Iterator
from datetime import date

from flask import Response, current_app, request, send_file, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint

from .. import compression
from ..access import allow
from ..errors import Invalid
from ..extensions import db
from ..models import Area, User, utcnow
from ..schemas.competence import (
    CompetenceInSchema,
    CompetenceListSchema,
    CompetenceSchema,
    EvidenceFileSchema,
    MatrixQuerySchema,
    RecordFormSchema,
    RecordSchema,
    RequirementInSchema,
    RequirementSchema,
    TrainingInSchema,
    TrainingSchema,
)
from ..services import competence, reports
from ..services.documents import Upload
from .documenting import documenting

blp = Blueprint("competence", __name__, url_prefix="/api", description="Competence (ISO 9001 7.2, ISO 45001 7.2)")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COMMON = ((401, "Not signed in"), (403, "Not allowed, or a site you do not cover"), (404, "No such record"),
          (422, "A field is not valid"))

documented = documenting(blp, COMMON)


@blp.before_request
def _allow_certificate_sized_bodies():
    # A certificate may be larger than a photo: the limit is raised for the record upload only.
    if request.endpoint == "competence.add_record":
        request.max_content_length = current_app.config["GEMBA_MAX_DOCUMENT_BYTES"] + 1024 * 1024


def _person(person_id, field: str) -> User:
    person = db.session.get(User, person_id) if person_id else None
    if person is None:
        raise Invalid("No such person.", {field: ["There is no such person."]})
    return person


def matrix_stream(read: competence.MatrixRows, today: date) -> Iterator[str]:
    """The matrix's JSON (the shape `matrix_json` gives), a person at a time: each row's cells are
    written from ready-made tokens, the counts last, once every row has been read."""
    head = {"today": today.isoformat(), "competences": [
        {"id": str(c.id), "name": c.name, "validity_months": c.validity_months} for c in read.competences]}
    yield json.dumps(head, separators=(",", ":"))[:-1] + ',"people":['
    blank = ["null"] * len(read.competences)
    tokens = [json.dumps(state) for state in competence.STATES]  # by state code
    batch, first = [], True
    for person, states in read.rows:
        cells = blank.copy()
        deque(map(cells.__setitem__, states.keys(), map(tokens.__getitem__, states.values())), maxlen=0)
        area = f'"{person.home_area_id}"' if person.home_area_id else "null"
        batch.append(f'{"" if first else ","}{{"id":"{person.id}","name":{json.dumps(person.name)},'
                     f'"role":{json.dumps(str(person.role))},"home_area_id":{area},"cells":[{",".join(cells)}]}}')
        first = False
        if len(batch) == 100:
            yield "".join(batch)
            batch = []
    yield "".join(batch) + '],"counts":' + json.dumps(read.counts(), separators=(",", ":")) + "}"


def matrix_json(matrix: competence.Matrix, today: date) -> dict:
    """The matrix as the API answers it: cells aligned with `competences`, one list per person."""
    return {
        "today": today.isoformat(),
        "competences": [{"id": str(c.id), "name": c.name, "validity_months": c.validity_months}
                        for c in matrix.competences],
        "people": [{"id": str(p.id), "name": p.name, "role": p.role,
                    "home_area_id": str(p.home_area_id) if p.home_area_id else None, "cells": row}
                   for p, row in zip(matrix.people, matrix.cells, strict=True)],
        "counts": matrix.counts,
    }


def area_labels() -> dict:
    return {area.id: area.label for area in db.session.scalars(db.select(Area))}


@blp.route("/competences")
@allow("competence.view")
@blp.response(200, CompetenceListSchema)
@documented
def list_competences():
    """The catalogue of competences, by name."""
    return {"competences": competence.competences()}


@blp.route("/competences", methods=["POST"])
@allow("competence.manage")
@blp.arguments(CompetenceInSchema)
@blp.response(201, CompetenceSchema)
@documented
def create(data):
    """Add a competence, with an optional validity in months."""
    created = competence.create_competence(current_user, data["name"], data["validity_months"], data["description"])
    db.session.commit()
    return created


@blp.route("/competences/<uuid:competence_id>/requirements", methods=["POST"])
@allow("competence.manage")
@blp.arguments(RequirementInSchema)
@blp.response(201, RequirementSchema)
@documented
def add_requirement(data, competence_id):
    """Say that a role, an area, or a role in an area needs this competence."""
    area = db.session.get(Area, data["area_id"]) if data["area_id"] else None
    if data["area_id"] and area is None:
        raise Invalid("No such area.", {"area_id": ["There is no such area."]})
    requirement = competence.require_competence(current_user, competence.get_competence(competence_id),
                                                data["role"], area)
    db.session.commit()
    return requirement


@blp.route("/competences/<uuid:competence_id>/records", methods=["POST"])
@allow("competence.manage")
@blp.arguments(RecordFormSchema, location="form")
@blp.arguments(EvidenceFileSchema, location="files")
@blp.response(201, RecordSchema)
@documented
def add_record(fields, files, competence_id):
    """Record (or renew) that a person holds this competence, with an optional certificate file."""
    file = files.get("file")
    record = competence.record_competence(
        current_user, _person(fields["person_id"], "person_id"), competence.get_competence(competence_id),
        fields["gained_on"], fields["expires_on"],
        _person(fields["assessed_by_id"], "assessed_by_id") if fields["assessed_by_id"] else None,
        evidence=Upload(file.stream, file.filename or "") if file else None)
    db.session.commit()
    return record


@blp.route("/training-sessions", methods=["POST"])
@allow("competence.manage")
@blp.arguments(TrainingInSchema)
@blp.response(201, TrainingSchema)
@documented
def record_training(data):
    """Record a training session: every attendee gains every competence it grants."""
    attendees = [_person(person_id, "attendee_ids") for person_id in dict.fromkeys(data["attendee_ids"])]
    granted = [competence.get_competence(cid) for cid in dict.fromkeys(data["competence_ids"])]
    trainer = _person(data["trainer_id"], "trainer_id") if data["trainer_id"] else None
    session = competence.record_training(current_user, data["title"], data["held_on"], trainer, attendees, granted)
    db.session.commit()
    return session


@blp.route("/competences/matrix")
@allow("competence.view")
@blp.arguments(MatrixQuerySchema, location="query")
@blp.response(200, description="People x competences; each cell held, expiring, expired, missing or null")
@documented
def matrix(query):
    """The competence matrix, filtered by site or area: cells aligned with `competences`."""
    today = utcnow().date()
    read = competence.matrix_rows(current_user, query["site_id"], query["area_id"], today, query["expiring_days"])
    return compression.stream_json(matrix_stream(read, today))


@blp.route("/competences/matrix.csv")
@allow("competence.view")
@blp.arguments(MatrixQuerySchema, location="query")
@blp.response(200, content_type="text/csv", description="The matrix, streamed")
@documented
def matrix_csv(query):
    """The matrix as CSV, a person a line, streamed."""
    built = competence.competence_matrix(current_user, query["site_id"], query["area_id"],
                                         expiring_days=query["expiring_days"])
    rows = competence.export_rows(built, area_labels())
    return Response(stream_with_context(reports.csv_stream(competence.export_columns(built), rows)),
                    mimetype="text/csv", headers={
                        "Content-Disposition": f'attachment; filename="competence-{date.today().isoformat()}.csv"'})


@blp.route("/competences/matrix.xlsx")
@allow("competence.view")
@blp.arguments(MatrixQuerySchema, location="query")
@blp.response(200, content_type=XLSX, description="The matrix as a workbook")
@documented
def matrix_xlsx(query):
    """The matrix as XLSX (written row by row, spooled to disk when large)."""
    built = competence.competence_matrix(current_user, query["site_id"], query["area_id"],
                                         expiring_days=query["expiring_days"])
    spool = reports.xlsx_file("competence", competence.export_columns(built),
                              competence.export_rows(built, area_labels()))
    return send_file(spool, mimetype=XLSX, as_attachment=True,
                     download_name=f"competence-{date.today().isoformat()}.xlsx")
