"""The deliverer of one platform: claims due rows under a lease, sends them paced, records each result.

Workers (`delivery_workers`) each hold at most one message between "sent" and "recorded": a worker
waits for its outcome to commit before it takes the next row. So a crash (SIGKILL) duplicates at most
one message per worker: one whose send reached the platform while its `sent` was not yet committed;
that row's lease expires and it is sent again. Concurrent outcomes are committed together (group
commit), which keeps SQLite's single writer and PostgreSQL's round trips off the critical path.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import random
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.batches import BatchProgress, ProgressListeners
from bot.delivery.errors import PermanentFailure, RateLimited, RecipientGone, TransientFailure
from bot.delivery.limits import Pace, RecipientSpacing, Timer
from bot.delivery.outbox import Claimed, Outbox, Outcome, claim, newer_edit, open_count, record, referenced
from bot.delivery.payload import reply_from_json
from bot.messages import Reply
from bot.storage.database import Database
from bot.storage.delivery import DeliveryStatus

log = logging.getLogger(__name__)
SENT, FAILED = DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value
GONE, PENDING = DeliveryStatus.GONE.value, DeliveryStatus.PENDING.value
SENDING_STATUS = DeliveryStatus.SENDING.value
SUPERSEDED = DeliveryStatus.SUPERSEDED.value
REFERENCE_WAIT = timedelta(seconds=1)
REFERENCE_CHECKS = 50
REFERENCE_POLL_S = 0.1
RECORD_WARN_AFTER = 4  # failed tries (about 1.5 s) before an outcome that cannot be recorded is logged
RECORD_RETRY_CAP = 2.0  # seconds between tries to record while the database is away
_STOP = Claimed(0, "", "", "", {}, None, 0, datetime.min.replace(tzinfo=UTC))  # tells a worker to end


class Sender(Protocol):
    """What the deliverer needs of an adapter (`bot.adapters.base.Adapter` has it)."""

    platform: str

    async def send(self, chat_id: str, reply: Reply) -> str: ...


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    lease: timedelta = timedelta(seconds=60)
    lease_margin: timedelta = timedelta(seconds=10)  # never start a send this close to lease expiry
    max_attempts: int = 8
    workers: int = 4
    claim_limit: int = 50
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    poll_interval: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings, per_second: float | None) -> DeliveryPolicy:
        """Claim about one second of sending at a time, so leases never run out in the queue."""
        workers = settings.delivery_workers
        claim_limit = max(workers * 2, min(500, round(per_second or 100)))
        lease = timedelta(seconds=settings.delivery_lease_seconds)
        return cls(
            lease=lease, lease_margin=lease / 6, max_attempts=settings.delivery_max_attempts,
            workers=workers, claim_limit=claim_limit,
        )  # fmt: skip


def lease_owner() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class Deliverer:
    def __init__(
        self,
        database: Database,
        sender: Sender,
        outbox: Outbox,
        *,
        pace: Pace,
        spacing: RecipientSpacing,
        clock: Clock,
        timer: Timer,
        policy: DeliveryPolicy | None = None,
        listeners: ProgressListeners | None = None,
        owner: str | None = None,
        jitter: random.Random | None = None,
    ) -> None:
        self.platform = sender.platform
        self.owner = owner or lease_owner()
        self.policy = policy or DeliveryPolicy()
        self.pace = pace
        self._database = database
        self._sender = sender
        self._outbox = outbox
        self._spacing = spacing
        self._clock = clock
        self._timer = timer
        self._listeners = listeners
        self._jitter = jitter or random.Random()
        self._queue: asyncio.Queue[Claimed] = asyncio.Queue()
        self._recorded = asyncio.Condition()
        self._pending_outcomes: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._busy = 0
        self._stopping = False
        self._held: set[int] = set()  # ids queued or being sent by this deliverer

    def _take(self, rows: list[Claimed]) -> None:
        """Queue claimed rows, except those this deliverer still holds: a row whose lease ran out while
        its send was slow is claimed again (by us, under the same owner, which renews its lease) and must
        not be sent a second time by another of our workers."""
        for row in rows:
            if row.id in self._held:
                continue
            self._held.add(row.id)
            self._queue.put_nowait(row)

    async def run_once(self) -> int:
        """Claim what is due now, deliver it all, record it; the number of rows handled (for tests)."""
        rows = await self._claim()
        self._take(rows)
        workers = [asyncio.create_task(self._work(until_empty=True)) for _ in range(self.policy.workers)]
        await asyncio.gather(*workers)
        return len(rows)

    async def run(self) -> None:
        """Deliver until `stop()`: keep the workers fed, sleep until woken or the next poll."""
        wakeup = self._outbox.wakeup(self.platform)
        workers = [asyncio.create_task(self._work()) for _ in range(self.policy.workers)]
        try:
            while not self._stopping:
                if self._queue.qsize() >= self.policy.workers:
                    await self._wait_recorded(self.policy.poll_interval)
                    continue
                wakeup.clear()
                rows = await self._claim_safely()
                self._take(rows)
                if not rows:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wakeup.wait(), self.policy.poll_interval)
        finally:
            self._stopping = True
            for _ in workers:
                self._queue.put_nowait(_STOP)
            await asyncio.gather(*workers, return_exceptions=True)
            await self._release_unsent()

    def stop(self) -> None:
        """Finish the sends under way, record them, give back unsent claims; `run` then returns."""
        self._stopping = True
        self._outbox.wakeup(self.platform).set()

    async def drain(self, within: float | None = None) -> bool:
        """Wait until no message of this platform is open (pending, in backoff or being sent)."""

        async def finished() -> None:
            while True:
                if self._busy == 0 and self._queue.empty():  # only then can the outbox be empty
                    async with self._database.session() as session:
                        if await open_count(session, self.platform) == 0:
                            return
                await self._wait_recorded(self.policy.poll_interval)

        try:
            await asyncio.wait_for(finished(), within)
        except TimeoutError:
            return False
        if self._listeners is not None:
            await self._listeners.settle()
        return True

    async def _claim(self) -> list[Claimed]:
        async with self._database.session() as session:
            return await claim(
                session, self.platform, self.owner, self._clock.now(),
                lease=self.policy.lease, limit=self.policy.claim_limit,
            )  # fmt: skip

    async def _claim_safely(self) -> list[Claimed]:
        try:
            return await self._claim()
        except Exception:
            log.exception("claiming %s deliveries failed; trying again shortly", self.platform)
            return []

    async def _work(self, *, until_empty: bool = False) -> None:
        while True:
            if until_empty and self._queue.empty():
                return
            row = await self._queue.get()
            if row is _STOP:
                return
            self._busy += 1
            try:
                outcome = await self._deliver(row)
                await self._commit(outcome)
            except Exception:
                log.exception("delivery %s could not be recorded; its lease will expire", row.key)
            finally:
                self._busy -= 1
                self._held.discard(row.id)

    async def _deliver(self, row: Claimed) -> Outcome:
        try:
            reply = reply_from_json(row.payload)
        except (ValueError, KeyError, TypeError) as error:
            return Outcome(row, FAILED, error=f"bad payload: {error}")
        if row.replace_key is not None:
            async with self._database.session() as session:
                if await newer_edit(session, row.replace_key, row.id):  # never overwrite a newer edit
                    return Outcome(row, SUPERSEDED, error="superseded")
        if row.thread_key is not None or row.replace_key is not None:
            placed = await self._place(row, reply)
            if placed is None:  # the message it goes under (or edits) is not sent yet
                later = self._clock.now() + REFERENCE_WAIT
                return Outcome(row, PENDING, not_before=later, refund=True, error="waiting for its thread")
            reply = placed
        wait = self._spacing.reserve(row.recipient)
        if wait > 0:
            await self._timer.sleep(wait)
        await self.pace.acquire()
        now = self._clock.now()
        if self._stopping or now >= row.lease_expires_at - self.policy.lease_margin:
            return Outcome(row, PENDING, not_before=now, refund=True, error="released unsent")
        try:
            message_id = await self._sender.send(row.recipient, reply)
        except RateLimited as error:
            await self.pace.pause(error.retry_after)
            later = self._clock.now() + timedelta(seconds=error.retry_after)
            return Outcome(row, PENDING, not_before=later, error=str(error), refund=True)
        except RecipientGone as error:
            return Outcome(row, GONE, error=str(error) or "recipient gone")
        except PermanentFailure as error:
            return Outcome(row, FAILED, error=str(error) or "refused by the platform")
        except Exception as error:  # TransientFailure, and anything an adapter did not foresee
            if not isinstance(error, TransientFailure):
                log.warning("unexpected error sending %s: %r", row.key, error)
            return self._retry_or_fail(row, f"{type(error).__name__}: {error}")
        return Outcome(row, SENT, message_id=message_id)

    async def _place(self, row: Claimed, reply: Reply) -> Reply | None:
        """`reply` with the platform ids of the messages it goes under or edits; None to wait for them.

        A message it refers to that is being sent right now (by another worker) is waited for a few
        moments; one still queued puts this one back in the queue for a while."""
        keys = [key for key in (row.thread_key, row.replace_key) if key is not None]
        for _ in range(REFERENCE_CHECKS):
            async with self._database.session() as session:
                found = await referenced(session, keys)
            statuses = [found.get(key, (None, None))[0] for key in keys]
            if SENDING_STATUS in statuses and PENDING not in statuses:
                await self._timer.sleep(REFERENCE_POLL_S)
                continue
            break
        ids: dict[str, str | None] = {}
        for key in keys:
            status, message_id = found.get(key, (None, None))
            if status in (PENDING, SENDING_STATUS):
                return None
            ids[key] = message_id if status == SENT else None  # never sent: post it as a new message
        return dataclasses.replace(
            reply,
            thread=ids.get(row.thread_key) if row.thread_key else None,
            replaces=ids.get(row.replace_key) if row.replace_key else None,
        )

    def _retry_or_fail(self, row: Claimed, error: str) -> Outcome:
        if row.attempts >= self.policy.max_attempts:
            return Outcome(row, FAILED, error=f"gave up after {row.attempts} attempts: {error}")
        delay = backoff(row.attempts, self.policy.backoff_base, self.policy.backoff_cap, self._jitter)
        return Outcome(row, PENDING, not_before=self._clock.now() + timedelta(seconds=delay), error=error)

    async def _commit(self, outcome: Outcome) -> None:
        """Queue the outcome for the next group commit and wait until it is durable."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending_outcomes.append((outcome, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending())
        await future

    async def _write_pending(self) -> None:
        """Group commits: every outcome waiting is recorded in one transaction, then its workers go on."""
        while self._pending_outcomes:
            group, self._pending_outcomes = self._pending_outcomes, []
            try:
                progress = await self._record_durably([outcome for outcome, _ in group])
            except Exception as error:  # given up: the deliverer is stopping and the database is away
                for _, future in group:
                    future.set_exception(error)
                continue
            for _, future in group:
                future.set_result(None)
            if self._listeners is not None and progress:
                self._listeners.publish(progress)
            async with self._recorded:
                self._recorded.notify_all()

    async def _record_durably(self, outcomes: list[Outcome]) -> list[BatchProgress]:
        """Record `outcomes`, trying again (backing off to `RECORD_RETRY_CAP` s) for as long as the
        database is away. The workers whose outcomes these are wait meanwhile: a worker that cannot
        record a send sends nothing more, so an outage adds no duplicate beyond one per worker (the
        send whose outcome is lost if the process dies before the database comes back)."""
        attempt = 0
        while True:
            try:
                async with self._database.session() as session:
                    progress = await record(session, self.owner, outcomes, self._clock.now())
            except Exception as failure:
                attempt += 1
                if attempt == RECORD_WARN_AFTER:
                    log.warning(
                        "%s: %d sent deliveries cannot be recorded (%s); sending waits until they are",
                        self.platform, len(outcomes), type(failure).__name__,
                    )  # fmt: skip
                if self._stopping and attempt >= RECORD_WARN_AFTER:
                    raise
                await asyncio.sleep(min(RECORD_RETRY_CAP, 0.05 * 2**attempt))
                continue
            if attempt >= RECORD_WARN_AFTER:
                log.warning("%s: deliveries recorded again after %d tries", self.platform, attempt)
            return progress

    async def _wait_recorded(self, seconds: float) -> None:
        async with self._recorded:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._recorded.wait(), seconds)

    async def _release_unsent(self) -> None:
        """Give back rows claimed but never started, so the next owner need not wait for the lease."""
        rows = []
        while not self._queue.empty():
            row = self._queue.get_nowait()
            if row is not _STOP:
                rows.append(row)
        self._held.difference_update(row.id for row in rows)
        if rows:
            now = self._clock.now()
            outcomes = [
                Outcome(r, PENDING, not_before=now, refund=True, error="released unsent") for r in rows
            ]
            async with self._database.session() as session:
                await record(session, self.owner, outcomes, now)


def backoff(attempt: int, base: float, cap: float, jitter: random.Random) -> float:
    """Exponential with "equal jitter": between half and all of `base * 2**(attempt-1)`, at most `cap`."""
    ceiling = min(cap, base * float(2 ** max(0, attempt - 1)))
    return ceiling / 2 + jitter.uniform(0, ceiling / 2)
