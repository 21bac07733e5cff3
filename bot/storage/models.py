"""Every table, so `Base.metadata` is complete (Alembic and the tests compare migrations against it).

The models live in modules named for their domain; import them from there.
"""

from __future__ import annotations

from bot.storage import (
    announcements,
    audit,
    buttons,
    conversation,
    delivery,
    events,
    inbound,
    membership,
    peers,
    people,
    questions,
)
from bot.storage.base import Base

__all__ = [
    "Base",
    "announcements",
    "audit",
    "buttons",
    "conversation",
    "delivery",
    "events",
    "inbound",
    "membership",
    "peers",
    "people",
    "questions",
]
