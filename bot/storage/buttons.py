"""Button payloads too long for a platform, kept behind a short stable key (bot.payloads)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class ButtonPayload(Base):
    """Button payloads too long for a platform (Telegram: 64 bytes), kept behind a short stable key."""

    __tablename__ = "button_payload"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
