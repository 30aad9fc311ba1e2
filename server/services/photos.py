"""Photo evidence as records: take in the bytes a device sent, keep them, serve the copies.

The original bytes are the evidence: they are stored exactly as sent, under the SHA-256
the device computed and the server recomputed. Decoding and the display and thumbnail
copies are `imaging`'s job; this module checks, stores, records and serves.
"""

import contextlib
import hashlib
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from flask import current_app

from ..errors import DomainError, Invalid, NotAllowed, NotFound, TooManyAttempts
from ..extensions import db
from ..models import (
    Photo,
    PhotoState,
    User,
    happened_at,
)
from ..permissions import can
from ..storage import MissingObject, object_key, photo_store
from . import feed, trail
from .evidence import expect_photo, record_upload
from .imaging import (
    ACCEPTED_TEXT,
    DECLARABLE,
    SIZES,
    BadHash,
    Derivatives,
    HashMismatch,
    PhotoTooLarge,
    UnreadablePhoto,
    UnsupportedPhotoType,
    derive,
    mb,
    sniff,
)

log = logging.getLogger(__name__)

SHA256 = re.compile(r"[0-9a-f]{64}")
_GATES_LOCK = threading.Lock()
GATE_KEY = "gemba.intake_gate"


class IntakeBusy(TooManyAttempts):
    """Every decode slot of this process stayed taken for the whole wait: try again shortly."""

    status = 503
    code = "busy"


def _decode_slot():
    """A context manager holding one of this process's GEMBA_INTAKE_CONCURRENCY decode slots.

    Each decode may cost up to GEMBA_MAX_DECODE_BYTES, so the slots bound what photo
    intake can hold at once in one process, however many requests arrive together.
    Waiting longer than GEMBA_INTAKE_WAIT_SECONDS is a 503 with Retry-After.
    """
    app = current_app._get_current_object()
    gate = app.extensions.get(GATE_KEY)
    if gate is None:
        with _GATES_LOCK:
            gate = app.extensions.setdefault(GATE_KEY, threading.BoundedSemaphore(
                max(1, app.config.get("GEMBA_INTAKE_CONCURRENCY", 2))))
    wait = app.config.get("GEMBA_INTAKE_WAIT_SECONDS", 60)

    @contextlib.contextmanager
    def slot():
        if not gate.acquire(timeout=wait):
            raise IntakeBusy("The server is busy taking in other photos; send this one again in a minute.",
                             retry_after=30)
        try:
            yield
        finally:
            gate.release()
    return slot


def check_sha(sha256: str) -> str:
    """Return `sha256` as lower-case hex. :raise BadHash: when it is not a SHA-256 hex digest."""
    value = sha256.lower() if isinstance(sha256, str) else ""
    if not SHA256.fullmatch(value):
        raise BadHash("The photo address must be the SHA-256 of its bytes: 64 hexadecimal characters.")
    return value


def refuse_oversize(length: int | None, limit: int) -> None:
    """Refuse a body announced as larger than `limit` before reading it. :raise PhotoTooLarge:"""
    if length is not None and length > limit:
        raise PhotoTooLarge(f"The photo is {mb(length)}; the limit is {mb(limit)}.")


def _check_declared(content_type: str | None) -> None:
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared and declared not in DECLARABLE and not declared.startswith("image/"):
        raise UnsupportedPhotoType(
            f"Send the photo's bytes as the request body with Content-Type image/jpeg, image/png "
            f"or image/webp, not {declared[:60]}."
        )


