"""Photo evidence by hash: upload the bytes, ask whether they arrived, fetch a copy."""

from flask import current_app, jsonify, request, send_file
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from ..access import SIGNED_IN, allow
from ..errors import DomainError, NotFound
from ..extensions import db
from ..schemas.photos import PhotoQuerySchema, PhotoSchema
from ..services import photos, uploads

blp = Blueprint("photos", __name__, url_prefix="/api", description="Photo evidence, addressed by SHA-256")

# Content-addressed bytes never change, but they are only for the people allowed to see
# them: a browser may keep them for good, a shared cache may not keep them at all.
CACHE_SECONDS = 365 * 24 * 3600

IMAGE_BODY = {
    "required": True,
    "description": "The photo's bytes exactly as the device holds them (JPEG, PNG or WebP).",
    "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/jpeg", "image/png", "image/webp")},
}


def _etag(sha: str, size: str) -> str:
    return sha if size == "original" else f"{sha}.{size}"


@blp.route("/photos/<sha256>")
class PhotoByHash(MethodView):
    @blp.doc(requestBody=IMAGE_BODY, parameters=[{"in": "path", "name": "sha256", "required": True,
                                                  "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}])
    @blp.response(201, PhotoSchema, description="Stored now")
    @blp.alt_response(200, schema=PhotoSchema, description="Already stored: nothing was changed")
    @blp.alt_response(400, description="Not a SHA-256 in the path, or no CSRF token")
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(413, description="Over the size limit, or too many pixels (decompression bomb)")
    @blp.alt_response(415, description="Not JPEG, PNG or WebP")
    @blp.alt_response(422, description="The bytes do not hash to the address, or are corrupt or truncated")
    @allow(SIGNED_IN)
    def put(self, sha256):
        """Upload a photo's bytes under their SHA-256; the server re-hashes them.

        :raise 413: too large. :raise 415: not an accepted type. :raise 422: hash mismatch, corrupt.
        """
        limit = current_app.config["GEMBA_MAX_PHOTO_BYTES"]
        photos.refuse_oversize(request.content_length, limit)
        request.max_content_length = limit  # a body without Content-Length is cut off here too
        data = request.get_data(cache=False)
        photo, created = photos.intake(current_user, sha256, data, request.content_type)
        db.session.commit()
        return photo, 201 if created else 200

    @blp.response(200, description="Stored: the bytes are on the server")
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="Not stored, or not a photo you may see: upload it (that proves you hold it)")
    @allow(SIGNED_IN)
    def head(self, sha256):
        """Whether you need not upload this photo: 200 if stored and yours to see, else 404.

        To anyone who may not see it, a stored photo answers like an unknown hash, so a
        hash reveals neither that the photo exists nor its size.
        """
        photo = photos.visible_photo(current_user, sha256)
        if photo is None:
            raise NotFound("The server does not have this photo yet.")
        return current_app.response_class(status=200, headers={
            "ETag": f'"{photo.sha256}"', "X-Photo-Bytes": str(photo.byte_size or 0),
            "Cache-Control": "no-store",
        })

    @blp.arguments(PhotoQuerySchema, location="query")
    @blp.response(200, description="The image: a JPEG for thumb and display, the original bytes otherwise",
                  content_type="image/jpeg")
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such photo, not arrived yet, or not yours to see")
    @allow(SIGNED_IN)
    def get(self, query, sha256):
        """Fetch a photo: thumb, display (default) or the original bytes.

        :raise 404: unknown, not arrived yet, or on no record the user may see.
        """
        size = query["size"]
        photo, stream, content_type = photos.open_for(current_user, sha256, size)
        response = send_file(stream, mimetype=content_type, etag=_etag(photo.sha256, size),
                             conditional=True, max_age=CACHE_SECONDS)
        response.cache_control.public = False
        response.cache_control.private = True
        response.cache_control.immutable = True
        return response


UPLOAD_PART = {
    "required": True,
    "description": "The bytes of the photo from START to END inclusive, as Content-Range says "
                   "(`bytes START-END/TOTAL`); empty with `bytes */TOTAL` to finish one whose bytes all arrived.",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


def _offset(received: int, status: int = 200, body: dict | None = None):
    response = jsonify(body) if body is not None else current_app.response_class(status=status)
    response.status_code = status
    response.headers["Upload-Offset"] = str(received)
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/photos/<sha256>/upload")
class ResumablePhotoUpload(MethodView):
    @blp.response(200, description="`Upload-Offset`: how many bytes of this photo the server holds from you (0: none)")
    @blp.alt_response(400, description="Not a SHA-256 in the path")
    @blp.alt_response(401, description="Not signed in")
    @allow(SIGNED_IN)
    def head(self, sha256):
        """How much of a resumable upload has arrived: send the rest from `Upload-Offset`."""
        sha = photos.check_sha(sha256)
        return _offset(uploads.received(current_user, sha))

    @blp.doc(requestBody=UPLOAD_PART, parameters=[
        {"in": "header", "name": "Content-Range", "required": True, "schema": {"type": "string"},
         "description": "bytes START-END/TOTAL, START being the server's Upload-Offset; or bytes */TOTAL"}])
    @blp.response(201, PhotoSchema, description="The last part: the whole photo checked and stored now")
    @blp.alt_response(200, schema=PhotoSchema, description="The last part: the photo was already stored")
    @blp.alt_response(202, description="Part kept: `Upload-Offset` says how many bytes the server holds; send the next")
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(409, description="The part does not start at the server's `Upload-Offset` (given): resend from there")
    @blp.alt_response(413, description="TOTAL over the size limit, or the photo too costly to decode")
    @blp.alt_response(422, description="No or a bad Content-Range; the whole does not hash to the address, or is corrupt")
    @blp.alt_response(503, description="Every decode slot busy: send `bytes */TOTAL` again after Retry-After")
    @allow(SIGNED_IN)
    def put(self, sha256):
        """Upload a photo in parts that survive a cut connection; the whole is checked as `PUT /photos/<sha256>`.

        :raise 409: resend from Upload-Offset. :raise 422: hash mismatch, corrupt, bad range.
        """
        sha = photos.check_sha(sha256)
        try:
            progress = uploads.append(current_user, sha, request.headers.get("Content-Range"),
                                      request.stream, request.content_length)
        finally:
            db.session.commit()  # the pieces that arrived are kept, a body cut short included
        if progress.data is None:
            return _offset(progress.received, 202, {"received": progress.received, "total": progress.total})
        try:
            photo, created = photos.intake(current_user, sha, progress.data, request.content_type)
        except photos.IntakeBusy:
            raise  # the part stays: finish with bytes */TOTAL after Retry-After
        except DomainError:
            db.session.rollback()
            uploads.discard(current_user, sha)  # these bytes can never be taken in: start again
            db.session.commit()
            raise
        uploads.discard(current_user, sha)
        db.session.commit()
        return photo, 201 if created else 200
