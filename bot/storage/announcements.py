"""Announcements to focal points, from draft to delivered.

An `Announcement` is written as a draft when staff ask for a preview, so a long text never has to ride in
a Slack modal's metadata; confirming it moves it to `sending` (only once: the move is conditional), then
`queued` once its delivery batch exists. Its thread in the staff channel is where the report lives.
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
    SENDING = "sending"  # confirmed; the thread is being opened and the batch built
    QUEUED = "queued"  # every message is in the outbox; the batch reports progress


class Announcement(Base):
    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[str] = mapped_column(String(100))  # the staff member's Slack user id
    created_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(20), default="command")  # command | shortcut
    text: Mapped[str] = mapped_column(Text)
    versions: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language -> text
    audience_kind: Mapped[str] = mapped_column(String(20), default="all")
    audience_value: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default=AnnouncementStatus.DRAFT.value)
    recipients: Mapped[int] = mapped_column(default=0)
    confirmed_at: Mapped[datetime | None]
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_batch.id", ondelete="SET NULL"), index=True
    )
    staff_channel: Mapped[str | None] = mapped_column(String(50))
    staff_ts: Mapped[str | None] = mapped_column(String(50))  # the thread's parent message
    report_ts: Mapped[str | None] = mapped_column(String(50))  # the live report inside the thread
    summary_posted_at: Mapped[datetime | None]  # set once, by whoever posts the final summary
