"""The demo's photo evidence: painted scenes that read back as a phone's JPEGs."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from server.demo import scenes
from server.services import photos

TAKEN = datetime(2026, 7, 14, 10, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
EXAMPLES = {
    "label": {"text": ["CALIBRATED", "TW-14"]},
    "document": {"text": ["WI-ASM-07", "Revision C"], "stamp": "CONTROLLED"},
    "shelf": {"items": "pumps", "tags": ["PASSED", None], "sign": "REPAIR RACK"},
    "spill": {"cones": [[300, 1000]], "sign": ["CAUTION"]},
    "machine": {"tie": True, "locked": True, "chips": True},
    "exit": {"pallets": 2, "hatched": True, "sign": "NOODUITGANG"},
    "walkway": {"worn": True, "boxes": 3, "text": "PEDESTRIANS"},
    "bench": {"items": [{}, {"can": True, "label": ["THINNERS"]}], "sign": ["COSHH"]},
    "board": {"items": "hoods", "missing": [1], "title": "RPE"},
    "gauge": {"reading": 0.2, "text": ["BOOTH 1"]},
}


def test_every_painter_has_an_example():
    assert set(EXAMPLES) == set(scenes.PAINTERS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_scene_is_a_jpeg_intake_reads_with_its_capture_time(name):
    data = scenes.photograph({"scene": name} | EXAMPLES[name], f"test/{name}", TAKEN)
    assert photos.sniff(data) == "JPEG" and 50_000 < len(data) < 400_000
    derived = photos.derive(data, "JPEG", 50_000_000)
    assert (derived.width, derived.height) == scenes.FRAME
    assert derived.taken_at == TAKEN.astimezone(UTC)  # EXIF local time and its offset


def test_the_same_scene_seed_and_moment_give_the_same_bytes_and_another_seed_other_bytes():
    scene = {"scene": "spill"}
    first = scenes.photograph(scene, "oil-leak", TAKEN)
    assert scenes.photograph(scene, "oil-leak", TAKEN) == first
    assert scenes.photograph(scene, "oil-leak/2", TAKEN) != first
    assert scenes.photograph(scene, "oil-leak", TAKEN.replace(minute=31)) != first
