"""SIGKILL in the middle of a 2,000-recipient batch, then a restart: everyone gets the message once,
except at most one in-flight message per worker at the instant of the kill."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.delivery.demo import enqueue_demo_batch
from bot.storage.delivery import DeliveryBatch
from tests.emulators.telegram import TelegramEmulator
from tests.emulators.telegram_limits import TelegramLimits
from tests.outbox_processes import (
    WORKERS,
    database_for,
    messages_per_chat,
    start_bot,
    stop_bot,
    until,
    until_drained,
)

RECIPIENTS = 2000
FIRST_CHAT = 500_000


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_sigkill_mid_batch_loses_nothing_and_duplicates_at_most_one_per_worker(
    kind: str, tmp_path: Path
) -> None:
    limits = TelegramLimits(overall_per_second=1000)
    async with TelegramEmulator(limits=limits) as emulator, database_for(kind, tmp_path) as database:
        batch_id, added = await enqueue_demo_batch(
            database, SystemClock(), platform="telegram", recipients=RECIPIENTS, first_chat=FIRST_CHAT
        )
        assert added == RECIPIENTS
        first = await start_bot(emulator, database, tmp_path, rate=400, lease=5)
        await emulator.wait_for_calls("sendMessage", 500, timeout=30)
        first.send_signal(signal.SIGKILL)
        await stop_bot(first)
        reached = len(messages_per_chat(emulator))
        assert 500 <= reached < RECIPIENTS, "the kill must land in the middle of the batch"

        second = await start_bot(emulator, database, tmp_path, rate=400, lease=5)
        try:
            await until(lambda: len(messages_per_chat(emulator)) == RECIPIENTS, 40, "every recipient")
            await until_drained(database, 20)
        finally:
            errors = await stop_bot(second)
        assert "Traceback" not in errors, errors
        async with database.session() as session:
            batch = await session.get(DeliveryBatch, batch_id)
            assert batch is not None and (batch.sent, batch.pending, batch.failed) == (RECIPIENTS, 0, 0)

    per_chat = messages_per_chat(emulator)
    assert set(per_chat) == set(range(FIRST_CHAT, FIRST_CHAT + RECIPIENTS))
    duplicates = sum(count - 1 for count in per_chat.values())
    assert duplicates <= WORKERS, f"{duplicates} duplicates with {WORKERS} workers"
