"""The JSON API under /api/, documented at /api/openapi.json."""

from flask import Flask

from ..extensions import GembaApi
from ..textin import MAX_DEPTH
from . import account, auth, competence, documents, notify, organisation, photos, programme, reports, review, sync, upkeep

# What the one gate (server/textin.py) refuses on every route, before any field is read.
REFUSED_TEXT = (
    "Refused before any field is read (`error.code`): text holding a NUL character (`nul_character`) "
    "or a lone UTF-16 surrogate U+D800-U+DFFF (`invalid_text`) in the query string, a form field or "
    f"the JSON body, or a JSON body nested more than {MAX_DEPTH} levels deep (`too_deep`). "
    "In a sync push, an op carrying such text is rejected on its own, with the same code."
)
REFUSED_FIELD = "No NUL character, no lone surrogate (U+D800-U+DFFF)."


def init_app(app: Flask) -> None:
    # One Api per app: its OpenAPI spec describes exactly this app's routes.
    api = GembaApi(app)
    api.spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "gemba_session"})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in (auth.blp, account.blp, photos.blp, sync.blp, reports.blp, review.blp, programme.blp,
                      organisation.blp, notify.blp, upkeep.blp, documents.blp, competence.blp):
        api.register_blueprint(blueprint)
    _document_refused_text(api.spec)
    app.config.setdefault("CSRF_EXEMPT_ENDPOINTS", set()).update(auth.CSRF_EXEMPT)


def _document_refused_text(spec) -> None:
    """Say on every operation that bad text is a 400, next to what its own 400 means."""
    for operations in spec._paths.values():  # apispec keeps the paths registered so far here
        for method, operation in operations.items():
            if method not in {"get", "head", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            existing = responses.get("400", responses.get(400))
            if isinstance(existing, dict) and "description" in existing:
                existing["description"] = f"{existing['description']}. {REFUSED_TEXT}"
            else:
                responses["400"] = {"description": REFUSED_TEXT}
    # ...and on every text field of every schema, whether or not it came from shapes.text_field.
    for schema in spec.components.schemas.values():
        for shape in (schema.get("properties") or {}).values() if isinstance(schema, dict) else ():
            if shape.get("type") == "string" and "format" not in shape and "enum" not in shape \
                    and "surrogate" not in shape.get("description", ""):
                shape["description"] = " ".join(filter(None, [shape.get("description"), REFUSED_FIELD]))
