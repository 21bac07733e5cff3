"""Announcements to focal points, from draft to delivered.

A draft is kept when staff ask for a preview, so a long text never rides in a platform's form state;
confirming moves it to `sending` once (the move is conditional), and the scheduler's queueing job then
builds its delivery batch and moves it to `queued`. The confirmation and the queueing are separate
transactions so a large audience never holds up the staff member's reply; an announcement left in
`sending` by a stop is taken up again by the same job.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class AnnouncementStatus(StrEnum):
    DRAFT = "draft"  # previewed, not confirmed
    SENDING = "sending"  # confirmed; its batch is being built
    QUEUED = "queued"  # every message is in the outbox; the batch reports progress
    CANCELLED = "cancelled"  # the draft was dropped


class Announcement(Base):
    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(20), default="command")  # command | shortcut
    text: Mapped[str] = mapped_column(Text)  # safe HTML (bot.messages.Markup.HTML)
    versions: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language -> safe HTML
    audience_kind: Mapped[str] = mapped_column(String(20), default="all")
    audience_value: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default=AnnouncementStatus.DRAFT.value)
    recipients: Mapped[int] = mapped_column(default=0)
    confirmed_at: Mapped[datetime | None]
    queue_taken_at: Mapped[datetime | None]  # when a queueing job last took it (another may retake it)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_batch.id", ondelete="SET NULL"), index=True
    )
    report_to: Mapped[str | None] = mapped_column(String(200))  # "<platform>:<chat>" of the report
