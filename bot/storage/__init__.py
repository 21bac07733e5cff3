"""Storage: SQLAlchemy 2 async models, the database handle and Alembic migrations."""

from bot.storage.database import Database
from bot.storage.models import (
    AuditEntry,
    Base,
    ButtonPayload,
    City,
    ConversationState,
    Person,
    PlatformIdentity,
    Question,
    QuestionStatus,
    Role,
)

__all__ = [
    "AuditEntry",
    "Base",
    "ButtonPayload",
    "City",
    "ConversationState",
    "Database",
    "Person",
    "PlatformIdentity",
    "Question",
    "QuestionStatus",
    "Role",
]
