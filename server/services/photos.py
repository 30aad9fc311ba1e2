"""Photo evidence intake: check the bytes a device sent, keep them, make the copies people see.

The original bytes are the evidence: they are stored exactly as sent, under the SHA-256
the device computed and the server recomputed. What people look at are two derivatives
made once at intake - `display` (long edge at most 2048 px) and `thumb` (at most 320 px) -
turned upright and stripped of EXIF, GPS and XMP, so a location never leaves through a
picture shown in the register.

Intake is built for a 12-megapixel phone JPEG on a small server: JPEGs are decoded with
libjpeg's DCT scaling (`Image.draft`) straight to about display size, so the full-size
frame is never decoded; both copies are made from that one reduced decode.
"""

import hashlib
import io
import logging
import re
import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from flask import current_app
from PIL import Image, ImageFile
from sqlalchemy import select

from ..errors import DomainError, Invalid, NotAllowed, NotFound
from ..extensions import db
from ..models import (
    Audit,
    CorrectiveAction,
    Finding,
    Photo,
    PhotoLink,
    PhotoState,
    PhotoSubject,
    Response,
    User,
    happened_at,
)
from ..permissions import can, is_reviewer
from ..storage import MissingObject, object_key, photo_store
from . import feed, trail
from .evidence import expect_photo

log = logging.getLogger(__name__)

SHA256 = re.compile(r"[0-9a-f]{64}")
DISPLAY_EDGE = 2048
THUMB_EDGE = 320
SIZES = ("thumb", "display", "original")
# A DCT-scaled decode that lands within 10% under the display edge is kept as it is: a
# 4000 px frame decodes at 1/2 to 2000 px, where a full decode to reach 2048 would cost
# three to four times the time and memory for 2% more pixels.
DRAFT_SLACK = 0.9
DISPLAY_QUALITY = 85
THUMB_QUALITY = 80
# Pillow's advice: reduce by an integer factor first, then resample the last step. The
# thumbnail allows a bigger integer step (a 2000 px frame reduces by 4, not 3): at 320 px
# the difference does not show, and it saves a few percent of intake time.
REDUCING_GAP = {"display": 2.0, "thumb": 1.5}

# The formats accepted, by Pillow's name. HEIC is not among them: the field app sends
# what its canvas encodes (JPEG or WebP), and a HEIF decoder (libheif via pillow-heif)
# would add a large C attack surface for photos no client of ours produces.
ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
ACCEPTED_TEXT = "JPEG, PNG or WebP"
# Headers a client may declare; the bytes decide the real type.
DECLARABLE = {"image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/webp", "application/octet-stream"}

# EXIF tags and sub-IFDs used here.
ORIENTATION = 0x0112
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011

# EXIF orientation -> the one transpose that turns the stored pixels upright.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SIDEWAYS = {5, 6, 7, 8}

# Pillow reports malformed input through many exception types; any of them while
# decoding a client's bytes means the photo is unreadable, not that the server broke.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error, ZeroDivisionError)


class BadHash(DomainError):
    status = 400
    code = "bad_hash"


class HashMismatch(Invalid):
    code = "hash_mismatch"


class UnreadablePhoto(Invalid):
    code = "unreadable_photo"


class PhotoTooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedPhotoType(DomainError):
    status = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class Derivatives:
    """What intake learns from decoding: upright size, capture time and the two copies."""

    content_type: str
    width: int
    height: int
    taken_at: datetime | None
    display: bytes
    thumb: bytes


def check_sha(sha256: str) -> str:
    """Return `sha256` as lower-case hex. :raise BadHash: when it is not a SHA-256 hex digest."""
    value = sha256.lower() if isinstance(sha256, str) else ""
    if not SHA256.fullmatch(value):
        raise BadHash("The photo address must be the SHA-256 of its bytes: 64 hexadecimal characters.")
    return value


