"""A photo's hash is not a key to its bytes: linking one needs sight of the photo or its bytes.

Staff B may not see staff A's photo. Naming its hash on B's own finding (a `photo_link`
op, a `photos` list) must not show B the bytes, and HEAD must not tell B that the hash
is stored or how big it is. B proves possession by uploading the same bytes; then the
link counts, and is credited to B's upload, not A's.
"""

import uuid

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import PhotoLink, PhotoSubject, PhotoUpload, Role
from server.services import evidence, reports
from tests import images
from tests.conftest import AuthActions
from tests.syncops import FieldDevice, wire


def url(sha: str, size: str = "thumb") -> str:
    return f"/api/photos/{sha}?size={size}"


@pytest.fixture
def people(app, make, commit):
    area = make.area()
    a, b = make.user(Role.STAFF, home_area=area), make.user(Role.STAFF, home_area=make.area())
    mine, theirs = make.finding(area, a), make.finding(area, b)
    commit()
    clients = {}
    for name, user in (("a", a), ("b", b)):
        clients[name] = AuthActions(app.test_client())
        assert clients[name].login(user).status_code == 200
    return {"a": a, "b": b, "a_finding": mine, "b_finding": theirs, "clients": clients}


def _a_uploads_a_photo(people) -> tuple[bytes, str]:
    data = images.jpeg(width=64, height=48)
    sha = images.sha(data)
    a = people["clients"]["a"]
    evidence.link_photos(people["a"], PhotoSubject.FINDING, people["a_finding"].id, [sha])
    db.session.commit()
    assert a.put(f"/api/photos/{sha}", data=data, content_type="image/jpeg").status_code == 201
    return data, sha


def _push(auth, user, ops) -> list[dict]:
    device = FieldDevice(user)
    for seq, op in enumerate(ops, start=1):
        op["seq"] = seq
    response = auth.post("/api/sync/push", json={"device_id": str(device.id), "ops": [wire(op) for op in ops]})
    assert response.status_code == 200, response.json
    return response.json["results"]


def _photo_link(user, finding, sha) -> dict:
    return FieldDevice(user).op("photo_link", subject="finding", subject_id=str(finding.id), sha256=sha)


def _finding_with_photos(user, finding, sha) -> dict:
    return FieldDevice(user).op("finding", finding.id, finding.version, photos=[sha])


@pytest.mark.parametrize("how", ["photo_link op", "photos list"])
def test_naming_someone_elses_hash_does_not_show_the_photo(people, how):
    data, sha = _a_uploads_a_photo(people)
    b = people["clients"]["b"]
    assert b.client.get(url(sha)).status_code == 404
    op = (_photo_link if how == "photo_link op" else _finding_with_photos)(people["b"], people["b_finding"], sha)

    results = _push(b, people["b"], [op])

    # Applied, as a hash that is not stored would be: the answer reveals nothing ...
    assert results[0]["status"] == "applied", results
    assert sha in evidence.photos_of(PhotoSubject.FINDING, people["b_finding"].id)
    # ... but the link is held until B shows they hold the bytes.
    for size in ("thumb", "display", "original"):
        assert b.client.get(url(sha, size)).status_code == 404
    assert b.client.head(f"/api/photos/{sha}").status_code == 404

    # B uploads the very bytes: proof of possession; now the link counts, credited to B.
    again = b.put(f"/api/photos/{sha}", data=data, content_type="image/jpeg")
    assert again.status_code == 200
    assert b.client.get(url(sha, "original")).data == data
    link = db.session.scalar(select(PhotoLink).where(PhotoLink.subject_id == people["b_finding"].id))
    assert (link.linked_by_id, link.uploaded_by_id) == (people["b"].id, people["b"].id)


def test_the_pull_agrees_a_held_link_shows_nothing_until_the_bytes_come_from_the_linker(people):
    from tests.server.services.test_sync_pull import everything

    data, sha = _a_uploads_a_photo(people)
    b = people["clients"]["b"]
    _push(b, people["b"], [_photo_link(people["b"], people["b_finding"], sha)])

    def photos_pulled():
        db.session.expire_all()
        return {c["id"] for c in everything(people["b"]) if c["entity"] == "photo" and not c.get("deleted")}

    assert sha not in photos_pulled()
    assert b.put(f"/api/photos/{sha}", data=data, content_type="image/jpeg").status_code == 200
    assert sha in photos_pulled()


