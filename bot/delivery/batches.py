"""Batches: an announcement or a reminder round, its live counters, and progress told to its owner.

Counters live on the batch row and move in the same transaction as the deliveries they count, so they
are exact on SQLite and across instances on PostgreSQL. Listeners are in-process: the instance that
records a result tells the owner (a Slack thread, the console), at most every `min_interval` seconds
per batch, and always when the batch finishes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.delivery import DeliveryBatch

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BatchProgress:
    batch_id: int
    kind: str
    owner: str
    title: str
    total: int
    pending: int
    sent: int
    failed: int
    gone: int
    thread_key: str | None = None

    @property
    def done(self) -> bool:
        return self.pending == 0

    @classmethod
    def of(cls, batch: DeliveryBatch) -> BatchProgress:
        return cls(
            batch.id, batch.kind, batch.owner, batch.title, batch.total,
            batch.pending, batch.sent, batch.failed, batch.gone, batch.thread_key,
        )  # fmt: skip

    def summary(self) -> str:
        return (
            f"batch {self.batch_id} {self.title or self.kind}: {self.sent}/{self.total} sent, "
            f"{self.failed} failed, {self.gone} gone, {self.pending} pending"
        )


@dataclass
class BatchDelta:
    """How one transaction moves a batch's counters."""

    total: int = 0
    pending: int = 0
    sent: int = 0
    failed: int = 0
    gone: int = 0

    def finish(self, status: str) -> None:
        """One of the batch's open rows reached `status` (sent, failed or gone)."""
        self.pending -= 1
        setattr(self, status, getattr(self, status) + 1)


async def create_batch(
    session: AsyncSession,
    now: datetime,
    *,
    kind: str,
    owner: str = "",
    title: str = "",
    key: str | None = None,
    thread_key: str | None = None,
) -> DeliveryBatch:
    """A new batch, or the one already made under `key` (a job that runs again finds its own batch)."""
    if key is not None:
        existing = await session.scalar(select(DeliveryBatch).where(DeliveryBatch.key == key))
        if existing is not None:
            return existing
    batch = DeliveryBatch(
        key=key, kind=kind, owner=owner, title=title[:200], created_at=now, thread_key=thread_key
    )
    session.add(batch)
    await session.flush()
    return batch


async def apply_deltas(
    session: AsyncSession, deltas: dict[int, BatchDelta], now: datetime
) -> list[BatchProgress]:
    """Move the counters (batches in id order, so concurrent transactions never deadlock)."""
    progress = []
    for batch_id in sorted(deltas):
        delta = deltas[batch_id]
        new_pending = DeliveryBatch.pending + delta.pending
        row = await session.scalar(
            update(DeliveryBatch)
            .where(DeliveryBatch.id == batch_id)
            .values(
                total=DeliveryBatch.total + delta.total,
                pending=new_pending,
                sent=DeliveryBatch.sent + delta.sent,
                failed=DeliveryBatch.failed + delta.failed,
                gone=DeliveryBatch.gone + delta.gone,
                finished_at=case((new_pending == 0, now), else_=None),
            )
            .returning(DeliveryBatch)
            .execution_options(synchronize_session=False)
        )
        if row is not None:
            progress.append(BatchProgress.of(row))
    return progress


async def batch_progress(session: AsyncSession, batch_id: int) -> BatchProgress | None:
    batch = await session.get(DeliveryBatch, batch_id, populate_existing=True)
    return BatchProgress.of(batch) if batch is not None else None


ProgressCallback = Callable[[BatchProgress], Awaitable[None]]


@dataclass
class ProgressListeners:
    """Callbacks by owner prefix: `subscribe("slack:", post_thread_report)`; `""` hears every batch."""

    min_interval: float = 2.0
    monotonic: Callable[[], float] = time.monotonic
    _callbacks: list[tuple[str, ProgressCallback]] = field(default_factory=list)
    _last_told: dict[int, float] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def subscribe(self, owner_prefix: str, callback: ProgressCallback) -> None:
        self._callbacks.append((owner_prefix, callback))

    def publish(self, updates: Iterable[BatchProgress]) -> None:
        """Tell the owners, throttled; callbacks run as tasks so a slow Slack call never holds a send."""
        now = self.monotonic()
        for progress in updates:
            last = self._last_told.get(progress.batch_id)
            if not progress.done and last is not None and now - last < self.min_interval:
                continue
            self._last_told[progress.batch_id] = now
            if progress.done:
                self._last_told.pop(progress.batch_id, None)
            for prefix, callback in self._callbacks:
                if progress.owner.startswith(prefix):
                    task = asyncio.create_task(self._call(callback, progress))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for the callbacks already started (before exiting, and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    @staticmethod
    async def _call(callback: ProgressCallback, progress: BatchProgress) -> None:
        try:
            await callback(progress)
        except Exception:
            log.exception("batch progress listener failed for batch %s", progress.batch_id)
