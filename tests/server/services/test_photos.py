"""Photo intake without HTTP: the bytes are checked, kept as sent, and shown upright without metadata."""

import io
import threading
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import func, select

from server.errors import DomainError, NotAllowed
from server.extensions import db
from server.models import Change, Event, Photo, PhotoState, PhotoSubject
from server.services import evidence, photos
from server.storage import object_key, photo_store
from tests import images


def stored_files(app, kind: str = "original") -> list:
    root = photo_store(app).root / kind
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def open_copy(sha: str, size: str) -> Image.Image:
    return Image.open(io.BytesIO(photo_store().get(object_key(size, sha))))


def test_same_photo_twice_is_stored_once_and_not_rewritten(app, staff):
    data = images.jpeg()
    photo, created = photos.intake(staff, images.sha(data), data, "image/jpeg")
    assert created and photo.state == PhotoState.STORED
    [path] = stored_files(app)
    before = path.stat()

    again, created_again = photos.intake(staff, images.sha(data), data, "image/jpeg")

    assert again is photo and not created_again
    assert stored_files(app) == [path]
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert db.session.scalar(select(func.count()).select_from(Change).where(Change.entity == "photo")) == 1


def test_original_bytes_are_kept_exactly_under_their_hash(app, staff):
    data = images.jpeg(orientation=6, gps=True, xmp=images.XMP)
    photos.intake(staff, images.sha(data), data)
    kept = photo_store().get(object_key("original", images.sha(data)))
    assert kept == data
    assert photo_store(app).path(object_key("original", images.sha(data))).name == images.sha(data)


def test_upper_case_hash_is_the_same_photo(staff):
    data = images.png()
    photo, _ = photos.intake(staff, images.sha(data).upper(), data)
    assert photo.sha256 == images.sha(data)


def test_wrong_hash_is_refused_and_nothing_kept(app, staff):
    data = images.jpeg()
    other = images.sha(b"something else")
    with pytest.raises(photos.HashMismatch) as refused:
        photos.intake(staff, other, data)
    assert refused.value.status == 422
    assert images.sha(data) in refused.value.message and other in refused.value.message
    assert stored_files(app) == []
    assert db.session.get(Photo, other) is None


def test_address_that_is_no_hash_is_refused(staff):
    with pytest.raises(photos.BadHash) as refused:
        photos.intake(staff, "../../etc/passwd", b"x")
    assert refused.value.status == 400


def _bad_inputs():
    good = images.jpeg(200, 100)
    return {
        "corrupt jpeg": (images.corrupt_jpeg(), 422, "unreadable_photo"),
        "truncated jpeg": (images.truncated(good), 422, "unreadable_photo"),
        "truncated png": (images.truncated(images.png(300, 200)), 422, "unreadable_photo"),
        "empty": (b"", 422, "unreadable_photo"),
        "text": (images.TEXT, 415, "unsupported_media_type"),
        "svg": (images.SVG, 415, "unsupported_media_type"),
        "gif": (images.gif(), 415, "unsupported_media_type"),
        "pdf": (images.PDF, 415, "unsupported_media_type"),
        "png bomb (real file)": (images.png_bomb(), 413, "too_large"),
        "png bomb (header)": (images.png_header_bomb(60_000, 60_000), 413, "too_large"),
    }


BAD_INPUTS = _bad_inputs()


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_gets_a_clean_refusal_with_a_message(app, staff, name):
    data, status, code = BAD_INPUTS[name]
    with pytest.raises(DomainError) as refused:
        photos.intake(staff, images.sha(data), data)
    assert (refused.value.status, refused.value.code) == (status, code)
    assert len(refused.value.message) > 20
    assert stored_files(app) == []


def test_truncated_photo_says_so(staff):
    data = images.truncated(images.jpeg(300, 200))
    with pytest.raises(photos.UnreadablePhoto, match="truncated"):
        photos.intake(staff, images.sha(data), data)


