"""The field app sends photos in parts: a cut resumes from the bytes the server holds."""

import re

import pytest
from sqlalchemy import select

from server.models import Finding, Photo, PhotoLink, PhotoState
from tests.e2e.test_sync_faults import raise_offline, signed_in_offline

pytestmark = pytest.mark.e2e
RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@pytest.mark.parametrize("server_kept_it", [False, True], ids=["cut before the server", "cut after the server kept it"])
def test_a_photo_upload_cut_midway_resumes_resending_at_most_the_part_in_flight(
        phone, live_server, field, photo_files, server_kept_it):
    app = signed_in_offline(phone, field.staff_email)
    title = f"Oil drip under press {4 + server_kept_it}"
    raise_offline(app, [title], photo=photo_files["rotated"])  # kept at 1536 x 2048: several parts
    starts, cut = [], []

    def parts(route):
        match = RANGE.fullmatch(route.request.headers.get("content-range", ""))
        if route.request.method == "PUT" and match:
            starts.append(int(match[1]))
            if not cut and int(match[1]) > 0:  # the second part: cut the connection
                cut.append((int(match[1]), int(match[3])))
                if server_kept_it:
                    route.fetch()  # the server keeps the part; the answer never arrives
                route.abort("connectionreset")
                return
        route.continue_()

    phone.route("**/api/photos/*/upload", parts)
    phone.context.set_offline(False)
    app.sync_now()
    app.expect_all_sent(timeout=60_000)

    assert cut, f"the photo went up in one part ({starts}); it must be larger than a part"
    cut_at, total = cut[0]
    assert starts[0] == 0 and starts.count(0) == 1
    resent = [start for start in starts if start == cut_at]
    assert len(resent) == (1 if server_kept_it else 2)  # at most the part in flight goes again
    assert all(starts.count(start) == 1 for start in starts if start != cut_at)
    [finding_id] = live_server.scalars(select(Finding.id).where(Finding.title == title))
    [sha] = live_server.scalars(select(PhotoLink.photo_sha256).where(PhotoLink.subject_id == finding_id))
    [(state, size)] = live_server.query(select(Photo.state, Photo.byte_size).where(Photo.sha256 == sha))
    assert (state, size) == (PhotoState.STORED, total)