def sniff(data: bytes) -> str | None:
    """The Pillow format name of `data` from its signature, when it is one we accept."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def refuse_oversize(length: int | None, limit: int) -> None:
    """Refuse a body announced as larger than `limit` before reading it. :raise PhotoTooLarge:"""
    if length is not None and length > limit:
        raise PhotoTooLarge(f"The photo is {_mb(length)}; the limit is {_mb(limit)}.")


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
    :raise PhotoTooLarge (413): over GEMBA_MAX_PHOTO_BYTES, or more pixels than
        GEMBA_MAX_PHOTO_PIXELS (a decompression bomb).
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
        raise PhotoTooLarge(f"The photo is {_mb(len(data))}; the limit is {_mb(limit)}.")
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
            derived = derive(data, fmt, current_app.config["GEMBA_MAX_PHOTO_PIXELS"])
        except DomainError:
            kept.result()
            store.delete(original)  # the same bytes can never decode, so no one needs them
            raise
        writes = [kept] + [writer.submit(store.put, object_key(size, sha), getattr(derived, size))
                           for size in ("display", "thumb")]
        photo, created = _record_stored(user, sha, len(data), derived, device_id, at)
        for write in writes:
            write.result()  # a storage error surfaces here and the request does not commit
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
    photo.taken_at = derived.taken_at
    photo.uploaded_by_id = user.id
    photo.uploaded_at = happened_at(at)
    feed.publish("photo", sha, 1, user_id=user.id)
    trail.record(user, "photo.stored", "photo", sha, {
        "content_type": photo.content_type, "byte_size": photo.byte_size,
        "width": photo.width, "height": photo.height, "taken_at": photo.taken_at,
    }, device_id=device_id)
    db.session.flush()
    return photo, True


def derive(data: bytes, fmt: str, max_pixels: int) -> Derivatives:
    """Decode `data` (a `fmt` image) once and make the upright, metadata-free copies.

    :raise PhotoTooLarge: more than `max_pixels` pixels. :raise UnreadablePhoto: corrupt or truncated.
    """
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; a warning here is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                return _derive(image, fmt, max_pixels)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoTooLarge(_too_many_pixels(max_pixels)) from None
    except PhotoTooLarge:
        raise
    except DECODE_ERRORS as exc:
        log.info("unreadable photo: %s", exc)
        message = str(exc)
        if "truncated" in message or isinstance(exc, EOFError):
            raise UnreadablePhoto("The photo is cut short (truncated): upload the whole file again.") from None
        raise UnreadablePhoto(f"The photo cannot be read; the {fmt} data is corrupt.") from None


def _derive(image: ImageFile.ImageFile, fmt: str, max_pixels: int) -> Derivatives:
    stored_width, stored_height = image.size
    if stored_width * stored_height > max_pixels:
        raise PhotoTooLarge(_too_many_pixels(max_pixels))
    if fmt == "JPEG":
        # Staying in YCbCr skips the colour conversion on decode and again on encode;
        # resampling and rotating work the same in either space.
        scale = _draft_scale(image.size)
        image.draft("YCbCr", (stored_width // scale, stored_height // scale) if scale > 1 else None)
    image.load()
    orientation, taken_at = _read_exif(image)

    pixels = _flatten(image)
    icc_profile = image.info.get("icc_profile")
    # Pillow's resize and transpose let go of the GIL (its codecs do not), so the
    # thumbnail is made on a second core while this thread turns and encodes the display.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="photo-thumb") as helper:
        thumb = helper.submit(_upright_copy, pixels, orientation, THUMB_EDGE)
        display = _jpeg(_upright_copy(pixels, orientation, DISPLAY_EDGE), DISPLAY_QUALITY, icc_profile)
        thumb = _jpeg(thumb.result(), THUMB_QUALITY, icc_profile)
    if orientation in SIDEWAYS:
        stored_width, stored_height = stored_height, stored_width
    return Derivatives(
        content_type=ACCEPTED[fmt],
        width=stored_width,
        height=stored_height,
        taken_at=taken_at,
        display=display,
        thumb=thumb,
    )


def _upright_copy(pixels: Image.Image, orientation: int, edge: int) -> Image.Image:
    """`pixels` within `edge`, then turned upright (turning the smaller image is cheaper)."""
    copy = _fit(pixels, edge)
    return copy.transpose(UPRIGHT[orientation]) if orientation in UPRIGHT else copy


def _draft_scale(size: tuple[int, int]) -> int:
    """The largest DCT scale-down (1/8, 1/4, 1/2) that keeps the display copy sharp."""
    long_edge = max(size)
    for scale in (8, 4, 2):
        if long_edge / scale >= DISPLAY_EDGE * DRAFT_SLACK:
            return scale
    return 1


def _read_exif(image: Image.Image) -> tuple[int, datetime | None]:
    """Orientation and capture time; broken EXIF reads as none rather than refusing the photo."""
    try:
        exif = image.getexif()
        orientation = exif.get(ORIENTATION, 1)
        sub = exif.get_ifd(EXIF_IFD)
        taken_at = _exif_time(sub.get(DATETIME_ORIGINAL), sub.get(OFFSET_TIME_ORIGINAL))
    except DECODE_ERRORS + (TypeError,) as exc:
        log.info("unreadable EXIF ignored: %s", exc)
        return 1, None
    return (orientation if isinstance(orientation, int) else 1), taken_at


def _exif_time(value, offset) -> datetime | None:
    """EXIF "YYYY:MM:DD HH:MM:SS" with its "+HH:MM" offset when the camera wrote one.

    Without an offset the time is the camera's wall clock in an unknown zone; it is kept
    as if it were UTC, which is the best a register can do with it.
    """
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    try:
        taken = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = UTC
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    if isinstance(offset, str) and (match := re.fullmatch(r"([+-])(\d\d):(\d\d)", offset.strip("\x00 "))):
        sign = 1 if match[1] == "+" else -1
        minutes = int(match[2]) * 60 + int(match[3])
        if minutes < 24 * 60:
            zone = timezone(sign * timedelta(minutes=minutes))
    return taken.replace(tzinfo=zone).astimezone(UTC)


def _flatten(image: Image.Image) -> Image.Image:
    """The pixels in a mode JPEG can hold (RGB, L, YCbCr); transparency goes onto white."""
    if image.mode in ("RGB", "L", "YCbCr"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit and float greyscale: scale into 8 bits instead of clipping to white.
        high = 65535 if image.mode.startswith("I;16") or image.mode == "I" else 1.0
        return image.convert("I").point(lambda v: v * 255 / high).convert("L")
    return image.convert("RGB")


def _fit(image: Image.Image, edge: int) -> Image.Image:
    width, height = image.size
    if max(width, height) <= edge:
        return image
    ratio = edge / max(width, height)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    gap = REDUCING_GAP["thumb" if edge <= THUMB_EDGE else "display"]
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=gap)


def _jpeg(image: Image.Image, quality: int, icc_profile: bytes | None) -> bytes:
    """Encode as JPEG with nothing but the pixels (and the colour profile, which locates nobody)."""
    out = io.BytesIO()
    options = {"quality": quality, "exif": b""}
    if icc_profile:
        options["icc_profile"] = icc_profile
    image.save(out, "JPEG", **options)
    return out.getvalue()


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size} bytes"


def _too_many_pixels(max_pixels: int) -> str:
    return (f"The picture has more than {max_pixels / 1_000_000:g} megapixels; it is refused as a "
            "possible decompression bomb. Send a photo of at most that size.")


# Reading back -------------------------------------------------------------------------

def stored_photo(sha256: str) -> Photo | None:
    """The photo `sha256` if its bytes have arrived (HEAD), else None."""
    try:
        sha = check_sha(sha256)
    except BadHash:
        return None
    photo = db.session.get(Photo, sha)
    return photo if photo is not None and photo.state == PhotoState.STORED else None


def can_view(user: User | None, photo: Photo) -> bool:
    """Whether `user` may see `photo`: they uploaded it, review, or may see a record it is on."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    if is_reviewer(user) or photo.uploaded_by_id == user.id:
        return True
    links = db.session.scalars(select(PhotoLink).where(PhotoLink.photo_sha256 == photo.sha256))
    return any(_may_see_subject(user, link) for link in links)


