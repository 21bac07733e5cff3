"""Questions the knowledge base could not answer, and staff answers proposed as knowledge-base entries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


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
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    answered_at: Mapped[datetime | None]


class SuggestionStatus(StrEnum):
    PENDING = "pending"  # waiting for staff: an example question of a topic, a new topic, or nothing
    ACCEPTED = "accepted"  # an example question of `topic_id`, answered by the bot from then on
    DRAFTED = "drafted"  # a new topic draft (`draft`), exported for review in git
    REJECTED = "rejected"


class KnowledgeSuggestion(Base):
    """A staff answer to a handed-off question, proposed as a knowledge-base entry for review."""

    __tablename__ = "knowledge_suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("question.id", ondelete="SET NULL"), unique=True
    )
    language: Mapped[str] = mapped_column(String(8))
    question_text: Mapped[str] = mapped_column(Text)
    answer_text: Mapped[str] = mapped_column(Text)
    suggested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=SuggestionStatus.PENDING.value)
    # What staff decided: the example question as they accepted it (their wording, kept when the asker
    # erases their data), the topic it belongs to, or the new topic's draft {"id", "title", "answer"}.
    topic_id: Mapped[str | None] = mapped_column(String(50))
    example_text: Mapped[str] = mapped_column(Text, default="")
    draft: Mapped[dict[str, Any] | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    decided_at: Mapped[datetime | None]
