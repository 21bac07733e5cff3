"""Focal points meeting each other: profiles, introductions (asked for or made by a matching round),
blocks, and matching rounds with who skipped them.

An introduction keeps both sides as nullable foreign keys (`ON DELETE SET NULL`): when one side erases
their data, the other keeps the introduction as "a focal point who has left".
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class Profile(Base):
    """What other focal points may see (with `Person.display_name` and the city), and the consents.

    `listed` (shown in the directory) and `introductions` (may be asked for one) are separate and both
    off until given; `matching` is the opt-in to matching rounds."""

    __tablename__ = "profile"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    job_title: Mapped[str] = mapped_column(String(200), default="")  # the form's `role`
    languages: Mapped[list[str]] = mapped_column(default=list)  # language codes spoken
    topics: Mapped[list[str]] = mapped_column(default=list)  # ids from content/challenges.yaml
    listed: Mapped[bool] = mapped_column(default=False)
    introductions: Mapped[bool] = mapped_column(default=False)
    matching: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]


class IntroductionStatus(StrEnum):
    PENDING = "pending"  # asked, no answer yet
    DECLINED = "declined"  # the requester is never told: after expiry they see "no response"
    EXPIRED = "expired"  # no answer in time (or declined, once its time ran out)
    WITHDRAWN = "withdrawn"  # the requester took it back
    ACCEPTED = "accepted"  # both have each other's contact; the relay is open
    ENDED = "ended"  # either side ended it (or blocked, or left): the relay is closed


OPEN_STATUSES = (IntroductionStatus.PENDING.value, IntroductionStatus.DECLINED.value)


class Introduction(Base):
    """A request from `requester` to `recipient`, or a pair made by a matching round (accepted at once)."""

    __tablename__ = "introduction"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=IntroductionStatus.PENDING.value)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("match_round.id", ondelete="CASCADE"), index=True)
    match_group: Mapped[int | None]  # the pair or trio of a round this belongs to
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    closed_told_at: Mapped[datetime | None]  # when the requester was told "no response"
    relayed: Mapped[int] = mapped_column(default=0)  # messages passed on so far (their outbox keys)

    __table_args__ = (Index("ix_introduction_status_expires_at", "status", "expires_at"),)


class Block(Base):
    """`blocker` never hears from `blocked` again: no requests, no matches, no relayed messages."""

    __tablename__ = "peer_block"

    id: Mapped[int] = mapped_column(primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    blocked_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id"),)


class RoundStatus(StrEnum):
    ANNOUNCED = "announced"  # people were told; they may skip it until it runs
    RUNNING = "running"  # taken by one instance
    DONE = "done"


class MatchRound(Base):
    __tablename__ = "match_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheduled_at: Mapped[datetime] = mapped_column(unique=True)
    status: Mapped[str] = mapped_column(String(20), default=RoundStatus.ANNOUNCED.value)
    announced_at: Mapped[datetime | None]
    ran_at: Mapped[datetime | None]
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    taking_part: Mapped[int] = mapped_column(default=0)
    pairs: Mapped[int] = mapped_column(default=0)
    trios: Mapped[int] = mapped_column(default=0)
    unmatched: Mapped[int] = mapped_column(default=0)


class MatchSkip(Base):
    """A person who snoozed one round."""

    __tablename__ = "match_skip"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("match_round.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)

    __table_args__ = (UniqueConstraint("round_id", "person_id"),)
