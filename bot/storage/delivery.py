"""The outbox tables: one row per message to send, the batches they belong to, the shared rate ledger.

A `Delivery` row moves pending -> sending (claimed under a lease) -> sent | failed | gone, or back to
pending for a retry. While a row is `sending`, `not_before` equals its lease expiry, so "claimable" is
one condition for both states: status pending or sending, and `not_before <= now`.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for `not_before`
    SENDING = "sending"  # claimed by `lease_owner` until `lease_expires_at` (= `not_before`)
    SENT = "sent"
    FAILED = "failed"  # refused for good, or out of attempts; `last_error` says why
    GONE = "gone"  # the recipient blocked the bot or no longer exists
    SUPERSEDED = "superseded"  # an edit overtaken by a newer edit of the same message before it was sent


OPEN_STATUSES = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)


class Priority(IntEnum):
    """Lower goes first: a single introduction or staff notice is not stuck behind a 50,000 broadcast."""

    URGENT = 0
    NORMAL = 5
    BULK = 10


class DeliveryBatch(Base):
    """An announcement or a reminder round: live counters, and an owner told of progress.

    `pending` counts rows not yet finished (pending or sending); the four counters add up to `total`.
    """

    __tablename__ = "delivery_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)  # so a re-run job finds its batch
    kind: Mapped[str] = mapped_column(String(30))
    owner: Mapped[str] = mapped_column(String(200), default="")  # "<platform>:<chat>" told of progress
    thread_key: Mapped[str | None] = mapped_column(String(200))  # its reports go under this message
    title: Mapped[str] = mapped_column(String(200), default="")
    total: Mapped[int] = mapped_column(default=0)
    pending: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    gone: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Delivery(Base):
    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency key
    platform: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(100))  # the platform's chat id
    payload: Mapped[dict[str, Any]]  # bot.delivery.payload: a Reply as JSON
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_batch.id", ondelete="SET NULL"), index=True
    )
    priority: Mapped[int] = mapped_column(default=Priority.NORMAL.value)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_id: Mapped[str | None] = mapped_column(String(100))
    # Another message of the outbox, by key: post this one under it (a thread), or edit it instead.
    thread_key: Mapped[str | None] = mapped_column(String(200))
    replace_key: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_delivery_due", "platform", "status", "priority", "not_before"),
        Index("ix_delivery_recipient", "platform", "recipient"),
    )


class DeliveryRate(Base):
    """The shared rate ledger of one platform (used on PostgreSQL, where several instances send).

    Times are the database's clock in epoch seconds, so instances on machines with skewed clocks agree.
    `next_slot` is the first send slot nobody has reserved; `paused_until` is set by a 429.
    """

    __tablename__ = "delivery_rate"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_slot: Mapped[float] = mapped_column(Float, default=0.0)
    paused_until: Mapped[float] = mapped_column(Float, default=0.0)
