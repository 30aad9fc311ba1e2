"""After a crash mid-intake: temporary files cleaned, originals the register lacks reconciled."""

import os
import time

from sqlalchemy import select

from server.extensions import db
from server.models import Event, Photo, PhotoState, PhotoSubject
from server.services import evidence, photo_upkeep, photos
from server.storage import object_key, photo_store
from tests import images

HOUR = 3600


def _age(path, seconds: float = 2 * HOUR) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _leave_original(data: bytes, old: bool = True):
    """What a worker killed after writing the original, before its commit, leaves behind."""
    store = photo_store()
    store.put(object_key("original", images.sha(data)), data)
    path = store.path(object_key("original", images.sha(data)))
    if old:
        _age(path)
    return path


def _crashed_intake_scene(make, staff):
    store = photo_store()
    kept = images.jpeg(60, 40)
    photos.intake(staff, images.sha(kept), kept)  # a photo stored properly: left alone
    finding = make.finding(make.area(), staff)
    expected = images.jpeg(80, 40, orientation=6)
    evidence.link_photos(staff, PhotoSubject.FINDING, finding.id, [images.sha(expected)])
    damaged = images.png(30, 20)
    evidence.link_photos(staff, PhotoSubject.FINDING, make.finding(make.area(), staff).id, [images.sha(damaged)])
    unknown, fresh = images.webp(), images.jpeg(50, 50)
    db.session.commit()

    _leave_original(expected)
    _leave_original(unknown)
    damaged_path = _leave_original(images.png(31, 20))
    misnamed = store.path(object_key("original", images.sha(damaged)))  # bytes that are not of its name
    misnamed.parent.mkdir(parents=True, exist_ok=True)
    damaged_path.rename(misnamed)
    fresh_path = _leave_original(fresh, old=False)  # an upload in progress right now
    old_temp = store.path(object_key("original", images.sha(kept))).with_name(".incoming-crashed")
    old_temp.write_bytes(b"half a photo")
    _age(old_temp)
    new_temp = old_temp.with_name(".incoming-in-progress")
    new_temp.write_bytes(b"being written")
    return {"kept": kept, "expected": expected, "unknown": unknown, "damaged": damaged, "fresh": fresh,
            "old_temp": old_temp, "new_temp": new_temp, "fresh_path": fresh_path}


def test_reconcile_cleans_up_after_a_crash_and_leaves_work_in_progress_alone(app, make, staff):
    scene = _crashed_intake_scene(make, staff)
    store = photo_store()

    done = photo_upkeep.reconcile()
    db.session.commit()

    assert not scene["old_temp"].exists() and scene["new_temp"].exists()
    assert done.finished == [images.sha(scene["expected"])]
    assert sorted(done.removed) == sorted([images.sha(scene["unknown"]), images.sha(scene["damaged"])])
    assert done.missing == []
    finished = db.session.get(Photo, images.sha(scene["expected"]))
    assert finished.state == PhotoState.STORED and (finished.width, finished.height) == (40, 80)
    for size in ("original", "display", "thumb"):
        assert store.exists(object_key(size, finished.sha256))
    assert store.get(object_key("original", finished.sha256)) == scene["expected"]
    event = db.session.scalar(select(Event).where(Event.entity_id == finished.sha256))
    assert event.action == "photo.stored" and event.changes["reconciled"] is True and event.actor_id is None
    assert not store.exists(object_key("original", images.sha(scene["unknown"])))
    assert not store.exists(object_key("original", images.sha(scene["damaged"])))
    assert db.session.get(Photo, images.sha(scene["damaged"])).state == PhotoState.EXPECTED
    assert scene["fresh_path"].exists()  # younger than the stale age: maybe being recorded now
    assert store.exists(object_key("original", images.sha(scene["kept"])))

    again = photo_upkeep.reconcile()
    assert (again.finished, again.removed, again.temporary_removed) == ([], [], [])


def test_the_command_reports_and_a_dry_run_changes_nothing(app, make, staff):
    scene = _crashed_intake_scene(make, staff)
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["photos", "reconcile", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 temporary file(s) would be removed" in dry.output
    assert scene["old_temp"].exists()
    db.session.rollback()
    assert db.session.get(Photo, images.sha(scene["expected"])).state == PhotoState.EXPECTED

    real = runner.invoke(args=["photos", "reconcile"])
    assert real.exit_code == 0, real.output
    assert "1 original(s) taken in for expected photos; 2 original(s)" in real.output
    db.session.rollback()
    assert db.session.get(Photo, images.sha(scene["expected"])).state == PhotoState.STORED

    photo_store().delete(object_key("original", images.sha(scene["kept"])))
    missing = runner.invoke(args=["photos", "reconcile"])
    assert missing.exit_code == 1
    assert f"MISSING: photo {images.sha(scene['kept'])}" in missing.output
