"""A photo whose data does not hold what its header claims is refused; copies carry no metadata."""

import io
import zlib

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from server.extensions import db
from server.models import Photo
from server.services import imagecheck, photos
from server.storage import object_key, photo_store
from tests import images


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _noisy(width: int, height: int, mode: str = "RGB") -> Image.Image:
    return Image.effect_noise((width, height), 60).convert(mode)


def _jpeg_claiming(width: int, height: int, progressive: bool = False) -> bytes:
    """A 16 x 16 JPEG whose frame header is rewritten to say `width` x `height`."""
    data = _save(_noisy(16, 16), "JPEG", progressive=progressive)
    at = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    return data[:at + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[at + 9:]


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], 8
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        chunks.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def _png_from(chunks) -> bytes:
    out = b"\x89PNG\r\n\x1a\n"
    for kind, body in chunks:
        out += len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
    return out


def _png_claiming_height(height: int) -> bytes:
    chunks = _png_chunks(_save(_noisy(16, 16), "PNG"))
    kind, header = chunks[0]
    chunks[0] = (kind, header[:4] + height.to_bytes(4, "big") + header[8:])
    return _png_from(chunks)


def _webp_lossless_claiming(width: int, height: int) -> bytes:
    data = bytearray(_save(_noisy(64, 64), "WEBP", lossless=True))
    at = data.find(b"VP8L") + 9
    bits = int.from_bytes(data[at:at + 4], "little")
    bits = (bits & ~((1 << 28) - 1)) | (width - 1) | ((height - 1) << 14)
    data[at:at + 4] = bits.to_bytes(4, "little")
    return bytes(data)


PNG = _save(_noisy(40, 30), "PNG")
JPEG = _save(_noisy(64, 48), "JPEG")
FORGED = {
    "jpeg claiming 8000x8000 over 16x16": lambda: _jpeg_claiming(8000, 8000),
    "jpeg claiming 2000x1000 over 16x16": lambda: _jpeg_claiming(2000, 1000),
    "progressive jpeg claiming 4000x3000": lambda: _jpeg_claiming(4000, 3000, progressive=True),
    "jpeg without its end marker": lambda: JPEG[:-2],
    "jpeg cut in its image data": lambda: JPEG[:len(JPEG) * 2 // 3],
    "jpeg cut in its header": lambda: JPEG[:200],
    "png without IEND": lambda: PNG[:-12],
    "png cut in its IDAT": lambda: PNG[:-30],
    "png claiming 8000 rows over 16": lambda: _png_claiming_height(8000),
    "png with a bad chunk checksum": lambda: PNG[:-16] + bytes([PNG[-16] ^ 1]) + PNG[-15:],
    "png with its IDAT stream ended early": lambda: _png_from(
        [(k, zlib.compress(zlib.decompress(b)[:50]) if k == b"IDAT" else b) for k, b in _png_chunks(PNG)]),
    "webp cut short": lambda: _save(_noisy(64, 64), "WEBP", quality=80)[:-40],
    "webp lossless claiming 1500x1500": lambda: _webp_lossless_claiming(1500, 1500),
}


@pytest.mark.parametrize("name", FORGED)
def test_data_that_does_not_hold_what_its_header_claims_is_refused(app, staff, name):
    data = FORGED[name]()
    with pytest.raises(photos.UnreadablePhoto) as refused:
        photos.intake(staff, images.sha(data), data)
    assert refused.value.status == 422
    assert "cut short" in refused.value.message or "corrupt" in refused.value.message
    assert not photo_store().exists(object_key("original", images.sha(data)))
    assert db.session.get(Photo, images.sha(data)) is None


def test_the_forged_jpeg_is_a_json_422_over_http(signed_in, staff):
    data = _jpeg_claiming(8000, 8000)
    response = signed_in(staff).put(f"/api/photos/{images.sha(data)}", data=data, content_type="image/jpeg")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "unreadable_photo"
    assert "8000 x 8000" in response.json["error"]["message"]


VALID = {
    "baseline jpeg": lambda: _save(_noisy(300, 200), "JPEG"),
    "progressive jpeg": lambda: _save(_noisy(300, 200), "JPEG", progressive=True),
    "jpeg with restart markers": lambda: _save(_noisy(300, 200), "JPEG", restart_marker_blocks=2),
    "jpeg of a flat colour": lambda: _save(Image.new("RGB", (2000, 1500), (90, 90, 90)), "JPEG", quality=10),
    "greyscale jpeg": lambda: _save(_noisy(300, 200, "L"), "JPEG"),
    "jpeg with bytes after its end": lambda: _save(_noisy(100, 80), "JPEG") + b"trailer",
    "png": lambda: _save(_noisy(300, 200), "PNG"),
    "interlaced png": lambda: _interlaced_png(),
    "16-bit png": lambda: _save(Image.new("I;16", (64, 64), 3000), "PNG"),
    "palette png with transparency": lambda: _save(_noisy(64, 64, "P"), "PNG", transparency=0),
    "1-bit png": lambda: _save(_noisy(67, 33, "1"), "PNG"),
    "png of a flat colour": lambda: _save(Image.new("RGB", (3000, 2000), (1, 2, 3)), "PNG"),
    "webp lossy": lambda: _save(_noisy(300, 200), "WEBP", quality=80),
    "webp lossless": lambda: _save(_noisy(300, 200, "RGBA"), "WEBP", lossless=True),
}


def _interlaced_png() -> bytes:
    """Pillow writes no interlaced PNG: build one (Adam7 passes, filter 0) by hand."""
    width, height = 13, 11
    pixels = _noisy(width, height)
    raw = b""
    for x0, y0, dx, dy in imagecheck.ADAM7:
        for y in range(y0, height, dy):
            row = bytes(channel for x in range(x0, width, dx) for channel in pixels.getpixel((x, y)))
            if row:
                raw += b"\x00" + row
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 1])
    return _png_from([(b"IHDR", header), (b"IDAT", zlib.compress(raw)), (b"IEND", b"")])


