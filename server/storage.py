"""Where photo bytes live: a small key -> bytes store behind one interface.

The app holds exactly one store, in `app.extensions["gemba.photo_store"]`, built by
`init_app` from the configuration. Nothing here is shared between processes except
the storage itself, so any number of workers on any number of hosts can use one store
(a shared directory, or an object store).

The contract every store keeps, so that an S3-compatible store can replace the local
directory without the callers noticing:

- Keys are `"<kind>/<sha256 hex>"`, e.g. `"original/9f86...0a08"`, `"thumb/9f86...0a08"`.
  Anything else is refused with `ValueError` before touching storage (no paths, no `..`).
- `put(key, data)` stores bytes (a `bytes` object or a binary file object read to its
  end) so that a reader sees either nothing or the whole object, never a partial one;
  it returns only once the bytes are durable. Putting an existing key replaces it.
- `open(key)` returns a binary file object to stream from (the caller closes it);
  `get(key)` returns all the bytes. Both raise `MissingObject` when the key is absent.
- `exists(key)` says whether a complete object is stored under `key`.
- `delete(key)` removes it; deleting a missing key is not an error.

An S3 store maps these to PutObject (a single PUT is atomic there), GetObject (its
streaming body is the file object), HeadObject and DeleteObject, with the key as the
object name under a bucket prefix.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, current_app

EXTENSION_KEY = "gemba.photo_store"
KEY = re.compile(r"(?P<kind>[a-z]{1,20})/(?P<digest>[0-9a-f]{64})")
CHUNK = 1024 * 1024


class MissingObject(KeyError):
    """No object is stored under the key."""


class PhotoStore(Protocol):
    def put(self, key: str, data: bytes | BinaryIO) -> None: ...

    def open(self, key: str) -> BinaryIO: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


def object_key(kind: str, digest: str) -> str:
    """The key of the `kind` ("original", "display", "thumb") of the photo `digest`."""
    key = f"{kind}/{digest}"
    _check(key)
    return key


def _check(key: str) -> re.Match:
    match = KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise ValueError(f"not a photo store key: {key!r}")
    return match


class LocalDirectoryStore:
    """Objects as files under one directory: `<root>/<kind>/<ab>/<cd>/<digest>`.

    Two levels of two hex characters keep any one directory to a few hundred entries
    even with millions of photos. A write goes to a temporary file in the destination
    directory, is fsynced, then renamed over the final name: a rename within one file
    system is atomic, so a concurrent reader or a crash never sees half a photo.
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


def photo_store(app: Flask | None = None) -> PhotoStore:
    """The store of `app` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION_KEY]


def init_app(app: Flask) -> None:
    """Give `app` its photo store: `GEMBA_PHOTO_STORE(app)` when configured, else the directory.

    `GEMBA_PHOTO_STORE` is the seam for another backend (an S3 store class, a test
    double): any callable that takes the app and returns a `PhotoStore`.
    """
    # The directory is made on the first write, not here: the factory only wires things.
    factory = app.config.get("GEMBA_PHOTO_STORE")
    store = factory(app) if factory else LocalDirectoryStore(app.config["GEMBA_PHOTO_DIR"])
    app.extensions[EXTENSION_KEY] = store
