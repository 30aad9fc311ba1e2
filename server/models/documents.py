"""Controlled documents (ISO 9001 7.5): the register and each document's revisions.

A document is what people refer to ("WI-014 Forklift pre-use check"); a revision is one
approved (or to-be-approved) version of its file. The file's bytes live in the file
store under `document/<sha256>`; the row says which bytes, how many and what they are.
Once approved, a revision's file never changes: a change is a new revision, and the one
it supersedes becomes obsolete but stays readable.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, ForeignKey, Integer, String, Table, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import db
from .accounts import Area, Site, User
from .base import UTCDateTime, new_id, utcnow


class DocumentType(StrEnum):
    PROCEDURE = "procedure"
    WORK_INSTRUCTION = "work_instruction"
    FORM = "form"
    POLICY = "policy"
    RECORD_TEMPLATE = "record_template"


class DocumentStatus(StrEnum):
    DRAFT = "draft"  # no revision approved yet
    IN_REVIEW = "in_review"  # the newest revision awaits approval
    APPROVED = "approved"  # a current approved revision exists
    OBSOLETE = "obsolete"  # withdrawn: no revision is current


class RevisionStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"  # the current revision
    OBSOLETE = "obsolete"  # superseded by a later approved revision, or withdrawn


document_site = Table(
    "document_site", db.metadata,
    Column("document_id", ForeignKey("document.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
)

document_area = Table(
    "document_area", db.metadata,
    Column("document_id", ForeignKey("document.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("area.id", ondelete="CASCADE"), primary_key=True),
)


class Document(db.Model):
    """One controlled document: its number, what it is, who owns it, where it applies, when it is reviewed."""

    __tablename__ = "document"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.DRAFT, index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id"), index=True)
    review_every_months: Mapped[int] = mapped_column(Integer, default=12)
    next_review_due: Mapped[date | None] = mapped_column(Date, index=True)
    last_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped whenever what a device holds of it changes (a revision approved, who is asked
    # to acknowledge, where it applies): the sync feed's version of the record.
    version: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    last_reviewed_by: Mapped[User | None] = relationship(foreign_keys=[last_reviewed_by_id])
    sites: Mapped[list[Site]] = relationship(secondary=document_site, order_by=Site.name)
    areas: Mapped[list[Area]] = relationship(secondary=document_area, order_by=Area.name)
    revisions: Mapped[list["DocumentRevision"]] = relationship(
        back_populates="document", order_by="DocumentRevision.rev", cascade="all, delete-orphan",
    )

    @property
    def current(self) -> "DocumentRevision | None":
        """The approved revision people should work to, if any."""
        return next((r for r in reversed(self.revisions) if r.status == RevisionStatus.APPROVED), None)

    @property
    def latest(self) -> "DocumentRevision | None":
        return self.revisions[-1] if self.revisions else None


# What may never change on an approved (or superseded) revision: which bytes it is.
FROZEN = ("sha256", "byte_size", "content_type", "file_name", "rev", "document_id")


class DocumentRevision(db.Model):
    """One revision of a document's file; immutable once approved."""

    __tablename__ = "document_revision"
    __table_args__ = (UniqueConstraint("document_id", "rev"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    rev: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=RevisionStatus.DRAFT)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    byte_size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))  # detected from the bytes, never the client's word
    download_only: Mapped[bool] = mapped_column(Boolean, default=True)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    change_note: Mapped[str] = mapped_column(String(2000), default="")
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    obsoleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Read and understood" is asked of active people with one of these roles or home areas.
    ack_roles: Mapped[list] = mapped_column(JSON, default=list)
    ack_area_ids: Mapped[list] = mapped_column(JSON, default=list)  # area ids as text
    # A draft started by a finding that the document is out of date: a copy of the current
    # file until the owner uploads the new one (which replaces it rather than being refused).
    # (No foreign key: finding already refers to document_revision, and a cycle of keys
    # would need ALTERs; the finding is looked up by id.)
    started_by_finding_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    document: Mapped[Document] = relationship(back_populates="revisions")
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    @validates(*FROZEN)
    def _frozen_once_approved(self, key, value):
        if self.status in (RevisionStatus.APPROVED, RevisionStatus.OBSOLETE) and getattr(self, key) != value:
            raise ValueError(f"revision {self.rev} is approved: its {key} cannot change")
        return value

    @property
    def label(self) -> str:
        return f"{self.document.number} rev {self.rev}"

    @property
    def asks_acknowledgement(self) -> bool:
        return bool(self.ack_roles or self.ack_area_ids)


class DocumentAcknowledgement(db.Model):
    """That a person has read and understood a revision, and when."""

    __tablename__ = "document_acknowledgement"
    __table_args__ = (UniqueConstraint("revision_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_revision.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    revision: Mapped[DocumentRevision] = relationship()
