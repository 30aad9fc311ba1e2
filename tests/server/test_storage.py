"""The file stores: whole objects or nothing, under keys that cannot escape; local and S3 alike.

Every contract test runs against the local directory and against a real S3 API server
on loopback (moto's, started by the test run).
"""

import io

import pytest

from server import create_app
from server.storage import LocalDirectoryStore, MissingObject, S3Store, file_store, object_key, photo_store

DIGEST = "ab" + "cd" + "0" * 60


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalDirectoryStore(tmp_path / "photos")
    return S3Store.from_config(request.getfixturevalue("s3_settings"))


@pytest.fixture
def local_store(tmp_path):
    return LocalDirectoryStore(tmp_path / "photos")


def test_put_get_exists_delete(store):
    key = object_key("original", DIGEST)
    assert not store.exists(key)
    store.put(key, b"evidence")
    assert store.exists(key)
    assert store.get(key) == b"evidence"
    with store.open(key) as stream:
        assert stream.read(3) == b"evi"
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting what is gone is not an error


def test_objects_are_sharded_by_hash_prefix_and_no_temporary_file_is_left(local_store):
    store = local_store
    store.put(object_key("thumb", DIGEST), io.BytesIO(b"x" * 3_000_000))  # streamed from a file object
    path = store.path(object_key("thumb", DIGEST))
    assert path.relative_to(store.root).parts == ("thumb", "ab", "cd", DIGEST)
    assert path.stat().st_size == 3_000_000
    assert [p.name for p in path.parent.iterdir()] == [DIGEST]


def test_replacing_an_object_is_atomic(store):
    key = object_key("display", DIGEST)
    store.put(key, b"first")
    with store.open(key) as reader:
        store.put(key, b"second version")
        assert reader.read() == b"first"  # an open reader keeps the whole old object
    assert store.get(key) == b"second version"


def test_missing_object(store):
    with pytest.raises(MissingObject):
        store.get(object_key("original", DIGEST))


@pytest.mark.parametrize("key", [
    "../" + DIGEST, "original/../../etc/passwd", "original/" + DIGEST + "\n", "original/" + DIGEST.upper(),
    "Original/" + DIGEST, "original/" + DIGEST[:-1], DIGEST, "",
])
def test_keys_that_are_not_kind_slash_digest_are_refused(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x")
    with pytest.raises(ValueError):
        store.exists(key)


def test_the_app_holds_its_store_and_another_backend_can_be_configured(tmp_path):
    plain = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}",
                        "GEMBA_PHOTO_DIR": str(tmp_path / "here")})
    assert isinstance(photo_store(plain), LocalDirectoryStore)
    assert photo_store(plain).root == tmp_path / "here"
    assert not (tmp_path / "here").exists()  # made on the first write, not by the factory

    class Elsewhere(LocalDirectoryStore):
        pass

    custom = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.db'}",
                         "GEMBA_PHOTO_DIR": str(tmp_path / "unused"),
                         "GEMBA_PHOTO_STORE": lambda app: Elsewhere(tmp_path / "elsewhere")})
    assert isinstance(photo_store(custom), Elsewhere)
    assert photo_store(plain) is not photo_store(custom)


def test_a_large_file_object_is_stored_whole(store):
    # Over the S3 store's multipart threshold: the parts become one object only when complete.
    data = bytes(range(256)) * (70 * 4096)  # 70 MiB
    key = object_key("document", DIGEST)
    store.put(key, io.BytesIO(data))
    assert store.exists(key)
    assert store.get(key) == data


def test_s3_objects_are_named_under_the_prefix_in_the_bucket(s3_settings):
    store = S3Store.from_config(s3_settings)
    store.put(object_key("document", DIGEST), b"procedure")
    listed = store.client.list_objects_v2(Bucket=s3_settings["GEMBA_S3_BUCKET"])["Contents"]
    assert [o["Key"] for o in listed] == [f"register/document/{DIGEST}"]


def test_gemba_storage_s3_selects_the_object_store(tmp_path, s3_settings):
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}",
                      "GEMBA_PHOTO_DIR": str(tmp_path / "unused"), **s3_settings})
    store = file_store(app)
    assert isinstance(store, S3Store) and store is photo_store(app)
    assert store.bucket == s3_settings["GEMBA_S3_BUCKET"]
    store.put(object_key("original", DIGEST), b"bytes")
    assert S3Store.from_config(s3_settings).get(object_key("original", DIGEST)) == b"bytes"
    assert not (tmp_path / "unused").exists()


def test_an_unknown_storage_kind_is_refused_at_start(tmp_path):
    with pytest.raises(RuntimeError, match="GEMBA_STORAGE"):
        create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}",
                    "GEMBA_PHOTO_DIR": str(tmp_path / "p"), "GEMBA_STORAGE": "ftp"})