def test_over_the_size_limit_is_413(app, staff):
    app.config["GEMBA_MAX_PHOTO_BYTES"] = 1000
    data = images.noisy_jpeg(100, 100)
    assert len(data) > 1000
    with pytest.raises(photos.PhotoTooLarge, match="limit") as refused:
        photos.intake(staff, images.sha(data), data)
    assert refused.value.status == 413


def test_more_pixels_than_configured_is_refused_as_a_bomb(app, staff):
    app.config["GEMBA_MAX_PHOTO_PIXELS"] = 100 * 100
    data = images.png(101, 100)
    with pytest.raises(photos.PhotoTooLarge, match="decompression bomb"):
        photos.intake(staff, images.sha(data), data)


def test_pillows_own_bomb_warning_is_an_error_even_with_a_generous_limit(app, staff):
    # 100 megapixels: above Pillow's warning threshold, below its hard error.
    app.config["GEMBA_MAX_PHOTO_PIXELS"] = 10**12
    data = images.png_bomb(10_000, 10_000)
    with pytest.raises(photos.PhotoTooLarge, match="decompression bomb"):
        photos.intake(staff, images.sha(data), data)


def test_declared_non_image_type_is_refused(staff):
    data = images.jpeg()
    with pytest.raises(photos.UnsupportedPhotoType):
        photos.intake(staff, images.sha(data), data, "text/html")


def test_type_comes_from_the_bytes_not_the_header(staff):
    data = images.png()
    photo, _ = photos.intake(staff, images.sha(data), data, "image/jpeg")
    assert photo.content_type == "image/png"


def test_orientation_6_derivatives_are_upright(staff):
    # Stored 80 x 40 with the red block top-left; turned upright it is 40 x 80, block top-right.
    data = images.jpeg(80, 40, orientation=6)
    photo, _ = photos.intake(staff, images.sha(data), data)
    assert (photo.width, photo.height) == (40, 80)
    for size in ("display", "thumb"):
        copy = open_copy(photo.sha256, size).convert("RGB")
        assert copy.size == (40, 80)
        red, white = copy.getpixel((36, 4)), copy.getpixel((4, 4))
        assert red[0] > 180 and red[1] < 90 and red[2] < 90, red
        assert min(white) > 220, white
        assert copy.getexif().get(images.ORIENTATION) in (None, 1)


def test_upright_photo_keeps_its_layout(staff):
    data = images.jpeg(80, 40, orientation=1)
    photo, _ = photos.intake(staff, images.sha(data), data)
    copy = open_copy(photo.sha256, "display").convert("RGB")
    assert copy.size == (80, 40)
    assert copy.getpixel((4, 4))[1] < 90


def test_location_and_other_metadata_never_reach_the_derivatives(staff):
    data = images.jpeg(orientation=6, gps=True, xmp=images.XMP, taken="2026:03:14 09:26:53")
    original = Image.open(io.BytesIO(data))
    assert original.getexif().get_ifd(images.GPS_IFD), "the fixture must carry GPS"
    photo, _ = photos.intake(staff, images.sha(data), data)

    for size in ("display", "thumb"):
        raw = photo_store().get(object_key(size, photo.sha256))
        copy = Image.open(io.BytesIO(raw))
        assert copy.format == "JPEG"
        assert len(copy.getexif()) == 0
        assert "exif" not in copy.info and "xmp" not in copy.info
        for marker in (b"Exif\x00\x00", b"http://ns.adobe.com/xap/1.0/", b"xmpmeta", b"GPS", b"Test camera"):
            assert marker not in raw, (size, marker)
    # ... while the evidence itself still carries them, untouched.
    assert photo_store().get(object_key("original", photo.sha256)) == data


