"""The domain model, one module per aggregate. Importing this registers every table."""

from .accounts import ApiToken, Area, Qualification, RiskLevel, Role, SignInThrottle, Site, User, UserSession
from .audits import Audit, AuditStatus, Response
from .base import happened_at, utcnow
from .checklists import Question, QuestionKind, Template, TemplateStatus
from .competence import Competence, CompetenceRecord, CompetenceRequirement, TrainingSession
from .documents import Document, DocumentRevision, DocumentStatus, DocumentType, RevisionStatus
from .events import Event
from .findings import (
    OPEN_FINDING_STATUSES,
    ActionStatus,
    Comment,
    CorrectiveAction,
    Finding,
    FindingKind,
    FindingStatus,
)
from .photos import Photo, PhotoLink, PhotoState, PhotoSubject
from .reports import ChartSnapshot
from .sync import Change, Conflict, ConflictStatus, Device, OpStatus, SyncOp

__all__ = [
    "OPEN_FINDING_STATUSES", "ActionStatus", "ApiToken", "Area", "Audit", "AuditStatus",
    "Change", "ChartSnapshot", "Comment", "Competence", "CompetenceRecord", "CompetenceRequirement", "Conflict", "ConflictStatus", "CorrectiveAction", "Device", "Document",
    "DocumentRevision", "DocumentStatus", "DocumentType", "Event", "RevisionStatus",
    "Finding", "FindingKind", "FindingStatus", "OpStatus", "Photo",
    "PhotoLink", "PhotoState", "PhotoSubject", "Qualification", "Question", "QuestionKind",
    "Response", "RiskLevel", "Role", "SignInThrottle", "Site", "SyncOp", "Template", "TemplateStatus", "TrainingSession", "User", "UserSession", "happened_at",
    "utcnow",
]
