"""PUT, HEAD and GET /api/photos/<sha256> through the real HTTP edge."""

import io

import pytest
from PIL import Image

from server.extensions import db
from server.models import PhotoSubject, Response, Role
from server.services import accounts, evidence
from tests import images
from tests.conftest import AuthActions


def url(sha: str, size: str | None = None) -> str:
    return f"/api/photos/{sha}" + (f"?size={size}" if size else "")


def put_photo(auth, data: bytes, sha: str | None = None, content_type: str = "image/jpeg", **kwargs):
    return auth.put(url(sha or images.sha(data)), data=data, content_type=content_type, **kwargs)


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.data[:300]
    assert response.is_json, response.data[:300]
    body = response.json["error"]
    assert body["message"]
    if code:
        assert body["code"] == code
    return body


@pytest.fixture
def as_staff(signed_in, staff):
    return signed_in(staff)


def test_upload_then_upload_again(as_staff):
    data = images.jpeg(orientation=6, gps=True)
    first = put_photo(as_staff, data)
    assert first.status_code == 201, first.json
    assert first.json["sha256"] == images.sha(data)
    assert first.json["state"] == "stored"
    assert (first.json["width"], first.json["height"]) == (40, 80)
    again = put_photo(as_staff, data)
    assert again.status_code == 200
    assert again.json == first.json


def test_wrong_hash_is_422_json(as_staff):
    data = images.jpeg()
    body = assert_error(put_photo(as_staff, data, sha=images.sha(b"other")), 422, "hash_mismatch")
    assert images.sha(data) in body["message"]


@pytest.mark.parametrize("path", ["nothex", "a" * 63, "g" * 64, "a" * 65, "a" * 64 + "%0A"])
def test_address_that_is_no_hash_is_refused_as_json(as_staff, path):
    assert_error(as_staff.put(f"/api/photos/{path}", data=b"x", content_type="image/jpeg"), 400, "bad_hash")
    assert_error(as_staff.client.get(f"/api/photos/{path}"), 404, "not_found")
    assert as_staff.client.head(f"/api/photos/{path}").status_code == 404


@pytest.mark.parametrize("data, content_type, status, code", [
    (images.TEXT, "text/plain", 415, "unsupported_media_type"),
    (images.SVG, "image/svg+xml", 415, "unsupported_media_type"),
    (images.gif(), "image/gif", 415, "unsupported_media_type"),
    (images.corrupt_jpeg(), "image/jpeg", 422, "unreadable_photo"),
    (images.truncated(images.jpeg(300, 200)), "image/jpeg", 422, "unreadable_photo"),
    (images.png_header_bomb(60_000, 60_000), "image/png", 413, "too_large"),
], ids=["text", "svg", "gif", "corrupt", "truncated", "bomb"])
def test_bad_uploads_get_clean_json_4xx(as_staff, data, content_type, status, code):
    assert_error(put_photo(as_staff, data, content_type=content_type), status, code)


def test_form_upload_is_refused(as_staff):
    data = images.jpeg()
    response = put_photo(as_staff, data, content_type="multipart/form-data; boundary=x")
    assert_error(response, 415, "unsupported_media_type")


def test_over_the_photo_limit_is_json_413(app, as_staff):
    app.config["GEMBA_MAX_PHOTO_BYTES"] = 2000
    data = images.noisy_jpeg(100, 100)
    assert "limit" in assert_error(put_photo(as_staff, data), 413, "too_large")["message"]


def test_over_the_request_limit_is_json_413_not_html(app, as_staff):
    app.config["MAX_CONTENT_LENGTH"] = 2000
    data = images.noisy_jpeg(100, 100)
    assert_error(put_photo(as_staff, data), 413)
    # Even when the body is a form that the CSRF check would parse first.
    assert_error(as_staff.put(url(images.sha(data)), data=b"a=" + b"b" * 5000,
                               content_type="application/x-www-form-urlencoded"), 413)


