"""Two bot processes on one PostgreSQL database drain one batch together: no duplicates, both make
progress, and together they keep within the platform's rate (the limiter is shared in the database)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import SystemClock
from bot.delivery.demo import enqueue_demo_batch
from bot.storage.delivery import Delivery
from tests.emulators.telegram import TelegramEmulator
from tests.emulators.telegram_limits import TelegramLimits
from tests.outbox_processes import database_for, messages_per_chat, start_bot, stop_bot, until, until_drained

RECIPIENTS = 1200
RATE = 300.0
FIRST_CHAT = 700_000


@pytest.mark.slow
async def test_two_instances_share_the_batch_and_the_rate(tmp_path: Path) -> None:
    limits = TelegramLimits(overall_per_second=RATE)
    async with TelegramEmulator(limits=limits) as emulator, database_for("postgres", tmp_path) as database:
        bots = [await start_bot(emulator, database, tmp_path, rate=RATE, share=0.97, lease=30) for _ in "ab"]
        try:
            await emulator.wait_for_calls("setWebhook", 2, timeout=30)  # both are up
            loop = asyncio.get_running_loop()
            started = loop.time()
            await enqueue_demo_batch(
                database, SystemClock(), platform="telegram", recipients=RECIPIENTS, first_chat=FIRST_CHAT
            )
            await until(lambda: len(messages_per_chat(emulator)) == RECIPIENTS, 40, "every recipient")
            elapsed = loop.time() - started
            await until_drained(database, 20)
        finally:
            errors = [await stop_bot(bot) for bot in bots]
        assert not any("Traceback" in text for text in errors), errors
        async with database.session() as session:
            counts = await session.execute(
                select(Delivery.lease_owner, func.count()).group_by(Delivery.lease_owner)
            )
            by_owner = {owner: count for owner, count in counts.all()}

    assert max(messages_per_chat(emulator).values()) == 1, "a message was sent twice"
    assert len(by_owner) == 2 and min(by_owner.values()) >= RECIPIENTS // 10, by_owner
    refused = sum(1 for call in emulator.calls if call.status == 429)
    assert refused <= RECIPIENTS // 100, f"{refused} answers were 429"
    assert elapsed >= (RECIPIENTS - 1) / RATE * 0.9, f"{RECIPIENTS} in {elapsed:.2f} s is over the rate"
