"""Where file bytes live (photos, document revisions, evidence): a key -> bytes store.

The app holds exactly one store, in `app.extensions["gemba.file_store"]`, built by
`init_app` from the configuration. Nothing here is shared between processes except
the storage itself, so any number of workers on any number of hosts can use one store
(a shared directory, or an S3-compatible object store).

The contract every store keeps, so that the S3 store can replace the local directory
without the callers noticing (tests/server/test_storage.py runs against both):

- Keys are `"<kind>/<sha256 hex>"`: content-addressed, e.g. `"original/9f86...0a08"`,
  `"thumb/9f86...0a08"`, `"document/9f86...0a08"`. Anything else is refused with
  `ValueError` before touching storage (no paths, no `..`).
- `put(key, data)` stores bytes (a `bytes` object or a binary file object read to its
  end) so that a reader sees either nothing or the whole object, never a partial one;
  it returns only once the bytes are durable. Putting an existing key replaces it.
- `open(key)` returns a binary file object to stream from (the caller closes it);
  `get(key)` returns all the bytes. Both raise `MissingObject` when the key is absent.
- `exists(key)` says whether a complete object is stored under `key`.
- `delete(key)` removes it; deleting a missing key is not an error.

The S3 store maps these to PutObject (or a multipart upload, completed at once), GetObject
(its streaming body is the file object), HeadObject and DeleteObject, with the key as the
object name under an optional prefix in one bucket.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from flask import Flask, current_app

EXTENSION_KEY = "gemba.file_store"
KEY = re.compile(r"(?P<kind>[a-z]{1,20})/(?P<digest>[0-9a-f]{64})")
CHUNK = 1024 * 1024


class MissingObject(KeyError):
    """No object is stored under the key."""


class FileStore(Protocol):
    def put(self, key: str, data: bytes | BinaryIO) -> None: ...

    def open(self, key: str) -> BinaryIO: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


def object_key(kind: str, digest: str) -> str:
    """The key of the `kind` ("original", "display", "thumb", "document") of the bytes `digest`."""
    key = f"{kind}/{digest}"
    _check(key)
    return key


def _check(key: str) -> re.Match:
    match = KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise ValueError(f"not a file store key: {key!r}")
    return match


class LocalDirectoryStore:
    """Objects as files under one directory: `<root>/<kind>/<ab>/<cd>/<digest>`.

    Two levels of two hex characters keep any one directory to a few hundred entries
    even with millions of files. A write goes to a temporary file in the destination
    directory, is fsynced, then renamed over the final name: a rename within one file
    system is atomic, so a concurrent reader or a crash never sees half a file.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        match = _check(key)
        digest = match["digest"]
        return self.root / match["kind"] / digest[:2] / digest[2:4] / digest

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=final.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    out.write(data)
                else:
                    shutil.copyfileobj(data, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._sync_directory(final.parent)

    @staticmethod
    def _sync_directory(directory: Path) -> None:
        # The rename is durable only once the directory entry is on disk too.
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass  # some file systems cannot fsync a directory; the data itself is synced
        finally:
            os.close(fd)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError:
            raise MissingObject(key) from None

    def get(self, key: str) -> bytes:
        with self.open(key) as f:
            return f.read()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


class S3Store:
    """Objects in one bucket of an S3-compatible object store, named `<prefix><kind>/<digest>`.

    A single PutObject is atomic (readers see the old object or the new one, never a part);
    a large body goes up as a multipart upload, which becomes visible only when completed.
    The client is boto3's, which is thread-safe: the photo intake writes copies from a
    thread pool through the one store.
    """

    def __init__(self, client, bucket: str, prefix: str = ""):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._transfer = TransferConfig(multipart_threshold=64 * CHUNK, multipart_chunksize=16 * CHUNK,
                                        use_threads=False)

    @classmethod
    def from_config(cls, config: dict) -> "S3Store":
        """Build the store from the `GEMBA_S3_*` settings (server/config.py)."""
        client = boto3.client(
            "s3",
            endpoint_url=config.get("GEMBA_S3_ENDPOINT") or None,
            region_name=config.get("GEMBA_S3_REGION") or "us-east-1",
            aws_access_key_id=config.get("GEMBA_S3_ACCESS_KEY") or None,
            aws_secret_access_key=config.get("GEMBA_S3_SECRET_KEY") or None,
            # Path-style addressing works with every S3-compatible server (MinIO, Ceph,
            # Garage, SeaweedFS), not only those with a wildcard DNS name per bucket.
            config=BotoConfig(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"},
                              connect_timeout=5, read_timeout=60),
        )
        return cls(client, config["GEMBA_S3_BUCKET"], config.get("GEMBA_S3_PREFIX") or "")

    def name(self, key: str) -> str:
        _check(key)
        return self.prefix + key

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        name = self.name(key)
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(data))
        else:
            self.client.upload_fileobj(data, self.bucket, name, Config=self._transfer)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.name(key))["Body"]
        except ClientError as exc:
            if _not_found(exc):
                raise MissingObject(key) from None
            raise

    def get(self, key: str) -> bytes:
        with self.open(key) as f:
            return f.read()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.name(key))
        except ClientError as exc:
            if _not_found(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.name(key))


def _not_found(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    return error.get("Code") in {"404", "NoSuchKey", "NotFound"} or \
        exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404


# Photos were the first kind of file; their callers keep their names.
PhotoStore = FileStore


def file_store(app: Flask | None = None) -> FileStore:
    """The store of `app` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION_KEY]


photo_store = file_store


def init_app(app: Flask) -> None:
    """Give `app` its file store: `GEMBA_PHOTO_STORE(app)` when configured, else as `GEMBA_STORAGE` says.

    `GEMBA_STORAGE` is `local` (the directory `GEMBA_PHOTO_DIR`, the default) or `s3` (the
    bucket `GEMBA_S3_BUCKET` at `GEMBA_S3_ENDPOINT`). `GEMBA_PHOTO_STORE` is the seam for
    another backend: any callable that takes the app and returns a `FileStore`.
    """
    # Nothing is made or contacted here (no directory, no bucket): the factory only wires.
    factory = app.config.get("GEMBA_PHOTO_STORE")
    kind = app.config.get("GEMBA_STORAGE") or "local"
    if factory:
        store = factory(app)
    elif kind == "s3":
        store = S3Store.from_config(app.config)
    elif kind == "local":
        store = LocalDirectoryStore(app.config["GEMBA_PHOTO_DIR"])
    else:
        raise RuntimeError(f"GEMBA_STORAGE must be local or s3, not {kind!r}")
    app.extensions[EXTENSION_KEY] = store
