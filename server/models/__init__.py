"""The domain model, one module per aggregate. Importing this registers every table."""

from .accounts import ApiToken, Area, Qualification, RiskLevel, Role, SignInThrottle, Site, User, UserSession
from .audits import Audit, AuditStatus, Response
from .base import happened_at, utcnow
from .checklists import Question, QuestionKind, Template, TemplateStatus
from .events import Event, TrailCheckpoint
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
from .upkeep import Direction, ManagementReview, ManagementReviewStatus, Measurement, Objective, ReviewAction

__all__ = [
    "OPEN_FINDING_STATUSES", "ActionStatus", "ApiToken", "Area", "Audit", "AuditStatus",
    "Change", "ChartSnapshot", "Comment", "Conflict", "ConflictStatus", "CorrectiveAction", "Device", "Event",
    "Finding", "FindingKind", "FindingStatus", "OpStatus", "Photo",
    "PhotoLink", "PhotoState", "PhotoSubject", "Qualification", "Question", "QuestionKind",
    "Response", "RiskLevel", "Role", "SignInThrottle", "Site", "SyncOp", "Template", "TemplateStatus", "User", "UserSession", "happened_at",
    "utcnow",
    "Direction", "TrailCheckpoint", "ManagementReview", "ManagementReviewStatus", "Measurement", "Objective", "ReviewAction",
]
