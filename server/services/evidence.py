"""Links between records and photo evidence, which may arrive after the record."""

import re
import uuid

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..errors import Invalid
from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import Photo, PhotoLink, PhotoState, PhotoSubject, User, utcnow

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PHOTOS_PER_RECORD = 50


def check_hashes(hashes) -> list[str]:
    """Return `hashes` as a list of lower-case SHA-256 hex strings. :raise Invalid: otherwise."""
    if not isinstance(hashes, list) or len(hashes) > MAX_PHOTOS_PER_RECORD:
        raise Invalid("Photos must be a list of at most 50 SHA-256 hashes.", {"photos": ["Not a list of hashes."]})
    cleaned = []
    for value in hashes:
        if not isinstance(value, str) or not SHA256.fullmatch(value.lower()):
            raise Invalid("A photo reference is not a SHA-256 hash.", {"photos": [f"{str(value)[:80]!r} is not a SHA-256 hash."]})
        if value.lower() not in cleaned:
            cleaned.append(value.lower())
    return cleaned


def expect_photo(sha256: str) -> None:
    """Make sure a Photo row exists for `sha256`, as expected evidence if its bytes are not here."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(Photo).values(sha256=sha256, state=PhotoState.EXPECTED).on_conflict_do_nothing(index_elements=["sha256"])
    )


def link_photos(user: User | None, subject: PhotoSubject, subject_id: uuid.UUID, hashes) -> list[str]:
    """Make `hashes` (in order) the photos of one response, finding or action."""
    hashes = check_hashes(hashes)
    existing = {
        link.photo_sha256: link
        for link in db.session.scalars(
            select(PhotoLink).where(PhotoLink.subject == subject, PhotoLink.subject_id == subject_id)
        )
    }
    for position, sha in enumerate(hashes):
        expect_photo(sha)
        link = existing.pop(sha, None)
        if link is None:
            db.session.add(PhotoLink(subject=subject, subject_id=subject_id, photo_sha256=sha,
                                     position=position, linked_by_id=user.id if user else None))
        else:
            link.position = position
    if existing:
        db.session.execute(delete(PhotoLink).where(PhotoLink.id.in_([link.id for link in existing.values()])))
    db.session.flush()
    return hashes


def photos_of(subject: PhotoSubject, subject_id: uuid.UUID) -> list[str]:
    return list(db.session.scalars(
        select(PhotoLink.photo_sha256)
        .where(PhotoLink.subject == subject, PhotoLink.subject_id == subject_id)
        .order_by(PhotoLink.position)
    ))


def capture_times(value, field: str = "photo_taken") -> dict:
    """Check when the device says photos were taken ({sha256: ISO time}). :raise Invalid:"""
    errors = FieldErrors()
    times = errors.capture_times(field, value, utcnow())
    errors.raise_if_any("A photo's capture time is not valid.")
    return times


def note_capture_times(times: dict, hashes) -> None:
    """Keep the device's capture time of each photo in `hashes` (the ones the record holds)
    whose time is not known yet: re-encoded on the device, the bytes carry no EXIF time."""
    for sha in (h.lower() for h in hashes or [] if isinstance(h, str)):
        if sha not in times:
            continue
        expect_photo(sha)
        photo = db.session.get(Photo, sha)
        if photo is not None and photo.taken_at is None:
            photo.taken_at = times[sha]
    db.session.flush()
