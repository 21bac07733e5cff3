"""Wiring for the composition root: one deliverer per running adapter, started and stopped with the bot.

`run_bot.py` hands in whatever adapter objects it has (console, Telegram, Slack), keyed by their
`platform`; it wraps the dispatcher with `count_direct_replies` so direct replies use the platform's
budget before broadcasts do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TextIO

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.batches import BatchProgress, ProgressCallback, ProgressListeners
from bot.delivery.deliverer import Deliverer, DeliveryPolicy, Sender
from bot.delivery.limits import Pace, RecipientSpacing, SystemTimer, Timer, pace_for, rates_for
from bot.delivery.outbox import Outbox, open_count
from bot.messages import Incoming, Reply
from bot.storage.database import Database

log = logging.getLogger(__name__)

Handle = Callable[[Incoming], Awaitable[list[Reply]]]


class DeliveryRunner:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        outbox: Outbox,
        clock: Clock,
        *,
        timer: Timer | None = None,
        listeners: ProgressListeners | None = None,
    ) -> None:
        self.listeners = listeners or ProgressListeners()
        self.deliverers: dict[str, Deliverer] = {}
        self._database = database
        self._settings = settings
        self._outbox = outbox
        self._clock = clock
        self._timer = timer or SystemTimer()
        self._paces: dict[str, Pace] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def database(self) -> Database:
        return self._database

    def pace(self, platform: str) -> Pace:
        if platform not in self._paces:
            rates = rates_for(platform, self._settings)
            self._paces[platform] = pace_for(self._database, platform, rates, self._timer)
        return self._paces[platform]

    def deliverer_for(self, sender: Sender) -> Deliverer:
        rates = rates_for(sender.platform, self._settings)
        return Deliverer(
            self._database, sender, self._outbox,
            pace=self.pace(sender.platform),
            spacing=RecipientSpacing(rates, self._timer),
            clock=self._clock, timer=self._timer,
            policy=DeliveryPolicy.from_settings(self._settings, rates.overall_per_s),
            listeners=self.listeners,
        )  # fmt: skip

    async def start(self, senders: Iterable[Sender]) -> None:
        """Start one deliverer per platform (the first adapter of a platform wins)."""
        for sender in senders:
            if sender.platform in self.deliverers:
                continue
            deliverer = self.deliverer_for(sender)
            self.deliverers[sender.platform] = deliverer
            self._tasks.append(asyncio.create_task(deliverer.run(), name=f"deliverer-{sender.platform}"))
            log.debug("deliverer for %s started as %s", sender.platform, deliverer.owner)

    def count_direct_replies(self, handle: Handle) -> Handle:
        """`handle`, debiting each reply it returns from its platform's delivery budget."""

        async def counted(incoming: Incoming) -> list[Reply]:
            replies = await handle(incoming)
            if replies and incoming.platform in self.deliverers:
                self.pace(incoming.platform).debit(len(replies))
            return replies

        return counted

    async def drain(self, within: float | None = None) -> bool:
        """Wait until every running deliverer has nothing open left, including what progress listeners
        enqueue as the last messages finish (a delivery report's summary); False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if within is None else loop.time() + within
        while True:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            results = await asyncio.gather(*(d.drain(left) for d in self.deliverers.values()))
            if not all(results):
                return False
            await self.listeners.settle()
            async with self._database.session() as session:
                still_open = [p for p in self.deliverers if await open_count(session, p)]
            if not still_open:
                return True

    async def stop(self) -> None:
        for deliverer in self.deliverers.values():
            deliverer.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.listeners.settle()
        self._tasks.clear()
        self.deliverers.clear()


def print_progress(stream: TextIO) -> ProgressCallback:
    """A progress listener for the console: one line per update."""

    async def show(progress: BatchProgress) -> None:
        stream.write(f"[delivery] {progress.summary()}{' (done)' if progress.done else ''}\n")
        stream.flush()

    return show
