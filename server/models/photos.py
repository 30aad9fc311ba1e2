"""Photo evidence, addressed by the SHA-256 of the bytes the device sent."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .base import BigId, UTCDateTime, new_id, utcnow


class PhotoState(StrEnum):
    EXPECTED = "expected"  # referenced by a record, bytes not arrived yet
    STORED = "stored"


class PhotoSubject(StrEnum):
    RESPONSE = "response"
    FINDING = "finding"
    ACTION = "action"
    SIGNATURE = "signature"  # the drawn signature of an audit's sign-off (subject_id: the AuditSignature)


# What a device attaches photos to (a record's `photos`, a photo_link op). A signature's
# drawing comes only with its audit's submission (services/signoff.py).
LINKABLE_SUBJECTS = (PhotoSubject.RESPONSE, PhotoSubject.FINDING, PhotoSubject.ACTION)


class Photo(db.Model):
    __tablename__ = "photo"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default=PhotoState.EXPECTED)
    byte_size: Mapped[int | None] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(40))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An annotated copy (circles, arrows, text drawn on the device) names the photo it was
    # drawn on. Set once, by the first record that holds both (evidence.note_annotations).
    annotates_sha256: Mapped[str | None] = mapped_column(ForeignKey("photo.sha256"))

    uploaded_by: Mapped[User | None] = relationship()


class PhotoLink(db.Model):
    """A photo attached to a response, a finding or a corrective action."""

    __tablename__ = "photo_link"
    __table_args__ = (
        UniqueConstraint("subject", "subject_id", "photo_sha256"),
        Index("ix_photo_link_photo", "photo_sha256"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    subject: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[uuid.UUID] = mapped_column()
    photo_sha256: Mapped[str] = mapped_column(ForeignKey("photo.sha256"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    linked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Whether the link stands on the bytes: the linker uploaded them, or could already see
    # the photo. Until then the link shows no one the photo (permissions._photo_view), so
    # naming a hash is not a key to its bytes.
    proven: Mapped[bool] = mapped_column(default=False)
    # Whose upload the link stands on: the linker's own, or the uploader whose photo a
    # linker who could already see it attached (None: not uploaded yet, or not known).
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))

    photo: Mapped[Photo] = relationship()
    linked_by: Mapped[User | None] = relationship(foreign_keys=[linked_by_id])
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])


class PhotoUpload(db.Model):
    """Someone sent a photo's bytes: proof they hold it. The first upload stores the file;
    identical bytes from another person or device are recorded here too, so each is credited."""

    __tablename__ = "photo_upload"

    photo_sha256: Mapped[str] = mapped_column(ForeignKey("photo.sha256"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id"), primary_key=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column()
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UploadPiece(db.Model):
    """A piece of a resumable upload that has not become a photo yet (services/uploads.py).

    Each person's part of a photo is the run of their pieces from byte 0; a piece starts
    where the one before it ends, so (user, photo, start) is unique and two requests
    writing the same range cannot both land. Kept in the database, not on a host's disk,
    so an upload cut on one app host resumes on another.
    """

    __tablename__ = "upload_piece"
    __table_args__ = (UniqueConstraint("user_id", "sha256", "start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    start: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
