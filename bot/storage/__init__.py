"""Storage: SQLAlchemy 2 async models, the database handle and Alembic migrations."""

from bot.storage import delivery as _delivery  # noqa: F401  (outbox tables join the metadata)
from bot.storage import staff as _staff  # noqa: F401  (announcements, suggestions join the metadata)
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