def _may_see_subject(user: User, link: PhotoLink) -> bool:
    if link.subject == PhotoSubject.FINDING:
        finding = db.session.get(Finding, link.subject_id)
        return finding is not None and can(user, "finding.view", finding)
    if link.subject == PhotoSubject.RESPONSE:
        response = db.session.get(Response, link.subject_id)
        audit = db.session.get(Audit, response.audit_id) if response is not None else None
        return audit is not None and can(user, "audit.view", audit)
    if link.subject == PhotoSubject.ACTION:
        action = db.session.get(CorrectiveAction, link.subject_id)
        # The action's evidence belongs to the finding it answers.
        return action is not None and (can(user, "action.view", action) or can(user, "finding.view", action.finding))
    return False


def open_for(user: User, sha256: str, size: str):
    """Open the `size` copy of photo `sha256` for `user`: (photo, file object, content type).

    :raise Invalid: `size` is not thumb, display or original.
    :raise NotFound: no such photo, not arrived yet, or not one `user` may see - the
        answers are the same so that a hash reveals nothing to someone without access.
    """
    if size not in SIZES:
        raise Invalid("size must be thumb, display or original.", {"size": [f"Must be one of {', '.join(SIZES)}."]})
    photo = stored_photo(sha256)
    if photo is None or not can_view(user, photo):
        raise NotFound("No such photo.")
    content_type = photo.content_type if size == "original" else "image/jpeg"
    try:
        stream = photo_store().open(object_key(size, photo.sha256))
    except MissingObject:
        log.error("photo %s is stored but its %s copy is missing from the photo store", photo.sha256, size)
        raise NotFound("This photo's file is missing on the server; an administrator has to restore it.") from None
    return photo, stream, content_type
