"""Messages per second and latency through the dispatcher with a real (SQLite file) database.

200 people send a mix of /start, /help, free text and button presses, one message at a time and then
concurrently (as several Telegram updates are handled at once); the figures are for the concurrent run.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.config import Settings
from bot.messages import Incoming
from run_bot import build_app

PEOPLE = 200
MESSAGES = 3000
CONCURRENCY = 8


def _message(index: int) -> Incoming:
    person = f"person{index % PEOPLE}"
    kind = index % 4
    extra: dict[str, object] = {"display_name": person, "language_hint": ("en", "ar", "fr", "es")[index % 4]}
    if kind == 0:
        return Incoming.from_text("console", person, person, "/start", **extra)  # type: ignore[arg-type]
    if kind == 1:
        return Incoming.from_text("console", person, person, "/help", **extra)  # type: ignore[arg-type]
    if kind == 2:
        return Incoming.from_text("console", person, person, "is membership free?", **extra)  # type: ignore[arg-type]
    return Incoming("console", person, person, button="menu:ask", **extra)  # type: ignore[arg-type]


async def run_dispatch_bench() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(bot_data_dir=Path(folder), _env_file=None)  # type: ignore[call-arg]
        app = build_app(settings, flood_limit=False)
        await app.start()
        for index in range(PEOPLE):  # first contact creates the people; not part of the figure
            await app.handle(_message(index))
        latencies: list[float] = []
        queue: asyncio.Queue[Incoming] = asyncio.Queue()
        for index in range(MESSAGES):
            queue.put_nowait(_message(index))

        async def worker() -> None:
            while not queue.empty():
                incoming = queue.get_nowait()
                started = time.perf_counter()
                await app.handle(incoming)
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
        await app.close()
    latencies.sort()
    return {
        "dispatch_msgs_per_s": round(MESSAGES / elapsed, 1),
        "dispatch_p50_ms": round(statistics.median(latencies), 3),
        "dispatch_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3),
    }
