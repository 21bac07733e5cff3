"""The tables. Migrations in `migrations/versions/` must match these (a test compares them)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Role(StrEnum):
    GUEST = "guest"
    APPLICANT = "applicant"
    FOCAL_POINT = "focal_point"
    STAFF = "staff"


class City(Base):
    __tablename__ = "city"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(50), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("name", "country"),)


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default=Role.GUEST.value)
    language: Mapped[str | None] = mapped_column(String(8))
    language_explicit: Mapped[bool] = mapped_column(default=False)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    identities: Mapped[list[PlatformIdentity]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="raise"
    )


class PlatformIdentity(Base):
    """One person, one row per platform they reach us on (Telegram user id, Slack user id, console name)."""

    __tablename__ = "platform_identity"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str] = mapped_column(String(100))
    unreachable_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="identities", lazy="raise")

    __table_args__ = (UniqueConstraint("platform", "external_id"),)


class ConversationState(Base):
    """The step a person is at in a multi-step form, so a restart mid-form loses nothing."""

    __tablename__ = "conversation_state"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    flow: Mapped[str] = mapped_column(String(50))
    step: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_audit_entry_at", "at"),)


class ButtonPayload(Base):
    """Button payloads too long for a platform (Telegram: 64 bytes), kept behind a short stable key."""

    __tablename__ = "button_payload"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class QuestionStatus(StrEnum):
    OPEN = "open"  # the knowledge base could not answer; kept for staff
    FORWARDED = "forwarded"  # the person asked for it to go to staff (posted to the staff channel)
    ANSWERED = "answered"  # a staff answer reached the person


class Question(Base):
    """A question the knowledge base could not answer confidently."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    best_topic: Mapped[str | None] = mapped_column(String(50))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(20), default=QuestionStatus.OPEN.value)
    created_at: Mapped[datetime]
    forwarded_at: Mapped[datetime | None]
    staff_channel: Mapped[str | None] = mapped_column(String(50))
    staff_ts: Mapped[str | None] = mapped_column(String(50), index=True)
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[datetime | None]
