"""Platform events already handled, so a replayed one (a Telegram update sent twice, by a retry or to
two instances) is answered once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class SeenEvent(Base):
    """One row per handled event, by its platform id (`update_id`); old rows are purged by a job."""

    __tablename__ = "seen_event"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)
