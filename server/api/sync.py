"""The field app's sync API: bootstrap, push ops, pull changes. Rules live in services/sync.py."""

from flask import current_app, request
from flask_login import current_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from ..access import SIGNED_IN, allow
from ..errors import DomainError
from ..extensions import db
from ..models import utcnow
from ..schemas.sync import (
    BootstrapSchema,
    PullQuerySchema,
    PullResponseSchema,
    PushRequestSchema,
    PushResponseSchema,
    SnapshotQuerySchema,
    SnapshotResponseSchema,
)
from ..services import sync

blp = Blueprint("sync", __name__, url_prefix="/api", description="Offline sync: bootstrap, push ops, pull changes")


class MalformedPush(DomainError):
    status = 400
    code = "malformed"


@blp.before_request
def _check_push_envelope():
    """Refuse an oversized or non-JSON push before anything reads it."""
    if request.endpoint != "sync.push" or request.method != "POST":
        return
    limit = current_app.config["GEMBA_MAX_SYNC_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise MalformedPush(f"The push is larger than {limit} bytes; send fewer ops at a time. Nothing was applied.",
                            code="too_large")
    request.max_content_length = limit  # a chunked body without a length stops here too
    if not request.is_json:
        raise MalformedPush("Send the push as JSON (Content-Type: application/json). Nothing was applied.")


@blp.route("/bootstrap")
@allow(SIGNED_IN)
@blp.response(200, BootstrapSchema)
@blp.alt_response(401, description="Not signed in")
def bootstrap():
    """What a device needs before going offline: the user, areas, published checklists, a CSRF token."""
    return sync.bootstrap(current_user) | {"csrf_token": generate_csrf(), "server_time": utcnow()}


@blp.route("/sync/push", methods=["POST"])
@allow(SIGNED_IN)
@blp.arguments(PushRequestSchema, error_status_code=400)
@blp.response(200, PushResponseSchema)
@blp.alt_response(400, description="Malformed as a whole (not JSON, wrong shape, too many ops, too large): nothing applied")
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(403, description="The device belongs to another user: nothing applied")
def push(data):
    """Apply a device's ops in seq order, each exactly once; one result per op processed.

    Each result is `applied`, `duplicate` (with the first result's details),
    `conflict` (a field changed on the server since base_version; both values kept),
    or `rejected` (with the reason). A gap in seq stops processing; `last_seq` says
    where to resume.
    """
    result = sync.apply_push(current_user, data["device_id"], data["ops"])
    db.session.commit()
    return result


@blp.route("/sync/pull")
@allow(SIGNED_IN)
@blp.arguments(PullQuerySchema, location="query", error_status_code=400)
@blp.response(200, PullResponseSchema)
@blp.alt_response(400, description="A bad cursor or limit")
@blp.alt_response(401, description="Not signed in")
def pull(args):
    """The changes addressed to the user after `cursor`, oldest first; call again while `more`.

    `reset: true` means what decides the user's audiences changed since the device's
    snapshot (the `scope` it sends): take a new snapshot.
    """
    return sync.pull(current_user, args["cursor"], args["limit"], sites=args["sites"], areas=args["areas"],
                     scope=args["scope"])


@blp.route("/sync/snapshot")
@allow(SIGNED_IN)
@blp.arguments(SnapshotQuerySchema, location="query", error_status_code=400)
@blp.response(200, SnapshotResponseSchema)
@blp.alt_response(400, description="A bad token or limit")
@blp.alt_response(401, description="Not signed in")
def snapshot(args):
    """A new device's first sync: the working set as it is now, in pages, and the cursor to pull from."""
    return sync.snapshot(current_user, args["token"], args["limit"], sites=args["sites"], areas=args["areas"],
                         days=args["days"])
