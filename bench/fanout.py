"""Outbox fan-out: pacing against the Telegram emulator, the deliverer's ceiling, memory for 50,000.

- `fanout_rate_ratio`, `fanout_429_fraction`: 1,000 recipients, emulator limiting at 30/s, default
  settings (the deliverer uses `delivery_rate_share` of 30/s). Ratio = achieved / 30.
- `deliverer_ceiling_msgs_per_s`: 5,000 recipients with both limits raised to 1,000/s and 16 workers
  (`DELIVERY_WORKERS`; the default 4 is plenty for 30/s).
- `fanout_50k_peak_rss_mb`: peak RSS of a fresh process that enqueues 50,000 and drains them through
  a sender that only counts (the network is not what is measured).

The emulator runs in its own process, so its CPU is not charged to the deliverer. The database is a
SQLite file (the default deployment).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.config import Settings
from bot.delivery.demo import enqueue_demo_batch
from bot.delivery.outbox import Outbox
from bot.delivery.runner import DeliveryRunner
from bot.messages import Incoming, Reply
from bot.storage.database import Database

PAID_RATE = 1000.0
CEILING_WORKERS = 16  # the duplicate bound after a crash is one message per worker


def _serve_emulator(overall_per_second: float, channel: Connection) -> None:
    """Child process: run the emulator until told to stop, then report the answers' statuses."""
    from tests.emulators.telegram import TelegramEmulator
    from tests.emulators.telegram_limits import TelegramLimits

    async def serve() -> None:
        limits = TelegramLimits(overall_per_second=overall_per_second)
        async with TelegramEmulator(limits=limits) as emulator:
            channel.send((emulator.token, emulator.base_url))
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, channel.recv)
            sends = [call for call in emulator.calls if call.method == "sendMessage"]
            channel.send((len(sends), sum(1 for call in sends if call.status == 429)))

    asyncio.run(serve())


async def _no_direct_replies(incoming: Incoming) -> list[Reply]:
    return []


async def _drain_to_emulator(rate: float, recipients: int, **overrides: Any) -> tuple[float, int, int]:
    """(seconds from start to drained, sendMessage calls, of which 429)."""
    from bot.adapters.telegram import TelegramAdapter
    from bot.payloads import PayloadStore

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=_serve_emulator, args=(rate, theirs), daemon=True)
    server.start()
    token, base_url = ours.recv()
    with tempfile.TemporaryDirectory() as folder:
        overrides["telegram_rate_per_s"] = rate
        settings = Settings(bot_data_dir=Path(folder), _env_file=None, **overrides)  # type: ignore[call-arg]
        database = Database(settings.database_url)
        await database.upgrade()
        clock = SystemClock()
        await enqueue_demo_batch(database, clock, platform="telegram", recipients=recipients)
        adapter = TelegramAdapter(token, _no_direct_replies, PayloadStore(database, clock), base_url=base_url)
        await adapter.start()
        runner = DeliveryRunner(database, settings, Outbox(clock), clock)
        started = time.perf_counter()
        await runner.start([adapter])
        await runner.drain()
        elapsed = time.perf_counter() - started
        await runner.stop()
        await adapter.stop()
        await database.dispose()
    ours.send("stop")
    calls, refused = ours.recv()
    server.join(10)
    return elapsed, calls, refused


class _CountingSender:
    platform = "bench"

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, chat_id: str, reply: Reply) -> str:
        self.sent += 1
        return str(self.sent)


def _fifty_thousand(channel: Connection) -> None:
    """Child process: enqueue and drain 50,000, report peak RSS in MB."""

    async def run() -> None:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(bot_data_dir=Path(folder), _env_file=None)  # type: ignore[call-arg]
            database = Database(settings.database_url)
            await database.upgrade()
            clock = SystemClock()
            await enqueue_demo_batch(database, clock, platform="bench", recipients=50_000)
            sender = _CountingSender()
            runner = DeliveryRunner(database, settings, Outbox(clock), clock)
            await runner.start([sender])
            await runner.drain()
            await runner.stop()
            await database.dispose()
            assert sender.sent == 50_000, sender.sent

    asyncio.run(run())
    channel.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _peak_rss_50k() -> float:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_fifty_thousand, args=(theirs,))
    child.start()
    peak: float = ours.recv()
    child.join(30)
    return peak


async def run_fanout_bench() -> dict[str, float]:
    allowed = 30.0
    elapsed, calls, refused = await _drain_to_emulator(allowed, 1000)
    ceiling_elapsed, _, _ = await _drain_to_emulator(
        PAID_RATE, 5000, delivery_rate_share=1.0, delivery_workers=CEILING_WORKERS
    )
    peak = await asyncio.get_running_loop().run_in_executor(None, _peak_rss_50k)
    return {
        "fanout_rate_ratio": round(1000 / elapsed / allowed, 3),
        "fanout_429_fraction": round(refused / max(calls, 1), 4),
        "deliverer_ceiling_msgs_per_s": round(5000 / ceiling_elapsed, 1),
        "fanout_50k_peak_rss_mb": round(peak, 1),
    }
