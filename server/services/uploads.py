"""Resumable photo uploads: a photo's bytes arrive in ranges, survive a cut, and are checked whole.

`HEAD /api/photos/<sha256>/upload` answers how many bytes of that photo the server holds
from this person (`Upload-Offset`); `PUT` with `Content-Range: bytes START-END/TOTAL`
appends the range that starts exactly there. When the last byte arrives, the whole is
handed to `photos.intake`, which re-hashes it against the SHA-256 and decodes it before
anything is stored - a part never becomes evidence. A cut upload resends at most the
range that was in flight.

Parts live in GEMBA_UPLOAD_DIR (default `instance/uploads`), one file per person and
photo, so nobody can append to, or learn about, another person's upload. The directory is
local to the host: behind a load balancer, keep a device on one host or share it.
`remove_abandoned` (run by `gemba photos reconcile`) drops parts untouched for a week.
"""

import fcntl
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from ..errors import DomainError, Invalid, NotAllowed
from ..models import User
from .imaging import PhotoTooLarge, mb

RANGE = re.compile(r"bytes (?:(?P<start>\d{1,12})-(?P<end>\d{1,12})|\*)/(?P<total>\d{1,12})")
PIECE = 256 * 1024
ABANDONED_SECONDS = 7 * 24 * 3600


class OffsetMismatch(DomainError):
    """The range does not start where the server's part ends: resend from `received`."""

    status = 409
    code = "upload_offset"

    def __init__(self, received: int):
        super().__init__(f"The server holds {received} bytes of this photo; send the bytes from there.")
        self.received = received


@dataclass(frozen=True)
class Progress:
    received: int
    total: int | None
    data: bytes | None = None  # the whole photo, once every byte has arrived


def _directory() -> Path:
    return Path(current_app.config["GEMBA_UPLOAD_DIR"])


def _part(user: User, sha: str) -> Path:
    return _directory() / f"{user.id}-{sha}.part"


def received(user: User, sha: str) -> int:
    """How many bytes of photo `sha` the server holds from `user` (0: none)."""
    try:
        return _part(user, sha).stat().st_size
    except FileNotFoundError:
        return 0


def parse_range(header: str | None) -> tuple[int | None, int | None, int]:
    """(start, end inclusive, total) from `bytes START-END/TOTAL`, or (None, None, total) from `bytes */TOTAL`.

    :raise Invalid: no header, or one that is not such a range.
    """
    match = RANGE.fullmatch((header or "").strip())
    if match is None:
        raise Invalid("Send each part with Content-Range: bytes START-END/TOTAL (or bytes */TOTAL to finish).",
                      {"Content-Range": ["Must be bytes START-END/TOTAL."]})
    total = int(match["total"])
    if match["start"] is None:
        return None, None, total
    start, end = int(match["start"]), int(match["end"])
    if end < start or end >= total:
        raise Invalid(f"The range {start}-{end} does not lie within the photo's {total} bytes.",
                      {"Content-Range": ["END must be at least START and less than TOTAL."]})
    return start, end, total


def append(user: User, sha: str, content_range: str | None, body: BinaryIO, length: int | None) -> Progress:
    """Add the range in `body` to `user`'s part of photo `sha`; the whole photo once it is complete.

    :raise Invalid (422): a missing or malformed Content-Range, or a body that is not the
        range's length. :raise PhotoTooLarge (413): TOTAL over GEMBA_MAX_PHOTO_BYTES.
    :raise OffsetMismatch (409): the range does not start at what the server holds.
    """
    if user is None or not user.active:
        raise NotAllowed("Sign in to upload photos.")
    start, end, total = parse_range(content_range)
    limit = current_app.config["GEMBA_MAX_PHOTO_BYTES"]
    if total > limit:
        raise PhotoTooLarge(f"The photo is {mb(total)}; the limit is {mb(limit)}.")
    if total == 0:
        raise Invalid("The photo has no bytes.")
    size = 0 if start is None else end - start + 1
    if length is not None and length != size:
        raise Invalid(f"The body has {length} bytes; the range {content_range} needs {size}.")
    path = _part(user, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as part:
        fcntl.flock(part, fcntl.LOCK_EX)  # two requests for one part: one at a time
        held = os.fstat(part.fileno()).st_size
        if start is not None and start != held:
            raise OffsetMismatch(held)
        written = 0
        while written < size:
            piece = body.read(min(PIECE, size - written))
            if not piece:
                break
            part.write(piece)
            written += len(piece)
        part.flush()
        held += written
        if written != size:
            raise Invalid(f"The body ended after {written} of the range's {size} bytes; send the rest from {held}.")
        if held > total:
            os.ftruncate(part.fileno(), 0)
            raise Invalid("The parts add up to more than the photo's TOTAL; start again from 0.")
    if held < total:
        return Progress(held, total)
    return Progress(held, total, path.read_bytes())


def discard(user: User, sha: str) -> None:
    """Forget `user`'s part of `sha` (stored, or refused for good)."""
    _part(user, sha).unlink(missing_ok=True)


def remove_abandoned(older_than: float = ABANDONED_SECONDS, dry_run: bool = False) -> int:
    """Remove parts untouched for `older_than` seconds; how many there were."""
    directory = _directory()
    if not directory.is_dir():
        return 0
    now, removed = time.time(), 0
    for path in directory.glob("*.part"):
        try:
            if now - path.stat().st_mtime >= older_than:
                removed += 1
                if not dry_run:
                    path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue
    return removed
