"""The OpenAPI document says what the server refuses, and the server keeps to what it says."""

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.fieldrules import LIMITS
from server.models import Comment, Role
from tests.register_helpers import submitted_audit


def test_every_operation_documents_the_refused_text(client):
    spec = client.get("/api/openapi.json").json
    missing = [f"{method.upper()} {path}" for path, operations in spec["paths"].items()
               for method, operation in operations.items() if method in {"get", "post", "put", "patch", "delete"}
               and not all(code in operation["responses"].get("400", {}).get("description", "")
                           for code in ("nul_character", "invalid_text", "too_deep"))]
    assert not missing, missing


def test_text_fields_state_their_limit_and_what_they_refuse(client):
    schemas = client.get("/api/openapi.json").json["components"]["schemas"]
    texts = [(name, field, shape) for name, schema in schemas.items()
             for field, shape in schema.get("properties", {}).items() if "maxLength" in shape and "format" not in shape]
    assert len(texts) > 10
    for name, field, shape in texts:
        assert "NUL" in shape.get("description", "") and "surrogate" in shape["description"], (name, field)
    assert schemas["Reason"]["properties"]["reason"]["maxLength"] == LIMITS["reason"] < LIMITS["comment"]


@pytest.mark.parametrize(("verb", "prefix"), [("reject", "Rejected: "), ("reopen", "Reopened: ")])
def test_a_reason_at_its_limit_stays_within_the_comment_limit_with_the_servers_label(signed_in, make, verb, prefix):
    audit = submitted_audit()
    supervisor = make.user(Role.SUPERVISOR)
    api = signed_in(supervisor)
    if verb == "reopen":
        assert api.post(f"/api/audits/{audit.id}/approve", json={}).status_code == 200
    too_long = api.post(f"/api/audits/{audit.id}/{verb}", json={"reason": "x" * (LIMITS["reason"] + 1)})
    assert too_long.status_code == 422 and "reason" in too_long.json["error"]["fields"]
    response = api.post(f"/api/audits/{audit.id}/{verb}", json={"reason": "x" * LIMITS["reason"]})
    assert response.status_code == 200, response.json
    longest = db.session.scalar(select(func.max(func.length(Comment.body))))
    assert longest == LIMITS["reason"] + len(prefix) <= LIMITS["comment"]


def test_a_finding_rejection_reason_at_its_limit_fits_too(signed_in, make, commit):
    area = make.area()
    finding = make.finding(area, make.user(Role.STAFF, home_area=area))
    api = signed_in(make.user(Role.SUPERVISOR))
    response = api.post(f"/api/findings/{finding.id}/triage", json={"decision": "reject", "reason": "y" * LIMITS["reason"]})
    assert response.status_code == 200, response.json
    [body] = db.session.scalars(select(Comment.body).where(Comment.finding_id == finding.id))
    assert body.startswith("Rejected: ") and len(body) <= LIMITS["comment"]
