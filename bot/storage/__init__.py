"""Storage: SQLAlchemy 2 async models, the database handle and Alembic migrations."""

from bot.storage.database import Database
from bot.storage.models import (
    AuditEntry,
    Base,
    City,
    ConversationState,
    Person,
    PlatformIdentity,
    Role,
)

__all__ = [
    "AuditEntry",
    "Base",
    "City",
    "ConversationState",
    "Database",
    "Person",
    "PlatformIdentity",
    "Role",
]
