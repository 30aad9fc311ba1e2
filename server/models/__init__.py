"""The domain model, one module per aggregate. Importing this registers every table."""

from .accounts import AccountLink, ApiToken, Area, RiskLevel, Role, SignInThrottle, Site, User, UserSession
from .audits import OPEN_AUDIT_STATUSES, Audit, AuditSignature, AuditStatus, Response, SignatureRole
from .base import happened_at, new_id, utcnow
from .checklists import Question, QuestionKind, Template, TemplateStatus
from .competence import Competence, CompetenceRecord, CompetenceRequirement, TrainingSession
from .documents import Document, DocumentAcknowledgement, DocumentRevision, DocumentStatus, DocumentType, RevisionStatus
from .events import Event, TrailCheckpoint, TrailVerified
from .findings import (
    OPEN_FINDING_STATUSES,
    ActionStatus,
    Comment,
    CorrectiveAction,
    Finding,
    FindingKind,
    FindingStatus,
)
from .photos import LINKABLE_SUBJECTS, Photo, PhotoLink, PhotoState, PhotoSubject, PhotoUpload, UploadPiece
from .notify import (
    CalendarFeed,
    Delivery,
    Notification,
    NotificationPreference,
    OutboxEvent,
    Webhook,
    WebhookDelivery,
)
from .reports import ChartSnapshot
from .sync import Change, ChangeAudience, Conflict, ConflictStatus, Device, OpStatus, SyncOp
from .upkeep import Direction, ManagementReview, ManagementReviewStatus, Measurement, Objective, ReviewAction

__all__ = [
    "OPEN_AUDIT_STATUSES", "OPEN_FINDING_STATUSES", "AccountLink", "ActionStatus", "ApiToken", "Area", "Audit", "AuditSignature", "AuditStatus", "SignatureRole",
    "CalendarFeed", "Change", "ChangeAudience", "ChartSnapshot", "Comment", "Conflict", "ConflictStatus",
    "CorrectiveAction", "Delivery", "Device", "Event", "Notification", "NotificationPreference",
    "OutboxEvent", "Webhook", "WebhookDelivery",
    "Finding", "FindingKind", "FindingStatus", "OpStatus", "Photo",
    "LINKABLE_SUBJECTS", "PhotoLink", "PhotoState", "PhotoSubject", "PhotoUpload", "Question", "QuestionKind", "UploadPiece",
    "Response", "RiskLevel", "Role", "SignInThrottle", "Site", "SyncOp", "Template", "TemplateStatus", "TrailCheckpoint", "User", "UserSession", "happened_at",
    "Competence", "CompetenceRecord", "CompetenceRequirement", "Document", "DocumentAcknowledgement",
    "DocumentRevision", "DocumentStatus",
    "DocumentType", "RevisionStatus", "TrainingSession",
    "new_id", "utcnow",
    "Direction", "TrailVerified", "ManagementReview", "ManagementReviewStatus", "Measurement", "Objective", "ReviewAction",
]
