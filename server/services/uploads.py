"""Resumable photo uploads: a photo's bytes arrive in ranges, survive a cut, and are checked whole.

`HEAD /api/photos/<sha256>/upload` answers how many bytes of that photo the server holds
from this person (`Upload-Offset`); `PUT` with `Content-Range: bytes START-END/TOTAL`
appends the range that starts exactly there. When the last byte arrives, the whole is
handed to `photos.intake`, which re-hashes it against the SHA-256 and decodes it before
anything is stored - a part never becomes evidence. A cut upload resends at most the
range that was in flight.

Parts live in the database as pieces of at most 256 KB (`UploadPiece`), one run per
person and photo, so nobody can append to, or learn about, another person's upload, and
an upload cut on one app host resumes on any other (tests/server/test_two_hosts.py). The
caller commits after `append`, so the pieces that arrived are kept whatever follows.
`remove_abandoned` (run by `gemba photos reconcile`) drops parts untouched for a week.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.exc import IntegrityError

from ..errors import DomainError, Invalid, NotAllowed
from ..extensions import db
from ..models import UploadPiece, User, utcnow
from .imaging import PhotoTooLarge, mb

RANGE = re.compile(r"bytes (?:(?P<start>\d{1,12})-(?P<end>\d{1,12})|\*)/(?P<total>\d{1,12})")
PIECE = 256 * 1024
ABANDONED = timedelta(days=7)


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


def _pieces(user: User, sha: str):
    return (UploadPiece.user_id == user.id, UploadPiece.sha256 == sha)


def received(user: User, sha: str) -> int:
    """How many bytes of photo `sha` the server holds from `user` (0: none)."""
    return db.session.scalar(select(func.coalesce(func.sum(UploadPiece.size), 0)).where(*_pieces(user, sha)))


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
    held = received(user, sha)
    if start is not None and start != held:
        raise OffsetMismatch(held)
    written = 0
    while written < size:
        piece = body.read(min(PIECE, size - written))
        if not piece:
            break
        row = UploadPiece(user_id=user.id, sha256=sha, start=held, size=len(piece), data=piece)
        try:
            with db.session.begin_nested():  # another request wrote this range first: resend from its end
                db.session.add(row)
        except IntegrityError:
            raise OffsetMismatch(received(user, sha)) from None
        db.session.expunge(row)  # written: a long range is not held in memory piece by piece
        written += len(piece)
        held += len(piece)
    if written != size:
        raise Invalid(f"The body ended after {written} of the range's {size} bytes; send the rest from {held}.")
    if held > total:
        discard(user, sha)
        raise Invalid("The parts add up to more than the photo's TOTAL; start again from 0.")
    if held < total:
        return Progress(held, total)
    data = b"".join(db.session.scalars(select(UploadPiece.data).where(*_pieces(user, sha)).order_by(UploadPiece.start)))
    return Progress(held, total, data)


def discard(user: User, sha: str) -> None:
    """Forget `user`'s part of `sha` (stored, or refused for good)."""
    db.session.execute(delete(UploadPiece).where(*_pieces(user, sha)))


def remove_abandoned(older_than: timedelta = ABANDONED, dry_run: bool = False) -> int:
    """Remove parts whose newest piece is `older_than` old; how many parts there were."""
    stale = (select(UploadPiece.user_id, UploadPiece.sha256).group_by(UploadPiece.user_id, UploadPiece.sha256)
             .having(func.max(UploadPiece.received_at) < utcnow() - older_than))
    parts = db.session.execute(stale).all()
    if parts and not dry_run:
        db.session.execute(delete(UploadPiece).where(
            tuple_(UploadPiece.user_id, UploadPiece.sha256).in_([tuple(part) for part in parts])))
    return len(parts)
