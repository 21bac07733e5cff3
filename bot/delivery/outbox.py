"""The outbox: enqueue messages durably (idempotent on their key), claim due rows under a lease, record.

`enqueue` writes in the caller's session, so a message exists exactly when the work that caused it
commits. `claim` and `record` are what deliverers call; on PostgreSQL the claim takes rows with
`FOR UPDATE SKIP LOCKED`, so instances sharing one database never take the same row; SQLite runs the
same statement (one writer at a time, so nothing to skip).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Table, bindparam, cast, event, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.delivery.batches import BatchDelta, BatchProgress, apply_deltas, create_batch
from bot.delivery.payload import reply_to_json
from bot.messages import Reply
from bot.storage.delivery import Delivery, DeliveryBatch, DeliveryStatus, Priority
from bot.storage.people import PlatformIdentity

log = logging.getLogger(__name__)
INSERT_CHUNK = 1000
PENDING, SENDING = DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value
_CLAIMED_COLUMNS = (
    Delivery.id,
    Delivery.key,
    Delivery.platform,
    Delivery.recipient,
    Delivery.payload,
    Delivery.batch_id,
    Delivery.attempts,
    Delivery.priority,
    Delivery.thread_key,
    Delivery.replace_key,
)
_TABLE: Table = Delivery.__table__  # type: ignore[assignment]
FINAL = (DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value, DeliveryStatus.GONE.value)
FINISHED = (*FINAL, DeliveryStatus.SUPERSEDED.value)
ERASED_PAYLOAD: dict[str, Any] = {"erased": True}  # what a finished row keeps after /forget
ERASED_RECIPIENT = "-"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message to enqueue: `key` must name it uniquely and stably (e.g. `event:7:24h:telegram:42`).

    `thread_key` names another message (by its key) to post this one under; `replace_key` one to edit
    instead of posting anew. The deliverer waits until that message is sent; if it never was, this one
    is posted as a new message.
    """

    key: str
    recipient: str
    reply: Reply
    thread_key: str | None = None
    replace_key: str | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row a deliverer holds under its lease; it must not send it after `lease_expires_at`."""

    id: int
    key: str
    platform: str
    recipient: str
    payload: dict[str, Any]
    batch_id: int | None
    attempts: int
    lease_expires_at: datetime
    thread_key: str | None = None
    replace_key: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one claimed row. `status`: sent, failed, gone, or pending (try again later).

    `refund` gives the attempt back: a 429 or an unsent lease is not the message's fault.
    """

    delivery: Claimed
    status: str
    not_before: datetime | None = None
    error: str | None = None
    message_id: str | None = None
    refund: bool = False


