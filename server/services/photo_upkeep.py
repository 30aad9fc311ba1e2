"""Bring the photo directory and the register back into agreement after a crash.

A process killed mid-intake can leave three kinds of leftovers in a local photo
directory (`storage.LocalDirectoryStore`): `.incoming-*` temporary files of a write that
never reached its rename, and an original (and maybe its copies) written before the
request that recorded it committed; and parts of resumable uploads (`uploads.py`)
nobody finishes. `reconcile` handles each, touching only files older than `stale` so that
an upload in progress is never disturbed:

- a temporary file is deleted;
- an original whose photo is expected (a record names its hash) is finished: hashed,
  checked and decoded again, its copies written, the photo marked stored (uploader
  unknown: the trail event says it was reconciled);
- an original nobody expects, or whose bytes do not hash to its name, is deleted with its
  copies (a device that still has it sees "not stored" and uploads it again);
- a stored photo whose original is missing is reported (it cannot be made up).

Other stores keep no temporary files (an object store's single PUT is atomic); they are
reported as not walkable and left alone.
"""

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..models import Photo, PhotoState, happened_at
from ..storage import object_key, photo_store
from . import feed, trail
from .imaging import derive, sniff

log = logging.getLogger(__name__)

STALE_SECONDS = 3600
KINDS = ("original", "display", "thumb")


@dataclass
class Reconciled:
    walkable: bool = True
    temporary_removed: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    partial_removed: int = 0


def _old(path: Path, now: float, stale: float) -> bool:
    try:
        return now - path.stat().st_mtime >= stale
    except FileNotFoundError:
        return False


def reconcile(stale: float = STALE_SECONDS, dry_run: bool = False, at: datetime | None = None) -> Reconciled:
    """Clean up and reconcile the photo directory with the register (see the module). Flushes, never commits."""
    result = Reconciled()
    store = photo_store()
    root = getattr(store, "root", None)
    now = time.time()
    if root is None or not Path(root).is_dir():
        result.walkable = root is not None
    else:
        root = Path(root)
        for temporary in root.rglob(".incoming-*"):
            if temporary.is_file() and _old(temporary, now, stale):
                result.temporary_removed.append(str(temporary.relative_to(root)))
                if not dry_run:
                    temporary.unlink(missing_ok=True)
        stored = set(db.session.scalars(select(Photo.sha256).where(Photo.state == PhotoState.STORED)))
        for kind in KINDS:
            for path in sorted((root / kind).rglob("*")) if (root / kind).is_dir() else []:
                name = path.name
                if not path.is_file() or name.startswith(".") or name in stored or not _old(path, now, stale):
                    continue
                if kind == "original":
                    _original(store, path, name, result, dry_run, at)
                elif not dry_run and not store.exists(object_key("original", name)):
                    store.delete(object_key(kind, name))  # a copy of nothing: its original was removed
        result.missing = [sha for sha in sorted(stored) if not store.exists(object_key("original", sha))]
    from . import uploads  # parts of resumable uploads nobody finished in a week
    result.partial_removed = uploads.remove_abandoned(dry_run=dry_run)
    db.session.flush()
    return result


def _original(store, path: Path, name: str, result: Reconciled, dry_run: bool, at) -> None:
    photo = db.session.get(Photo, name)
    data = path.read_bytes()
    fmt = sniff(data)
    derived = None
    if photo is not None and hashlib.sha256(data).hexdigest() == name and fmt is not None:
        try:
            derived = derive(data, fmt, current_app.config["GEMBA_MAX_PHOTO_PIXELS"],
                             current_app.config.get("GEMBA_MAX_DECODE_BYTES"))
        except DomainError as exc:
            log.warning("orphan original %s cannot be taken in: %s", name, exc.message)
    if derived is None:
        result.removed.append(name)
        if not dry_run:
            for kind in KINDS:
                store.delete(object_key(kind, name))
        return
    result.finished.append(name)
    if dry_run:
        return
    store.put(object_key("display", name), derived.display)
    store.put(object_key("thumb", name), derived.thumb)
    photo.state = PhotoState.STORED
    photo.content_type = derived.content_type
    photo.byte_size = len(data)
    photo.width, photo.height, photo.taken_at = derived.width, derived.height, derived.taken_at
    photo.uploaded_at = happened_at(at)
    feed.publish("photo", name, 1)
    trail.record(None, "photo.stored", "photo", name, {
        "content_type": photo.content_type, "byte_size": photo.byte_size, "width": photo.width,
        "height": photo.height, "taken_at": photo.taken_at, "reconciled": True,
    })
