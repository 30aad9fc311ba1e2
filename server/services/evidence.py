"""Links between records and photo evidence, which may arrive after the record.

A photo's hash is not a key to its bytes. A link counts (shows the photo to whoever may
see the record) once it stands on an upload: the linker uploaded those bytes themselves
(`PhotoUpload`), or could already see the photo when they linked it, or could by the time
its bytes arrived. Until then the link is held, unproven (`PhotoLink.proven` is false); the answer to the linker is the same whether or not the hash is stored, so linking
does not reveal which photos exist.
"""

import re
import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..errors import Invalid
from ..extensions import db
from ..fieldrules import FieldErrors
from ..models import Photo, PhotoLink, PhotoState, PhotoSubject, PhotoUpload, User, happened_at, utcnow
from ..permissions import can
from . import feed

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
    added = []
    for position, sha in enumerate(hashes):
        expect_photo(sha)
        link = existing.pop(sha, None)
        if link is None:
            added.append(sha)
            db.session.add(PhotoLink(subject=subject, subject_id=subject_id, photo_sha256=sha,
                                     position=position, linked_by_id=user.id if user else None,
                                     **dict(zip(("proven", "uploaded_by_id"), _backing_upload(user, sha), strict=True))))
        else:
            link.position = position
    if existing:
        db.session.execute(delete(PhotoLink).where(PhotoLink.id.in_([link.id for link in existing.values()])))
    db.session.flush()
    if added:
        # A stored photo is evidence on one more record: its change goes to that record's audiences too.
        for sha in db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(added),
                                                                  Photo.state == PhotoState.STORED)):
            feed.publish("photo", sha, 1)
    return hashes


def photos_of(subject: PhotoSubject, subject_id: uuid.UUID) -> list[str]:
    return list(db.session.scalars(
        select(PhotoLink.photo_sha256)
        .where(PhotoLink.subject == subject, PhotoLink.subject_id == subject_id)
        .order_by(PhotoLink.position)
    ))


def holds(user: User, sha256: str) -> bool:
    """Whether `user` has uploaded these bytes (from any of their devices)."""
    return db.session.get(PhotoUpload, (sha256, user.id)) is not None


def _backing_upload(user: User | None, sha: str) -> tuple[bool, object]:
    """Whether a new link by `user` stands on the bytes, and whose upload it is credited to."""
    photo = db.session.get(Photo, sha)
    if user is None:  # the system itself (the demo, an import) vouches for what it links
        return True, photo.uploaded_by_id if photo is not None else None
    if holds(user, sha):
        return True, user.id
    if photo is not None and photo.state == PhotoState.STORED and can(user, "photo.view", photo):
        return True, photo.uploaded_by_id
    return False, None


def record_upload(user: User, sha256: str, device_id=None, at=None) -> None:
    """`user` sent the bytes of `sha256`: record it, and let their held links (and those of
    anyone who may now see the photo) stand on it. Flushes."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(  # two uploads of the same bytes at once (a device retrying) record one row
        insert(PhotoUpload).values(photo_sha256=sha256, user_id=user.id, device_id=device_id,
                                   uploaded_at=happened_at(at))
        .on_conflict_do_nothing(index_elements=["photo_sha256", "user_id"])
    )
    # A held link now standing on the bytes shows the photo to its record's people: tell
    # their devices. (A second uploader's own devices hold the photo already.)
    changed = db.session.execute(
        update(PhotoLink)
        .where(PhotoLink.photo_sha256 == sha256, PhotoLink.linked_by_id == user.id)
        .where(PhotoLink.proven.is_(False) | PhotoLink.uploaded_by_id.is_(None))
        .values(proven=True, uploaded_by_id=user.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount > 0
    db.session.execute(  # links the system made before the bytes came: credited to this upload
        update(PhotoLink)
        .where(PhotoLink.photo_sha256 == sha256, PhotoLink.linked_by_id.is_(None), PhotoLink.uploaded_by_id.is_(None))
        .values(uploaded_by_id=user.id)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    photo = db.session.get(Photo, sha256)
    held = db.session.scalars(
        select(PhotoLink).where(PhotoLink.photo_sha256 == sha256, PhotoLink.proven.is_(False))
    ).all()
    for link in held:  # someone who could already see the photo linked it before its bytes came
        if link.linked_by is not None and can(link.linked_by, "photo.view", photo):
            link.proven = True
            link.uploaded_by_id = photo.uploaded_by_id or user.id
            changed = True
    db.session.flush()
    if changed and photo is not None and photo.state == PhotoState.STORED:
        feed.publish("photo", sha256, 1)  # more people may see it now: their devices are told


def proven():
    """The clause a link must meet to show its photo to anyone: it stands on an upload."""
    return PhotoLink.proven.is_(True)
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


def annotations(value, hashes) -> dict:
    """Check which photos of a record are annotated copies of which others
    ({annotated: original}, both among `hashes`). An annotated copy annotates one photo for
    good: naming another is refused. :raise Invalid:"""
    errors = FieldErrors()
    pairs = errors.annotations("photo_annotates", value, hashes if isinstance(hashes, list) else [])
    errors.raise_if_any("A photo annotation is not valid.")
    for annotated, original in pairs.items():
        photo = db.session.get(Photo, annotated)
        if photo is not None and photo.annotates_sha256 not in (None, original):
            raise Invalid("A photo annotation is not valid.",
                          {"photo_annotates": [f"{annotated} already annotates another photo."]})
        drawn_on = db.session.get(Photo, original)
        if drawn_on is not None and drawn_on.annotates_sha256 is not None:
            raise Invalid("A photo annotation is not valid.",
                          {"photo_annotates": ["Annotate the original photo, not an annotated copy."]})
    return pairs


def note_annotations(pairs: dict) -> None:
    """Keep that each annotated copy in `pairs` was drawn on its original (checked by `annotations`)."""
    for annotated, original in pairs.items():
        expect_photo(annotated)
        expect_photo(original)
        photo = db.session.get(Photo, annotated)
        if photo.annotates_sha256 is None:
            photo.annotates_sha256 = original
    db.session.flush()


def annotated_first(photos: list) -> list[tuple]:
    """Order a record's photos for showing: each annotated copy in its original's place with
    the original beside it, [(shown photo, original or None)]. Photos are `Photo` rows."""
    by_sha = {photo.sha256: photo for photo in photos}
    copies = {photo.annotates_sha256: photo for photo in photos
              if photo.annotates_sha256 and photo.annotates_sha256 in by_sha}
    out, placed = [], set()
    for photo in photos:
        if photo.sha256 in placed:
            continue
        if photo.annotates_sha256 in by_sha:  # a copy: shown where its original stands
            original = by_sha[photo.annotates_sha256]
            out.append((photo, original))
            placed |= {photo.sha256, original.sha256}
        elif photo.sha256 in copies:
            out.append((copies[photo.sha256], photo))
            placed |= {photo.sha256, copies[photo.sha256].sha256}
        else:
            out.append((photo, None))
            placed.add(photo.sha256)
    return out