class Outbox:
    """What handlers and jobs use to send anything that is not a direct reply (`ctx.services.outbox`)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._wakeups: dict[str, asyncio.Event] = {}

    def wakeup(self, platform: str) -> asyncio.Event:
        """Set when a transaction that enqueued for `platform` commits (the deliverer waits on it)."""
        return self._wakeups.setdefault(platform, asyncio.Event())

    async def create_batch(
        self,
        session: AsyncSession,
        *,
        kind: str,
        owner: str = "",
        title: str = "",
        key: str | None = None,
        thread_key: str | None = None,
    ) -> DeliveryBatch:
        """A batch whose progress goes to `owner` (`"<platform>:<chat>"`), reported under `thread_key`."""
        return await create_batch(
            session, self.clock.now(), kind=kind, owner=owner, title=title, key=key, thread_key=thread_key
        )

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        key: str,
        platform: str,
        recipient: str,
        reply: Reply,
        batch: DeliveryBatch | None = None,
        priority: Priority = Priority.NORMAL,
        not_before: datetime | None = None,
        thread_key: str | None = None,
        replace_key: str | None = None,
    ) -> bool:
        """Add one message; False when a message with this key was already accepted (nothing changes)."""
        added = await self.enqueue_many(
            session,
            platform,
            [OutboxMessage(key, recipient, reply, thread_key, replace_key)],
            batch=batch,
            priority=priority,
            not_before=not_before,
        )
        return added == 1

    async def enqueue_many(
        self,
        session: AsyncSession,
        platform: str,
        messages: Iterable[OutboxMessage],
        *,
        batch: DeliveryBatch | None = None,
        priority: Priority = Priority.BULK,
        not_before: datetime | None = None,
    ) -> int:
        """Add messages in bulk, skipping keys already accepted; returns how many were new.

        Recipients already known to be unreachable are recorded as gone at once, so the batch counts
        them and nothing is sent to them.
        """
        now = self.clock.now()
        due = not_before or now
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        added = gone = 0
        # One stored form per Reply object (a broadcast shares a handful); the Reply is kept with it so
        # its id cannot be reused by another while this runs.
        payloads: dict[int, tuple[Reply, dict[str, Any]]] = {}
        for chunk in _chunks(messages, INSERT_CHUNK):
            unreachable = await _unreachable(session, platform, {m.recipient for m in chunk})
            for message in chunk:
                cached = payloads.get(id(message.reply))
                if cached is None or cached[0] is not message.reply:
                    payloads[id(message.reply)] = (message.reply, reply_to_json(message.reply))
            rows = [
                {
                    "key": message.key,
                    "recipient": message.recipient,
                    "payload": payloads[id(message.reply)][1],
                    "status": DeliveryStatus.GONE.value if message.recipient in unreachable else PENDING,
                    "last_error": "recipient unreachable" if message.recipient in unreachable else None,
                    "thread_key": message.thread_key,
                    "replace_key": message.replace_key,
                }
                for message in chunk
            ]
            # The table, not the entity (no ORM bulk machinery for thousands of rows), and what every row
            # shares bound once for the statement rather than once a row.
            statement = (
                insert(_TABLE)
                .values(
                    platform=platform,
                    batch_id=batch.id if batch is not None else None,
                    priority=int(priority),
                    attempts=0,
                    not_before=due,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(_TABLE.c.status)
            )
            statuses = (await session.execute(statement, rows)).scalars().all()
            added += len(statuses)
            gone += sum(1 for status in statuses if status == DeliveryStatus.GONE.value)
            for message in chunk:
                if message.replace_key is not None:
                    await _supersede(session, message.replace_key, message.key, now)
        if batch is not None and added:
            delta = BatchDelta(total=added, pending=added - gone, gone=gone)
            await apply_deltas(session, {batch.id: delta}, now)
        if added - gone:
            self._wake_on_commit(session, platform)
        return added

    def _wake_on_commit(self, session: AsyncSession, platform: str) -> None:
        wakeup = self.wakeup(platform)

        def committed(_session: Session) -> None:
            wakeup.set()

        event.listen(session.sync_session, "after_commit", committed, once=True)


async def claim(
    session: AsyncSession, platform: str, owner: str, now: datetime, *, lease: timedelta, limit: int
) -> list[Claimed]:
    """Take up to `limit` due rows of `platform` for `owner` until `now + lease`, most urgent first.

    Rows whose lease expired (their sender died) are returned to pending first, so they are claimed
    again; the claim counts as an attempt.
    """
    await session.execute(
        update(Delivery)
        .where(Delivery.platform == platform, Delivery.status == SENDING, Delivery.not_before <= now)
        .values(status=PENDING, lease_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    expires = now + lease
    due = (
        select(Delivery.id)
        .where(Delivery.platform == platform, Delivery.status == PENDING, Delivery.not_before <= now)
        .order_by(Delivery.priority, Delivery.not_before)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    rows = await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(select(due.c.id)))
        .values(
            status=SENDING,
            lease_owner=owner,
            lease_expires_at=expires,
            not_before=expires,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .returning(*_CLAIMED_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    claimed = sorted(rows.all(), key=lambda row: (row.priority, row.id))
    return [
        Claimed(
            r.id,
            r.key,
            r.platform,
            r.recipient,
            r.payload,
            r.batch_id,
            r.attempts,
            expires,
            r.thread_key,
            r.replace_key,
        )
        for r in claimed
    ]


async def _supersede(session: AsyncSession, replace_key: str, newest: str, now: datetime) -> None:
    """Older edits of the same message that are still waiting will never be worth sending."""
    await session.execute(
        update(Delivery)
        .where(Delivery.replace_key == replace_key, Delivery.status == PENDING, Delivery.key != newest)
        .values(status=DeliveryStatus.SUPERSEDED.value, updated_at=now, last_error="superseded")
        .execution_options(synchronize_session=False)
    )


async def newer_edit(session: AsyncSession, replace_key: str, row_id: int) -> bool:
    """Whether an edit of the same message was enqueued after row `row_id` and is still to be sent or
    sent: then this one is stale (it was being sent, or backing off, when the newer one came)."""
    found = await session.scalar(
        select(Delivery.id)
        .where(
            Delivery.replace_key == replace_key,
            Delivery.id > row_id,
            Delivery.status.in_((PENDING, SENDING, DeliveryStatus.SENT.value)),
        )
        .limit(1)
    )
    return found is not None


async def referenced(session: AsyncSession, keys: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """For outbox keys: their status and the platform message id they were sent as."""
    if not keys:
        return {}
    rows = await session.execute(
        select(Delivery.key, Delivery.status, Delivery.platform_message_id).where(
            Delivery.key.in_(list(keys))
        )
    )
    return {key: (status, message_id) for key, status, message_id in rows.all()}


async def record(
    session: AsyncSession, owner: str, outcomes: Sequence[Outcome], now: datetime
) -> list[BatchProgress]:
    """Write the outcomes of rows `owner` still holds (a row whose lease was lost is left alone).

    Sent rows, the common case, take two statements per group however large it is. A recipient
    found gone takes their other pending rows with them and is marked unreachable. Returns the
    progress of the batches touched.
    """
    deltas: dict[int, BatchDelta] = defaultdict(BatchDelta)
    sent = [outcome for outcome in outcomes if outcome.status == DeliveryStatus.SENT.value]
    if sent:
        await _record_sent(session, owner, sent, now, deltas)
    for outcome in outcomes:
        if outcome.status == DeliveryStatus.SENT.value:
            continue
        row = outcome.delivery
        values: dict[str, Any] = {  # lease_owner stays: who held it last
            "status": outcome.status,
            "lease_expires_at": None,
            "updated_at": now,
            "last_error": outcome.error,
            "not_before": outcome.not_before or now,
        }
        if outcome.refund:
            values["attempts"] = _TABLE.c.attempts - 1
        applied = await session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == row.id, _TABLE.c.status == SENDING, _TABLE.c.lease_owner == owner)
            .values(**values)
            .returning(_TABLE.c.id)
        )
        if applied.first() is None or outcome.status not in FINAL:
            continue
        if row.batch_id is not None:
            deltas[row.batch_id].finish(outcome.status)
        if outcome.status == DeliveryStatus.GONE.value:
            await _recipient_gone(session, row.platform, row.recipient, now, deltas)
    return await apply_deltas(session, deltas, now) if deltas else []


async def _record_sent(
    session: AsyncSession, owner: str, sent: list[Outcome], now: datetime, deltas: dict[int, BatchDelta]
) -> None:
    applied = await session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.id.in_([outcome.delivery.id for outcome in sent]),
            _TABLE.c.status == SENDING,
            _TABLE.c.lease_owner == owner,
        )
        .values(
            status=DeliveryStatus.SENT.value,
            sent_at=now,
            updated_at=now,
            lease_expires_at=None,
            last_error=None,
        )
        .returning(_TABLE.c.id)
    )
    ids = set(applied.scalars())
    if len(ids) < len(sent):  # the lease ran out before the commit: another worker may send it again
        log.warning("%d sent message(s) had lost their lease", len(sent) - len(ids))
    message_ids = [
        {"row_id": outcome.delivery.id, "message_id": outcome.message_id}
        for outcome in sent
        if outcome.delivery.id in ids and outcome.message_id
    ]
    if message_ids:
        await session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("row_id"))
            .values(platform_message_id=bindparam("message_id")),
            message_ids,
        )
    for outcome in sent:
        if outcome.delivery.id in ids and outcome.delivery.batch_id is not None:
            deltas[outcome.delivery.batch_id].finish(DeliveryStatus.SENT.value)


async def next_due(session: AsyncSession, platform: str) -> datetime | None:
    """When the earliest message of `platform` still waiting (a retry, a wait for its thread) is due."""
    due: datetime | None = await session.scalar(
        select(func.min(Delivery.not_before)).where(
            Delivery.platform == platform, Delivery.status.in_((PENDING, SENDING))
        )
    )
    return due


async def open_count(session: AsyncSession, platform: str) -> int:
    """Rows of `platform` not finished yet (pending, in backoff, or being sent)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.platform == platform, Delivery.status.in_((PENDING, SENDING)))
    )
    return int(count or 0)


