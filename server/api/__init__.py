"""The JSON API under /api/, documented at /api/openapi.json."""

from flask import Flask

from ..extensions import GembaApi
from . import account, auth, competence, documents, notify, organisation, photos, programme, reports, review, sync, upkeep


def init_app(app: Flask) -> None:
    # One Api per app: its OpenAPI spec describes exactly this app's routes.
    api = GembaApi(app)
    api.spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "gemba_session"})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in (auth.blp, account.blp, photos.blp, sync.blp, reports.blp, review.blp, programme.blp,
                      organisation.blp, notify.blp, upkeep.blp, documents.blp, competence.blp):
        api.register_blueprint(blueprint)
    app.config.setdefault("CSRF_EXEMPT_ENDPOINTS", set()).update(auth.CSRF_EXEMPT)
