"""Resumable photo uploads: HEAD answers the bytes held, PUT with Content-Range appends, the whole is checked."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server.extensions import db
from server.models import Change, Photo, PhotoState, UploadPiece, utcnow
from server.services import uploads
from server.storage import object_key, photo_store
from tests import images

CHUNK = 16 * 1024


def upload_url(sha: str) -> str:
    return f"/api/photos/{sha}/upload"


def held(client, sha: str) -> int:
    response = client.client.head(upload_url(sha))
    assert response.status_code == 200
    return int(response.headers["Upload-Offset"])


def send(client, sha: str, data: bytes, start: int, end: int | None = None):
    end = min(len(data), start + CHUNK) if end is None else end
    content_range = f"bytes {start}-{end - 1}/{len(data)}" if end > start else f"bytes */{len(data)}"
    return client.put(upload_url(sha), data=data[start:end], content_type="image/jpeg",
                      headers={"Content-Range": content_range})


@pytest.fixture
def as_staff(signed_in, staff):
    return signed_in(staff)


@pytest.mark.parametrize("seed", range(6))
def test_a_transfer_cut_at_random_points_lands_once_byte_exact_resending_at_most_the_cut_chunk(as_staff, seed):
    chance = random.Random(seed)
    data = images.noisy_jpeg(420, 300)
    assert len(data) > 4 * CHUNK
    sha = images.sha(data)
    offset, sent, cuts, finished = held(as_staff, sha), 0, 0, None
    while finished is None:
        fate = chance.choice(["arrives", "arrives", "cut before the server", "cut after the server kept it"])
        end = min(len(data), offset + CHUNK)
        if fate == "cut before the server":
            cuts += 1
            sent += end - offset  # on the wire, never arrived: the server holds what it held
        else:
            response = send(as_staff, sha, data, offset)
            sent += end - offset
            if fate == "cut after the server kept it" and response.status_code == 202:
                cuts += 1  # the answer was lost: the device does not know the part arrived
                retry = send(as_staff, sha, data, offset)  # ... resends it, and is told where to go on
                sent += end - offset
                assert retry.status_code == 409 and retry.json["error"]["code"] == "upload_offset"
                assert int(retry.headers["Upload-Offset"]) == end
            elif response.status_code in (200, 201):
                finished = response
                break
            else:
                assert response.status_code == 202, response.json
        offset = held(as_staff, sha)  # after a cut, or to go on: ask where to resume
    assert finished.status_code == 201 and finished.json["sha256"] == sha
    assert sent <= len(data) + cuts * CHUNK
    assert photo_store().get(object_key("original", sha)) == data
    assert db.session.get(Photo, sha).state == PhotoState.STORED
    assert db.session.scalar(select(func.count()).select_from(Change).where(Change.entity_id == sha)) == 1
    assert held(as_staff, sha) == 0  # the part is gone once stored


def test_parts_are_each_persons_own(signed_in, staff, make, area):
    other = make.user("staff", home_area=area)
    data = images.noisy_jpeg(300, 200)
    sha = images.sha(data)
    mine = signed_in(staff)
    assert send(mine, sha, data, 0).status_code == 202
    assert held(mine, sha) == CHUNK
    theirs = signed_in(other)
    assert held(theirs, sha) == 0
    assert send(theirs, sha, data, CHUNK).status_code == 409  # they cannot append to mine
    assert held(mine, sha) == CHUNK


def test_a_whole_that_does_not_hash_to_its_address_is_refused_and_the_part_dropped(as_staff):
    data = images.noisy_jpeg(200, 200)
    wrong = images.sha(b"some other photo")
    offset, response = 0, None
    while offset < len(data):
        response = send(as_staff, wrong, data, offset)
        offset = min(len(data), offset + CHUNK)
    assert response.status_code == 422 and response.json["error"]["code"] == "hash_mismatch"
    assert held(as_staff, wrong) == 0
    assert db.session.get(Photo, wrong) is None


def test_finishing_again_after_every_byte_arrived(as_staff, app):
    data = images.jpeg()
    sha = images.sha(data)
    app.config["GEMBA_INTAKE_CONCURRENCY"], app.config["GEMBA_INTAKE_WAIT_SECONDS"] = 1, 0
    from server.services import photos
    with photos._decode_slot()():  # every decode slot busy when the last part arrives
        busy = send(as_staff, sha, data, 0, len(data))
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert held(as_staff, sha) == len(data)  # kept: nothing needs resending
    done = send(as_staff, sha, data, len(data), len(data))  # bytes */TOTAL
    assert done.status_code == 201


@pytest.mark.parametrize("content_range, status", [
    (None, 422), ("bytes 0-10", 422), ("items 0-1/2", 422), ("bytes 5-2/10", 422), ("bytes 0-10/10", 422),
    ("bytes 0-0/999999999999", 413),
])
def test_bad_ranges_are_refused_with_json(as_staff, content_range, status):
    headers = {"Content-Range": content_range} if content_range else {}
    response = as_staff.put(upload_url(images.sha(b"x")), data=b"x", content_type="image/jpeg", headers=headers)
    assert response.status_code == status
    assert response.json["error"]["message"]


def test_a_body_shorter_than_its_range_is_refused(as_staff):
    response = as_staff.put(upload_url(images.sha(b"x")), data=b"abc", content_type="image/jpeg",
                            headers={"Content-Range": "bytes 0-9/20"})
    assert response.status_code == 422


def test_not_signed_in_is_401(client):
    assert client.head(upload_url(images.sha(b"x"))).status_code == 401


def test_a_range_longer_than_a_piece_is_kept_in_pieces_and_the_part_goes_once_stored(as_staff):
    data = images.noisy_jpeg(900, 700)
    sha = images.sha(data)
    assert len(data) > uploads.PIECE + CHUNK
    # One request carrying more than a piece: kept as pieces of at most PIECE bytes.
    first = as_staff.put(upload_url(sha), data=data[:uploads.PIECE + 10], content_type="image/jpeg",
                         headers={"Content-Range": f"bytes 0-{uploads.PIECE + 9}/{len(data)}"})
    assert first.status_code == 202 and first.headers["Upload-Offset"] == str(uploads.PIECE + 10)
    sizes = db.session.scalars(select(UploadPiece.size).order_by(UploadPiece.start)).all()
    assert sizes == [uploads.PIECE, 10]
    # A body whose length is not its range's: refused, and the part is as it was.
    start = uploads.PIECE + 10
    short = as_staff.put(upload_url(sha), data=data[start:start + 100], content_type="image/jpeg",
                         headers={"Content-Range": f"bytes {start}-{start + 199}/{len(data)}"})
    assert short.status_code == 422
    assert held(as_staff, sha) == start
    assert send(as_staff, sha, data, start, len(data)).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(UploadPiece)) == 0  # the part is gone once stored
    assert photo_store().get(object_key("original", sha)) == data


def test_parts_nobody_finished_in_a_week_are_removed(app, signed_in, staff):
    client = signed_in(staff)
    stale, fresh = images.noisy_jpeg(300, 200), images.noisy_jpeg(310, 200)
    for data in (stale, fresh):
        assert send(client, images.sha(data), data, 0).status_code == 202
    db.session.execute(update(UploadPiece).where(UploadPiece.sha256 == images.sha(stale))
                       .values(received_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    assert uploads.remove_abandoned(dry_run=True) == 1
    assert held(client, images.sha(stale)) == CHUNK  # a dry run removes nothing
    assert uploads.remove_abandoned() == 1
    db.session.commit()
    assert held(client, images.sha(stale)) == 0 and held(client, images.sha(fresh)) == CHUNK
    assert uploads.remove_abandoned() == 0