def test_head_tells_only_those_who_may_see_it(people):
    data, sha = _a_uploads_a_photo(people)
    unknown = images.sha(b"never uploaded")
    a, b = people["clients"]["a"], people["clients"]["b"]
    mine = a.client.head(f"/api/photos/{sha}")
    assert mine.status_code == 200 and mine.headers["X-Photo-Bytes"] == str(len(data))
    stored, absent = b.client.head(f"/api/photos/{sha}"), b.client.head(f"/api/photos/{unknown}")
    assert stored.status_code == absent.status_code == 404
    assert "X-Photo-Bytes" not in stored.headers and "ETag" not in stored.headers
    assert stored.headers.get("Content-Length") == absent.headers.get("Content-Length")


def test_a_link_made_before_the_bytes_arrive_waits_for_the_linkers_own_upload(people):
    """The race: B names A's hash while A's photo is still only expected; A's upload must not unlock it."""
    data = images.jpeg(width=64, height=48)
    sha = images.sha(data)
    results = _push(people["clients"]["b"], people["b"], [_photo_link(people["b"], people["b_finding"], sha)])
    assert results[0]["status"] == "applied"
    _a_uploads_a_photo(people)  # the same bytes, from A
    b = people["clients"]["b"]
    assert b.client.get(url(sha)).status_code == 404
    assert b.client.head(f"/api/photos/{sha}").status_code == 404


def test_someone_who_may_see_the_photo_may_link_it_without_uploading(people, make, commit):
    data, sha = _a_uploads_a_photo(people)
    owner = make.user(Role.STAFF)
    make.action(people["a_finding"], owner)  # sees A's finding, so its photo
    other = make.finding(people["a_finding"].area, owner)
    commit()
    evidence.link_photos(owner, PhotoSubject.FINDING, other.id, [sha])
    link = db.session.scalar(select(PhotoLink).where(PhotoLink.subject_id == other.id))
    assert (link.linked_by_id, link.uploaded_by_id) == (owner.id, people["a"].id)


def test_identical_bytes_from_two_people_are_credited_to_each(people):
    data, sha = _a_uploads_a_photo(people)
    b = people["clients"]["b"]
    evidence.link_photos(people["b"], PhotoSubject.FINDING, people["b_finding"].id, [sha])
    db.session.commit()
    assert b.put(f"/api/photos/{sha}", data=data, content_type="image/jpeg").status_code == 200
    uploads = db.session.scalars(select(PhotoUpload.user_id).where(PhotoUpload.photo_sha256 == sha)).all()
    assert set(uploads) == {people["a"].id, people["b"].id}
    credited = {link.subject_id: link.uploaded_by_id
                for link in db.session.scalars(select(PhotoLink).where(PhotoLink.photo_sha256 == sha))}
    assert credited == {people["a_finding"].id: people["a"].id, people["b_finding"].id: people["b"].id}
    # the evidence page says who attached it and whose upload it is
    page = b.client.get(f"/findings/{people['b_finding'].id}/evidence").get_data(as_text=True)
    assert f"by {people['b'].name}" in page and f"by {people['a'].name}" not in page


def test_an_audit_report_does_not_carry_bytes_behind_a_held_link(people, make, commit):
    data, sha = _a_uploads_a_photo(people)
    auditor = make.user(Role.AUDITOR)
    template = make.template()
    audit = make.audit(template, people["a_finding"].area, auditor)
    from server.models import Response
    response = Response(id=uuid.uuid4(), audit_id=audit.id, question_id=template.questions[0].id, value="no")
    db.session.add(response)
    db.session.flush()
    evidence.link_photos(auditor, PhotoSubject.RESPONSE, response.id, [sha])
    commit()
    report = reports.collect(auditor, audit)
    assert sha not in report.evidence.photos


@pytest.mark.postgres_only
def test_one_person_uploading_the_same_bytes_twice_at_once_records_one_upload(app, make, commit):
    import threading

    from sqlalchemy import func

    from server.services import photos

    user = make.user(Role.STAFF)
    commit()
    # Read here, not in the threads: after the commit `user.id` is expired, and three
    # threads reloading it at once would share this thread's session (it once broke CI).
    user_model, user_id = type(user), user.id
    data = images.jpeg(width=120, height=90)
    errors, barrier = [], threading.Barrier(3)

    def upload():
        with app.app_context():
            try:
                me = db.session.get(user_model, user_id)
                barrier.wait(timeout=60)  # a thread that failed first must not hang the others
                photos.intake(me, images.sha(data), data)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=upload) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(PhotoUpload)) == 1