def intake(user: User, sha256: str, data: bytes, content_type: str | None = None,
           device_id=None, at: datetime | None = None) -> tuple[Photo, bool]:
    """Store the photo whose SHA-256 is `sha256` from `data`; answer the photo and whether it is new.

    A photo already stored under that hash is left as it is (nothing is rewritten). `at`
    is when it was uploaded (now unless given).

    :raise BadHash (400): `sha256` is not a SHA-256 hex digest.
    :raise PhotoTooLarge (413): over GEMBA_MAX_PHOTO_BYTES, more pixels than
        GEMBA_MAX_PHOTO_PIXELS (a decompression bomb), or decoding would hold more than
        GEMBA_MAX_DECODE_BYTES (TooCostlyToDecode, from the header, before decoding).
    :raise UnsupportedPixelFormat (422): a pixel mode not accepted (imaging.MODE_BYTES).
    :raise IntakeBusy (503): every decode slot of the process stayed taken.
    :raise UnsupportedPhotoType (415): not JPEG, PNG or WebP.
    :raise HashMismatch (422): the bytes do not hash to `sha256`.
    :raise UnreadablePhoto (422): corrupt or truncated.
    """
    if user is None or not user.active:
        raise NotAllowed("Sign in to upload photos.")
    sha = check_sha(sha256)
    _check_declared(content_type)
    limit = current_app.config["GEMBA_MAX_PHOTO_BYTES"]
    if len(data) > limit:
        raise PhotoTooLarge(f"The photo is {mb(len(data))}; the limit is {mb(limit)}.")
    if not data:
        raise UnreadablePhoto("The request body is empty; send the photo's bytes.")
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha:
        raise HashMismatch(
            f"These bytes hash to {actual}, not {sha}: the photo was changed or cut short on the way. "
            "Upload it again."
        )

    store = photo_store()
    original = object_key("original", sha)
    photo = db.session.get(Photo, sha)
    if photo is not None and photo.state == PhotoState.STORED and store.exists(original):
        record_upload(user, sha, device_id, at)  # the same bytes again: proof this person holds them
        return photo, False

    fmt = sniff(data)
    if fmt is None:
        raise UnsupportedPhotoType(f"Only {ACCEPTED_TEXT} photos are accepted; these bytes are none of them.")
    # The files are written (and fsynced) on other threads while this one decodes and
    # then records the row, so disk waits overlap the work instead of adding up. All
    # writes have finished before intake returns, so by the time the request commits
    # the row that says "stored", the files are durable; a crash before that leaves only
    # files that the next upload of the same hash rewrites.
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="photo-store") as writer:
        kept = writer.submit(store.put, original, data)
        try:
            derived = derive(data, fmt, current_app.config["GEMBA_MAX_PHOTO_PIXELS"],
                             current_app.config.get("GEMBA_MAX_DECODE_BYTES"), _decode_slot())
        except DomainError:
            kept.result()
            store.delete(original)  # the same bytes can never decode, so no one needs them
            raise
        writes = [kept] + [writer.submit(store.put, object_key(size, sha), getattr(derived, size))
                           for size in ("display", "thumb")]
        photo, created = _record_stored(user, sha, len(data), derived, device_id, at)
        for write in writes:
            write.result()  # a storage error surfaces here and the request does not commit
    record_upload(user, sha, device_id, at)
    return photo, created


def _record_stored(user: User, sha: str, byte_size: int, derived: Derivatives, device_id,
                   at: datetime | None) -> tuple[Photo, bool]:
    expect_photo(sha)  # the row may not exist yet: the upload can come before the record
    photo = db.session.get(Photo, sha, with_for_update=True, populate_existing=True)
    if photo.state == PhotoState.STORED:
        return photo, False  # a concurrent upload of the same bytes got there first
    photo.state = PhotoState.STORED
    photo.content_type = derived.content_type
    photo.byte_size = byte_size
    photo.width = derived.width
    photo.height = derived.height
    # The EXIF time when the bytes carry one; else the time the device sent with the record.
    photo.taken_at = derived.taken_at or photo.taken_at
    photo.uploaded_by_id = user.id
    photo.uploaded_at = happened_at(at)
    feed.publish("photo", sha, 1, user_id=user.id)
    trail.record(user, "photo.stored", "photo", sha, {
        "content_type": photo.content_type, "byte_size": photo.byte_size,
        "width": photo.width, "height": photo.height, "taken_at": photo.taken_at,
    }, device_id=device_id)
    db.session.flush()
    return photo, True


# Reading back -------------------------------------------------------------------------

def visible_photo(user: User, sha256: str) -> Photo | None:
    """The photo `sha256` if its bytes have arrived and `user` may see it (HEAD), else None:
    to anyone else a stored photo and an unknown hash look the same."""
    photo = stored_photo(sha256)
    return photo if photo is not None and can(user, "photo.view", photo) else None


def stored_photo(sha256: str) -> Photo | None:
    """The photo `sha256` if its bytes have arrived (HEAD), else None."""
    try:
        sha = check_sha(sha256)
    except BadHash:
        return None
    photo = db.session.get(Photo, sha)
    return photo if photo is not None and photo.state == PhotoState.STORED else None


def open_for(user: User, sha256: str, size: str):
    """Open the `size` copy of photo `sha256` for `user`: (photo, file object, content type).

    :raise Invalid: `size` is not thumb, display or original.
    :raise NotFound: no such photo, not arrived yet, or not one `user` may see - the
        answers are the same so that a hash reveals nothing to someone without access.
    """
    if size not in SIZES:
        raise Invalid("size must be thumb, display or original.", {"size": [f"Must be one of {', '.join(SIZES)}."]})
    photo = stored_photo(sha256)
    if photo is None or not can(user, "photo.view", photo):
        raise NotFound("No such photo.")
    content_type = photo.content_type if size == "original" else "image/jpeg"
    try:
        stream = photo_store().open(object_key(size, photo.sha256))
    except MissingObject:
        log.error("photo %s is stored but its %s copy is missing from the photo store", photo.sha256, size)
        raise NotFound("This photo's file is missing on the server; an administrator has to restore it.") from None
    return photo, stream, content_type
