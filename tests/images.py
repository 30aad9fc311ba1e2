"""Test photos made with Pillow: small, with exactly the metadata a test cares about."""

import hashlib
import io
import struct
import zlib

from PIL import Image

ORIENTATION = 0x0112
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="52,22.855N"/>'
       b"</rdf:RDF></x:xmpmeta>")

RED = (220, 20, 20)
WHITE = (255, 255, 255)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def exif(orientation: int | None = None, gps: bool = False, taken: str | None = None,
         offset: str | None = None) -> Image.Exif:
    tags = Image.Exif()
    tags[0x010F] = "Test camera"
    if orientation is not None:
        tags[ORIENTATION] = orientation
    if taken is not None:
        sub = tags.get_ifd(EXIF_IFD)
        sub[DATETIME_ORIGINAL] = taken
        if offset is not None:
            sub[OFFSET_TIME_ORIGINAL] = offset
    if gps:
        fix = tags.get_ifd(GPS_IFD)
        fix[1], fix[2], fix[3], fix[4] = "N", (52.0, 22.0, 51.3), "E", (4.0, 53.0, 32.8)
    return tags


def marked(width: int = 80, height: int = 40) -> Image.Image:
    """White, with a red block in the stored top-left corner so a rotation shows where it went."""
    image = Image.new("RGB", (width, height), WHITE)
    image.paste(RED, (0, 0, width // 4, height // 4))
    return image


def jpeg(width: int = 80, height: int = 40, *, image: Image.Image | None = None, xmp: bytes | None = None,
         quality: int = 92, **exif_args) -> bytes:
    out = io.BytesIO()
    options = {"quality": quality, "exif": exif(**exif_args)}
    if xmp:
        options["xmp"] = xmp
    (image or marked(width, height)).save(out, "JPEG", **options)
    return out.getvalue()


def png(width: int = 60, height: int = 40, mode: str = "RGB", **exif_args) -> bytes:
    out = io.BytesIO()
    image = marked(width, height).convert(mode)
    image.save(out, "PNG", exif=exif(**exif_args) if exif_args else None)
    return out.getvalue()


def webp(width: int = 60, height: int = 40) -> bytes:
    out = io.BytesIO()
    marked(width, height).save(out, "WEBP", quality=90)
    return out.getvalue()


def gif(width: int = 20, height: int = 20) -> bytes:
    out = io.BytesIO()
    marked(width, height).save(out, "GIF")
    return out.getvalue()


def noisy_jpeg(width: int, height: int, **exif_args) -> bytes:
    """A larger JPEG with detail, for the paths that only big photos take."""
    image = Image.merge("RGB", [Image.effect_noise((width, height), 40 + 10 * i) for i in range(3)])
    return jpeg(image=image, quality=80, **exif_args)


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(1)</script><rect width="10" height="10"/></svg>')
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = b"This is not a photo, it is a note about a photo.\n"


def corrupt_jpeg() -> bytes:
    """A JPEG signature followed by bytes that are no JPEG at all."""
    return b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_bomb(width: int, height: int) -> bytes:
    """A few hundred bytes claiming `width` x `height` pixels: what a decompression bomb looks like."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = compressor.compress(row * 16) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def png_bomb(width: int = 10_000, height: int = 10_000) -> bytes:
    """A real, complete 1-bit PNG of `width` x `height` that compresses to a few kilobytes."""
    out = io.BytesIO()
    Image.new("1", (width, height), 0).save(out, "PNG", optimize=False)
    return out.getvalue()
