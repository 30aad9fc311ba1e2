"""Checklist templates and their questions. A published version never changes."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, new_id, utcnow


class TemplateStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class QuestionKind(StrEnum):
    YES_NO_NA = "yes_no_na"
    PASS_FAIL = "pass_fail"
    SCORE = "score"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"  # several of the options
    NUMBER = "number"
    TEXT = "text"
    DATE = "date"
    PHOTO = "photo"


class Template(db.Model):
    __tablename__ = "template"
    __table_args__ = (UniqueConstraint("family_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # All versions of one checklist share a family.
    family_id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    name: Mapped[str] = mapped_column(String(200))
    standard: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default=TemplateStatus.DRAFT, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    review_due: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How findings weigh on the score: {"deductions": {"major_nc": 10, ...}} (see
    # services.audits.score); None scores answers alone.
    scoring: Mapped[dict | None] = mapped_column(JSON)

    questions: Mapped[list["Question"]] = relationship(
        back_populates="template", order_by="Question.position", cascade="all, delete-orphan"
    )

    @property
    def sections(self) -> list[tuple[str, list["Question"]]]:
        grouped: dict[str, list[Question]] = {}
        for question in self.questions:
            grouped.setdefault(question.section, []).append(question)
        return list(grouped.items())


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("template_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("template.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    guidance: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    # choice: the allowed values; score: [min, max].
    options: Mapped[list] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    clause: Mapped[str] = mapped_column(String(40), default="")
    # Answers that call for a finding, and answers that must carry a photo.
    finding_answers: Mapped[list] = mapped_column(JSON, default=list)
    photo_answers: Mapped[list] = mapped_column(JSON, default=list)
    # The document revision the question checks against ("as WI-014 rev 3 says"), if any.
    document_revision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("document_revision.id"))
    # Shown only when an earlier question's answer is one of the values:
    # {"question_id": "<uuid>", "values": [...]} (services.checklists.visibility).
    show_if: Mapped[dict | None] = mapped_column(JSON)
    # What the question's points count for in the score (0: none).
    weight: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")

    template: Mapped[Template] = relationship(back_populates="questions")
    cites: Mapped["DocumentRevision | None"] = relationship(lazy="joined")  # noqa: F821