def test_expected_photo_becomes_stored_with_what_was_learnt(make, staff):
    area = make.area()
    finding = make.finding(area, staff)
    data = images.jpeg(80, 40, orientation=6, gps=True, taken="2026:03:14 09:26:53", offset="+01:00")
    evidence.link_photos(staff, PhotoSubject.FINDING, finding.id, [images.sha(data)])
    assert db.session.get(Photo, images.sha(data)).state == PhotoState.EXPECTED

    photo, created = photos.intake(staff, images.sha(data), data, "image/jpeg")

    assert created
    assert photo.state == PhotoState.STORED
    assert (photo.width, photo.height, photo.content_type, photo.byte_size) == (40, 80, "image/jpeg", len(data))
    assert photo.taken_at == datetime(2026, 3, 14, 8, 26, 53, tzinfo=UTC)
    assert photo.uploaded_by_id == staff.id and photo.uploaded_at is not None
    change = db.session.scalar(select(Change).where(Change.entity == "photo"))
    assert change.entity_id == photo.sha256 and change.user_id == staff.id
    event = db.session.scalar(select(Event).where(Event.action == "photo.stored"))
    assert event.entity_id == photo.sha256 and event.actor_id == staff.id
    assert event.changes["byte_size"] == len(data)


def test_capture_time_without_offset_is_read_as_utc_and_absent_is_none(staff):
    data = images.jpeg(taken="2025:12:31 23:59:58")
    photo, _ = photos.intake(staff, images.sha(data), data)
    assert photo.taken_at == datetime(2025, 12, 31, 23, 59, 58, tzinfo=UTC)
    plain = images.png()
    assert photos.intake(staff, images.sha(plain), plain)[0].taken_at is None


def test_png_with_transparency_and_webp_are_accepted(staff):
    for data, kind in ((images.png(mode="RGBA"), "image/png"), (images.png(mode="P"), "image/png"),
                       (images.webp(), "image/webp")):
        photo, created = photos.intake(staff, images.sha(data), data)
        assert created and photo.content_type == kind
        assert open_copy(photo.sha256, "thumb").format == "JPEG"


def test_large_photo_gets_bounded_copies(staff):
    # 4400 px decodes at 1/2 straight to 2200 and is resized; 2600 px needs a full decode.
    for width, height in ((4400, 1100), (2600, 1950)):
        data = images.noisy_jpeg(width, height, orientation=8)
        photo, _ = photos.intake(staff, images.sha(data), data)
        assert (photo.width, photo.height) == (height, width)
        display, thumb = open_copy(photo.sha256, "display"), open_copy(photo.sha256, "thumb")
        assert 2048 * 0.9 <= max(display.size) <= 2048 and display.height > display.width
        assert max(thumb.size) == 320 and thumb.height > thumb.width


def test_camera_frame_decodes_at_reduced_scale(staff):
    data = images.noisy_jpeg(4000, 3000)
    photo, _ = photos.intake(staff, images.sha(data), data)
    # 4000 / 2: the DCT-scaled decode is the display copy, no full-size frame needed.
    assert open_copy(photo.sha256, "display").size == (2000, 1500)
    assert (photo.width, photo.height) == (4000, 3000)


def test_inactive_user_cannot_upload(make):
    gone = make.user("staff", active=False)
    data = images.jpeg()
    with pytest.raises(NotAllowed):
        photos.intake(gone, images.sha(data), data)


@pytest.mark.postgres_only
def test_concurrent_uploads_of_one_photo_store_it_once(app, make, commit):
    users = [make.user("staff") for _ in range(4)]
    commit()
    ids = [u.id for u in users]
    data = images.jpeg(300, 200, orientation=6)
    results, errors = [], []
    barrier = threading.Barrier(len(ids))

    def upload(user_id):
        with app.app_context():
            try:
                user = db.session.get(type(users[0]), user_id)
                barrier.wait()
                _, created = photos.intake(user, images.sha(data), data)
                db.session.commit()
                results.append(created)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=upload, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(results) == [False, False, False, True]
    assert db.session.scalar(select(func.count()).select_from(Change).where(Change.entity == "photo")) == 1
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.action == "photo.stored")) == 1
