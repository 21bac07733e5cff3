"""Events staff publish to focal points, who is invited, their RSVPs.

An event's time is kept as staff wrote it (a wall time in an IANA zone) and as the instant it falls on
(`starts_at`, UTC), so a change of daylight saving between its creation and its day keeps the wall
time. `version` counts the edits (it is the .ics SEQUENCE, and part of every reminder's key, so a
reminder for an older version is never sent).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class EventStatus(StrEnum):
    DRAFT = "draft"  # previewed, not published
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RsvpAnswer(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    NOT_GOING = "not_going"


class Event(Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(100), unique=True)  # the .ics UID, stable across edits
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    versions: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language -> {"title", "description"}
    local_start: Mapped[str] = mapped_column(String(16))  # "YYYY-MM-DD HH:MM" in `time_zone`
    time_zone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    location: Mapped[str] = mapped_column(String(500), default="")
    audience_kind: Mapped[str] = mapped_column(String(20), default="all")
    audience_value: Mapped[str] = mapped_column(String(200), default="")
    reminder_minutes: Mapped[list[int]] = mapped_column(default=list)  # offsets before the start
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.DRAFT.value)
    version: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    report_to: Mapped[str | None] = mapped_column(String(200))  # "<platform>:<chat>" of staff notices
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_batch.id", ondelete="SET NULL"), index=True
    )
    queue_taken_at: Mapped[datetime | None]  # when a job last took its invitations to queue

    __table_args__ = (Index("ix_event_status_starts_at", "status", "starts_at"),)


class EventInvitee(Base):
    """Who was invited (the audience when the event was published, and those who joined it later)."""

    __tablename__ = "event_invitee"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    invited_at: Mapped[datetime]
    rsvp: Mapped[str | None] = mapped_column(String(20))
    rsvp_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("event_id", "person_id"),)
