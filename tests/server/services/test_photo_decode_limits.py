"""What decoding one upload may cost is bounded before decoding, and so is how many decode at once."""

import io
import threading

import pytest
from PIL import Image

from server.models import Photo
from server.extensions import db
from server.services import imaging, photos
from server.storage import object_key, photo_store
from tests import images

MB = 1024 * 1024


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


# Small files that claim many pixels, one of each format and of the costly modes. With a
# 1 MB budget each costs over it, from its header alone.
HOSTILE = {
    "webp lossless RGBA": lambda: _save(Image.new("RGBA", (600, 600), (1, 2, 3, 4)), "WEBP", lossless=True),
    "webp lossy": lambda: _save(Image.new("RGB", (600, 600), (1, 2, 3)), "WEBP", quality=10),
    "png RGB": lambda: _save(Image.new("RGB", (600, 600), (1, 2, 3)), "PNG"),
    "png RGBA": lambda: _save(Image.new("RGBA", (600, 600), (1, 2, 3, 4)), "PNG"),
    "png palette": lambda: _save(Image.new("P", (800, 800), 3), "PNG"),
    "png 16-bit grey": lambda: _save(Image.new("I;16", (800, 800), 300), "PNG"),
    "jpeg progressive": lambda: _save(Image.new("RGB", (1000, 1000), (1, 2, 3)), "JPEG", progressive=True),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_an_upload_costing_more_than_the_budget_is_refused_from_its_header(app, staff, name):
    app.config["GEMBA_MAX_DECODE_BYTES"] = 1 * MB
    data = HOSTILE[name]()
    with pytest.raises(imaging.TooCostlyToDecode, match="memory") as refused:
        photos.intake(staff, images.sha(data), data)
    assert refused.value.status == 413
    assert "x" in refused.value.message and "allowed for one photo" in refused.value.message
    assert not photo_store().exists(object_key("original", images.sha(data)))
    assert db.session.get(Photo, images.sha(data)) is None


@pytest.mark.parametrize("name", HOSTILE)
def test_the_same_files_are_taken_in_under_the_default_budget(app, staff, name):
    data = HOSTILE[name]()
    photo, created = photos.intake(staff, images.sha(data), data)
    assert created and photo.width >= 600


def test_a_baseline_jpeg_costs_what_it_decodes_at_after_dct_scaling():
    data = _save(Image.new("RGB", (8000, 6000), (1, 2, 3)), "JPEG", quality=30)
    with Image.open(io.BytesIO(data)) as image:
        cost = imaging.decode_cost(image, "JPEG")
    # decoded at 1/4: 2000 x 1500, four bytes a pixel - not the 192 MB of the full frame
    assert cost == 2000 * 1500 * 4


def test_a_progressive_jpeg_counts_its_full_size_coefficients():
    data = _save(Image.new("RGB", (8000, 6000), (1, 2, 3)), "JPEG", quality=30, progressive=True)
    with Image.open(io.BytesIO(data)) as image:
        cost = imaging.decode_cost(image, "JPEG")
    # 4:2:0: luma 1000 x 750 blocks, each chroma 500 x 375; 64 coefficients of 2 bytes
    assert cost == 2000 * 1500 * 4 + (1000 * 750 + 2 * 500 * 375) * 128


def test_the_8000_pixel_lossless_webp_of_the_report_is_refused_with_a_json_413(signed_in, staff):
    Image.MAX_IMAGE_PIXELS, limit = None, Image.MAX_IMAGE_PIXELS
    try:
        data = _save(Image.new("RGBA", (8000, 8000), (1, 2, 3, 4)), "WEBP", lossless=True)
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    assert len(data) < 5000
    response = signed_in(staff).put(f"/api/photos/{images.sha(data)}", data=data, content_type="image/webp")
    assert response.status_code == 413
    error = response.json["error"]
    assert error["code"] == "too_costly_to_decode"
    assert "8000 x 8000 RGBA" in error["message"]


@pytest.mark.parametrize("mode", ["F", "RGBX", "HSV", "LAB"])
def test_pixel_modes_outside_the_list_are_refused(mode):
    try:
        image = Image.new(mode, (4, 4))
    except (ValueError, OSError):
        pytest.skip(f"this Pillow cannot make {mode} images")
    with pytest.raises(imaging.UnsupportedPixelFormat) as refused:
        imaging.decode_cost(image, "PNG")
    assert refused.value.status == 422 and mode in refused.value.message


def test_decodes_past_the_per_process_slots_wait_then_get_a_503(app, staff):
    app.config["GEMBA_INTAKE_CONCURRENCY"] = 1
    app.config["GEMBA_INTAKE_WAIT_SECONDS"] = 0
    data = images.jpeg()
    held, release = threading.Event(), threading.Event()

    def hold_the_only_slot():
        with app.app_context(), photos._decode_slot()():
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_only_slot)
    holder.start()
    try:
        assert held.wait(30)
        with pytest.raises(photos.IntakeBusy) as busy:
            photos.intake(staff, images.sha(data), data)
        assert busy.value.status == 503 and busy.value.retry_after > 0
    finally:
        release.set()
        holder.join(30)
    photo, created = photos.intake(staff, images.sha(data), data)  # the slot is free again
    assert created


def test_a_busy_server_answers_503_with_retry_after_over_http(app, signed_in, staff):
    app.config["GEMBA_INTAKE_CONCURRENCY"] = 1
    app.config["GEMBA_INTAKE_WAIT_SECONDS"] = 0
    client = signed_in(staff)
    data = images.jpeg()
    with photos._decode_slot()():
        response = client.put(f"/api/photos/{images.sha(data)}", data=data, content_type="image/jpeg")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "busy"
    assert int(response.headers["Retry-After"]) > 0