async def _recipient_gone(
    session: AsyncSession, platform: str, recipient: str, now: datetime, deltas: dict[int, BatchDelta]
) -> None:
    await _drop_pending(session, platform, recipient, now, "recipient gone", deltas)
    await session.execute(
        update(PlatformIdentity)
        .where(
            PlatformIdentity.platform == platform,
            PlatformIdentity.chat_id == recipient,
            PlatformIdentity.unreachable_at.is_(None),
        )
        .values(unreachable_at=now)
        .execution_options(synchronize_session=False)
    )


async def _drop_pending(
    session: AsyncSession,
    platform: str,
    recipient: str,
    now: datetime,
    reason: str,
    deltas: dict[int, BatchDelta],
) -> None:
    """Mark every pending message to `recipient` gone, counting them in their batches."""
    dropped = await session.execute(
        update(Delivery)
        .where(Delivery.platform == platform, Delivery.recipient == recipient, Delivery.status == PENDING)
        .values(status=DeliveryStatus.GONE.value, last_error=reason, updated_at=now)
        .returning(Delivery.batch_id)
        .execution_options(synchronize_session=False)
    )
    for (batch_id,) in dropped.all():
        if batch_id is not None:
            deltas[batch_id].finish(DeliveryStatus.GONE.value)


async def _unreachable(session: AsyncSession, platform: str, recipients: set[str]) -> set[str]:
    found = await session.scalars(
        select(PlatformIdentity.chat_id).where(
            PlatformIdentity.platform == platform,
            PlatformIdentity.chat_id.in_(recipients),
            PlatformIdentity.unreachable_at.is_not(None),
        )
    )
    return set(found)