def test_body_without_length_is_cut_at_the_limit(app, as_staff):
    app.config["GEMBA_MAX_PHOTO_BYTES"] = 2000
    data = images.noisy_jpeg(100, 100)
    response = as_staff.client.put(
        url(images.sha(data)), input_stream=io.BytesIO(data),
        headers=as_staff.headers() | {"Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413)


def test_session_upload_needs_the_csrf_token(client, staff, auth):
    auth.login(staff)
    data = images.jpeg()
    response = client.put(url(images.sha(data)), data=data, content_type="image/jpeg")
    assert_error(response, 400, "csrf")


def test_bearer_token_upload_needs_no_csrf_token(app, client, make, commit):
    user = make.user(Role.AUDITOR)
    token = accounts.create_token(user, "camera rig")
    commit()
    data = images.jpeg()
    response = client.put(url(images.sha(data)), data=data, content_type="image/jpeg",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.json


def test_signed_out_is_refused(client):
    data = images.jpeg()
    # Access is checked before CSRF: with no session the answer is "sign in", not "bad token".
    assert_error(client.put(url(images.sha(data)), data=data, content_type="image/jpeg"), 401, "unauthorized")
    assert_error(client.put(url(images.sha(data)), data=data, content_type="image/jpeg",
                            headers={"Authorization": "Bearer not-a-token"}), 401)
    assert client.head(url(images.sha(data))).status_code == 401
    assert_error(client.get(url(images.sha(data))), 401)


def test_head_is_200_only_once_the_bytes_are_here(as_staff, make, staff, commit):
    data = images.jpeg()
    sha = images.sha(data)
    assert as_staff.client.head(url(sha)).status_code == 404
    finding = make.finding(make.area(), staff)
    evidence.link_photos(staff, PhotoSubject.FINDING, finding.id, [sha])
    commit()
    expected = as_staff.client.head(url(sha))
    assert expected.status_code == 404  # expected but not arrived: the device must upload it
    assert put_photo(as_staff, data).status_code == 201
    stored = as_staff.client.head(url(sha))
    assert stored.status_code == 200 and stored.data == b""
    assert stored.headers["ETag"] == f'"{sha}"'


def test_get_sizes_and_caching(as_staff):
    data = images.jpeg(orientation=6, gps=True)
    sha = images.sha(data)
    put_photo(as_staff, data)

    original = as_staff.client.get(url(sha, "original"))
    assert original.status_code == 200
    assert original.data == data
    assert original.mimetype == "image/jpeg"
    assert original.headers["ETag"] == f'"{sha}"'
    cache = original.cache_control
    assert cache.private and not cache.public and cache.immutable and cache.max_age >= 86400 * 365

    thumb = as_staff.client.get(url(sha, "thumb"))
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.data)).size == (40, 80)
    assert thumb.headers["ETag"] != original.headers["ETag"]
    assert as_staff.client.get(url(sha)).data == as_staff.client.get(url(sha, "display")).data

    again = as_staff.client.get(url(sha, "thumb"), headers={"If-None-Match": thumb.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_unknown_size_is_422(as_staff):
    data = images.jpeg()
    put_photo(as_staff, data)
    body = assert_error(as_staff.client.get(url(images.sha(data), "huge")), 422)
    assert "size" in body["fields"]


def _photo_on_finding(auth_of, make, commit, raiser, action_owner):
    """A photo `raiser` attached to their finding and then uploaded; `action_owner` owns an action on it."""
    finding = make.finding(make.area(), raiser)
    make.action(finding, action_owner)
    data = images.jpeg()
    evidence.link_photos(raiser, PhotoSubject.FINDING, finding.id, [images.sha(data)])
    commit()
    uploader = auth_of()
    uploader.login(raiser)
    assert put_photo(uploader, data).status_code == 201
    uploader.client.post("/api/auth/logout", headers=uploader.headers())
    return images.sha(data)


@pytest.fixture
def fresh_auth(app):
    """Make another signed-out client, for tests that need several people at once."""
    return lambda: AuthActions(app.test_client())


def test_who_may_see_a_photo(fresh_auth, make, commit):
    raiser = make.user(Role.STAFF)
    owner = make.user(Role.STAFF)
    bystander = make.user(Role.STAFF)
    other_supervisor = make.user(Role.SUPERVISOR)
    sha = _photo_on_finding(fresh_auth, make, commit, raiser, owner)

    def status_for(user):
        viewer = fresh_auth()
        viewer.login(user)
        return viewer.client.get(url(sha, "thumb")).status_code

    assert status_for(raiser) == 200  # attached it and uploaded it
    assert status_for(owner) == 200  # owns an action on the finding the photo is evidence on
    assert status_for(other_supervisor) == 200  # reviewers see all evidence
    assert status_for(bystander) == 404  # neither uploaded it nor may see the finding


def test_auditor_sees_photos_of_their_audit_only(fresh_auth, make, commit):
    area = make.area()
    template = make.template()
    auditor, other_auditor = make.user(Role.AUDITOR), make.user(Role.AUDITOR)
    audit = make.audit(template, area, auditor)
    response = Response(audit_id=audit.id, question_id=template.questions[0].id, value="yes")
    db.session.add(response)
    db.session.flush()
    data = images.png()
    evidence.link_photos(auditor, PhotoSubject.RESPONSE, response.id, [images.sha(data)])
    supervisor = make.user(Role.SUPERVISOR)
    commit()
    mine = fresh_auth()
    mine.login(auditor)
    assert put_photo(mine, data, content_type="image/png").status_code == 201
    reviewer = fresh_auth()
    reviewer.login(supervisor)
    assert reviewer.client.get(url(images.sha(data), "original")).data == data
    assert mine.client.get(url(images.sha(data), "original")).data == data
    theirs = fresh_auth()
    theirs.login(other_auditor)
    assert_error(theirs.client.get(url(images.sha(data))), 404, "not_found")


def test_expected_photo_is_404_even_for_a_supervisor(fresh_auth, make, commit, staff):
    supervisor = make.user(Role.SUPERVISOR)
    finding = make.finding(make.area(), staff)
    sha = images.sha(images.jpeg())
    evidence.link_photos(staff, PhotoSubject.FINDING, finding.id, [sha])
    commit()
    viewer = fresh_auth()
    viewer.login(supervisor)
    assert_error(viewer.client.get(url(sha)), 404, "not_found")


def test_photo_routes_are_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").json
    operations = spec["paths"]["/api/photos/{sha256}"]
    assert {"put", "head", "get"} <= set(operations)
    assert {"413", "415", "422"} <= set(operations["put"]["responses"])
