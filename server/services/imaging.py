"""Pure imaging: decode a photo once and make the copies people see. No database, no storage.

What people look at are two derivatives made once at intake - `display` (long edge at most
2048 px) and `thumb` (at most 320 px) - turned upright and stripped of EXIF, GPS and XMP, so
a location never leaves through a picture shown in the register.

Built for a 12-megapixel phone JPEG on a small server: JPEGs are decoded with libjpeg's
DCT scaling (`Image.draft`) straight to about display size, so the full-size frame is
never decoded; both copies are made from that one reduced decode.

What a decode may cost is known before any pixel is decoded: the header gives the size
and mode, and `decode_cost` turns them into the bytes the decoder and the copies will
hold (see its table). A photo whose cost is over the budget is refused from its header
alone, so a 2.5 KB WebP that claims 8000 x 8000 RGBA costs nothing to refuse.
"""

import contextlib
import io
import logging
import re
import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from PIL import Image, ImageCms, ImageFile

from ..errors import DomainError, Invalid
from .imagecheck import UnreadablePhoto, check_complete

log = logging.getLogger(__name__)

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


# Pixel modes a photo may decode to, and the bytes per pixel Pillow holds each in (RGB is
# stored four bytes wide, like RGBA). Any other mode is refused before decoding.
MODE_BYTES = {
    "1": 1, "L": 1, "P": 1, "LA": 4, "PA": 4, "RGB": 4, "RGBA": 4, "CMYK": 4, "YCbCr": 4,
    "I;16": 2, "I;16B": 2, "I;16L": 2, "I": 4,
}
# Modes that go through full-size conversions on the way to JPEG (`_flatten`): how many
# more frames of four bytes per pixel (transparency: an RGBA copy unless it is RGBA
# already, and the white background; 16-bit greyscale: via "I", scaled, then to "L").
CONVERTED = {"1": 1, "P": 2, "LA": 2, "PA": 2, "RGBA": 1, "CMYK": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I": 2}
# How many frames the format's decoder holds at its peak, measured with bench.intake_memory:
# Pillow's WebP decoder keeps libwebp's canvas, the previous canvas (for animation), a
# bytes copy and the image - four frames of RGBA whatever the mode.
DECODER_FRAMES = {"WEBP": 4}


class BadHash(DomainError):
    status = 400
    code = "bad_hash"


class HashMismatch(Invalid):
    code = "hash_mismatch"


class PhotoTooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedPhotoType(DomainError):
    status = 415
    code = "unsupported_media_type"


class UnsupportedPixelFormat(Invalid):
    code = "unsupported_pixel_format"


class TooCostlyToDecode(PhotoTooLarge):
    code = "too_costly_to_decode"


@dataclass(frozen=True)
class Derivatives:
    """What intake learns from decoding: upright size, capture time and the two copies."""

    content_type: str
    width: int
    height: int
    taken_at: datetime | None
    display: bytes
    thumb: bytes


def sniff(data: bytes) -> str | None:
    """The Pillow format name of `data` from its signature, when it is one we accept."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def derive(data: bytes, fmt: str, max_pixels: int, max_decode_bytes: int | None = None,
           slot=contextlib.nullcontext) -> Derivatives:
    """Decode `data` (a `fmt` image) once and make the upright, metadata-free copies.

    The header is read first; a photo whose `decode_cost` is over `max_decode_bytes` is
    refused before decoding. The decode itself runs inside `slot()` (a context manager:
    the caller's bound on how many decodes run at once).

    :raise PhotoTooLarge: more than `max_pixels` pixels, or (TooCostlyToDecode) over
        `max_decode_bytes`. :raise UnsupportedPixelFormat: a pixel mode not accepted.
    :raise UnreadablePhoto: corrupt or truncated.
    """
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; a warning here is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                _check_cost(image, fmt, max_pixels, max_decode_bytes)
                with slot():
                    check_complete(data, fmt)  # no lenient decode of a cut or forged file
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


def decode_cost(image: ImageFile.ImageFile, fmt: str) -> int:
    """The bytes decoding `image` (opened, not loaded) and making its copies will hold at most.

    - the decoded frame: width x height x bytes per pixel of its mode; for a JPEG, of the
      DCT-scaled size it will be decoded at;
    - a progressive JPEG also makes libjpeg keep every DCT coefficient of the full-size
      frame (2 bytes each, per component at its own sampling), however small the output;
    - a WebP decoder holds `DECODER_FRAMES` RGBA frames;
    - a mode that is converted on the way to JPEG costs one more frame (`CONVERTED`).

    :raise UnsupportedPixelFormat: a mode outside `MODE_BYTES`.
    """
    mode = image.mode
    if mode not in MODE_BYTES:
        raise UnsupportedPixelFormat(
            f"Photos with {mode} pixels are not accepted; send an 8-bit RGB or greyscale photo.")
    width, height = image.size
    pixels = width * height
    if fmt == "JPEG":
        scale = _draft_scale(image.size)
        decoded = -(-width // scale) * -(-height // scale) * MODE_BYTES[mode]
        if image.info.get("progressive") or image.info.get("progression"):
            decoded += _coefficient_bytes(image)
        return decoded + (pixels // scale // scale * 4 if mode in CONVERTED else 0)
    frames = DECODER_FRAMES.get(fmt)
    decoded = pixels * 4 * frames if frames else pixels * MODE_BYTES[mode]
    # Resampling to the display size goes through one pass at the new width, full height.
    resampled = pixels * 4 * DISPLAY_EDGE // max(width, height) if max(width, height) > DISPLAY_EDGE else 0
    return decoded + pixels * 4 * CONVERTED.get(mode, 0) + resampled


def _coefficient_bytes(image: ImageFile.ImageFile) -> int:
    """The full-size coefficient buffer libjpeg keeps for a progressive JPEG."""
    width, height = image.size
    layers = getattr(image, "layer", None) or [("?", 1, 1, 0)] * max(1, len(image.getbands()))
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    total = 0
    for _, h, v, _ in layers:
        blocks_wide = -(-(-(-width * h // h_max)) // 8)
        blocks_high = -(-(-(-height * v // v_max)) // 8)
        total += blocks_wide * blocks_high * 64 * 2
    return total


def _check_cost(image: ImageFile.ImageFile, fmt: str, max_pixels: int, max_decode_bytes: int | None) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise PhotoTooLarge(_too_many_pixels(max_pixels))
    cost = decode_cost(image, fmt)
    if max_decode_bytes is not None and cost > max_decode_bytes:
        raise TooCostlyToDecode(
            f"The photo is {width} x {height} {image.mode} pixels: decoding it would take {mb(cost)} "
            f"of memory, over the {mb(max_decode_bytes)} allowed for one photo. Send a smaller photo "
            "(a JPEG of at most 2048 px on its long edge always fits).")


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
    # Nothing of the file's metadata may follow the pixels into the copies: resizing
    # copies `info` (JPEG comments, XMP, ...) and the JPEG encoder writes what it finds there.
    pixels.info = {}
    # Pillow's resize and transpose let go of the GIL (its codecs do not), so the
    # thumbnail is made on a second core while this thread turns and encodes the display.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="photo-thumb") as helper:
        thumb = helper.submit(_upright_copy, pixels, orientation, THUMB_EDGE)
        display = _jpeg(_srgb(_upright_copy(pixels, orientation, DISPLAY_EDGE), icc_profile), DISPLAY_QUALITY)
        thumb = _jpeg(_srgb(thumb.result(), icc_profile), THUMB_QUALITY)
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
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
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


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """`image` in sRGB, so that the copy needs no colour profile (a profile is a block of
    the device's own text and tags). A profile that cannot be applied is dropped."""
    if not icc_profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        converted = ImageCms.profileToProfile(rgb, source, SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.info("colour profile not applied: %s", exc)
        return image
    converted.info = {}
    return converted


def _jpeg(image: Image.Image, quality: int) -> bytes:
    """Encode as JPEG with nothing but the pixels: no EXIF, XMP, comment or colour profile."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=b"", comment=b"", xmp=b"")
    return out.getvalue()


def mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size} bytes"


def _too_many_pixels(max_pixels: int) -> str:
    return (f"The picture has more than {max_pixels / 1_000_000:g} megapixels; it is refused as a "
            "possible decompression bomb. Send a photo of at most that size.")