def _chunks(messages: Iterable[OutboxMessage], size: int) -> Iterator[list[OutboxMessage]]:
    chunk: list[OutboxMessage] = []
    for message in messages:
        chunk.append(message)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def forget_recipient(
    session: AsyncSession, platform: str, recipient: str, now: datetime
) -> list[BatchProgress]:
    """Erase what the outbox holds for someone who asked to be forgotten.

    Their pending messages are dropped (counted as gone, so batch reports stay right); every finished
    message to them loses its text, its chat id (the recipient and the key that named it) and the
    platform's message id. A message being sent at this instant finishes first; its row keeps the chat
    id until the row is purged.
    """
    deltas: dict[int, BatchDelta] = defaultdict(BatchDelta)
    await _drop_pending(session, platform, recipient, now, "recipient erased their data", deltas)
    await session.execute(
        update(Delivery)
        .where(Delivery.platform == platform, Delivery.recipient == recipient, Delivery.status.in_(FINISHED))
        .values(
            payload=ERASED_PAYLOAD,
            updated_at=now,
            platform_message_id=None,
            recipient=ERASED_RECIPIENT,
            key=literal("erased:") + cast(Delivery.id, String),
        )
        .execution_options(synchronize_session=False)
    )
    return await apply_deltas(session, deltas, now) if deltas else []