@pytest.mark.parametrize("name", VALID)
def test_whole_photos_of_every_kind_pass(staff, name):
    data = VALID[name]()
    photo, created = photos.intake(staff, images.sha(data), data)
    assert created


def test_an_arithmetic_coded_jpeg_is_refused_with_the_reason():
    data = bytearray(JPEG)
    at = data.find(b"\xff\xc0")
    data[at + 1] = 0xC9
    with pytest.raises(imagecheck.UnsupportedCoding, match="Arithmetic"):
        imagecheck.check_complete(bytes(data), "JPEG")


# Metadata --------------------------------------------------------------------------------

SECRET = b"Gemba-secret-52.3809N"
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _png_with_every_text_chunk() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET.decode())
    info.add_text("Location", SECRET.decode(), zip=True)
    info.add_itxt("XML:com.adobe.xmp", SECRET.decode(), lang="en")
    return _save(_noisy(120, 80), "PNG", pnginfo=info, icc_profile=ICC,
                 exif=images.exif(gps=True, orientation=6))


WITH_METADATA = {
    "jpeg": lambda: _save(_noisy(120, 80), "JPEG", comment=SECRET, xmp=b"<x:xmpmeta>" + SECRET + b"</x:xmpmeta>",
                          icc_profile=ICC, exif=images.exif(gps=True, orientation=6)),
    "png": _png_with_every_text_chunk,
    "webp": lambda: _save(_noisy(120, 80), "WEBP", xmp=SECRET, icc_profile=ICC,
                          exif=images.exif(gps=True, orientation=6)),
}
# What a metadata-free JPEG is made of: SOI, JFIF APP0, tables, frame, scans, EOI.
PLAIN_MARKERS = {0xD8, 0xE0, 0xDB, 0xC4, 0xC0, 0xC2, 0xDD, 0xDA, 0xD9}


def _markers(jpeg: bytes) -> list[int]:
    found, pos = [], 2
    while pos < len(jpeg):
        marker = jpeg[pos + 1]
        found.append(marker)
        if marker == 0xDA:
            break
        pos += 2 + int.from_bytes(jpeg[pos + 2:pos + 4], "big")
    return found


@pytest.mark.parametrize("name", WITH_METADATA)
def test_every_metadata_block_is_stripped_from_the_copies_and_kept_in_the_original(staff, name):
    data = WITH_METADATA[name]()
    assert SECRET in data
    photo, _ = photos.intake(staff, images.sha(data), data)
    for size in ("display", "thumb"):
        copy = photo_store().get(object_key(size, photo.sha256))
        assert set(_markers(copy)) <= PLAIN_MARKERS, (size, [hex(m) for m in _markers(copy)])
        for trace in (SECRET, b"ICC_PROFILE", b"acsp", b"Exif", b"xmpmeta", b"Test camera"):
            assert trace not in copy, (size, trace)
        assert Image.open(io.BytesIO(copy)).info.keys() <= {"jfif", "jfif_version", "jfif_unit", "jfif_density",
                                                            "progressive", "progression"}
    assert photo_store().get(object_key("original", photo.sha256)) == data
    assert (photo.width, photo.height) == (80, 120)  # EXIF orientation 6 still read, then dropped
