"""`python run_bot.py outbox demo-batch|status`: enqueue a test batch, show the outbox's counters.

The demo batch is what the crash and two-instance tests drain, and a way to watch pacing by hand:
recipients are chat ids `first_chat .. first_chat + count - 1`; the batch key makes a repeat a no-op.
"""

from __future__ import annotations

from sqlalchemy import func, select

from bot.clock import Clock
from bot.delivery.outbox import Outbox, OutboxMessage
from bot.messages import Reply
from bot.storage.database import Database
from bot.storage.delivery import Delivery, DeliveryBatch


async def enqueue_demo_batch(
    database: Database,
    clock: Clock,
    *,
    platform: str,
    recipients: int,
    first_chat: int = 100_000,
    text: str = "Demo announcement {n}",
    key: str = "demo",
    owner: str = "console:demo",
) -> tuple[int, int]:
    """(batch id, messages newly enqueued)."""
    outbox = Outbox(clock)
    async with database.session() as session:
        batch = await outbox.create_batch(session, kind="demo", owner=owner, title=key, key=f"demo:{key}")
        messages = (
            OutboxMessage(f"demo:{key}:{platform}:{chat}", str(chat), Reply(text.format(n=n, chat=chat)))
            for n, chat in enumerate(range(first_chat, first_chat + recipients))
        )
        added = await outbox.enqueue_many(session, platform, messages, batch=batch)
        return batch.id, added


async def outbox_status(database: Database) -> list[str]:
    """One line per platform and status, then one per batch."""
    lines = []
    async with database.session() as session:
        counts = await session.execute(
            select(Delivery.platform, Delivery.status, func.count())
            .group_by(Delivery.platform, Delivery.status)
            .order_by(Delivery.platform, Delivery.status)
        )
        lines += [f"{platform} {status} {count}" for platform, status, count in counts.all()]
        for batch in await session.scalars(select(DeliveryBatch).order_by(DeliveryBatch.id)):
            lines.append(
                f"batch {batch.id} {batch.kind} {batch.title!r}: total {batch.total} pending {batch.pending} "
                f"sent {batch.sent} failed {batch.failed} gone {batch.gone}"
            )
    return lines
