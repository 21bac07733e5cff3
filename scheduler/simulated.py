"""The scripted console's simulated clock: time moves only on `{"clock": ...}` lines.

After every input line, and at every instant the clock passes on its way to a new time, what is due
runs before the next line is read: the scheduler's jobs and timers, then every delivery due, with the
clock set to that instant (so each output's `"at"` is when it was sent). Waits inside delivery (a
rate limit, a retry's backoff, a report waiting for its thread) advance the simulated time as real
time would pass, so a script never hangs and nothing is sent early.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.clock import FakeClock
from bot.delivery.deliverer import Deliverer, Sender
from bot.delivery.outbox import next_due
from bot.delivery.runner import DeliveryRunner
from scheduler.runner import VirtualScheduler

MAX_ROUNDS = 10_000


class SimulatedTime:
    def __init__(
        self,
        clock: FakeClock,
        scheduler: VirtualScheduler,
        deliveries: DeliveryRunner,
        senders: Sequence[Sender],
    ) -> None:
        self.clock = clock
        self.scheduler = scheduler
        self.deliveries = deliveries
        self._deliverers: list[Deliverer] = [deliveries.deliverer_for(sender) for sender in senders]
        self._target = clock.now()

    async def move_to(self, moment: datetime) -> str | None:
        """Advance to `moment`, running everything due on the way; an error message to go back."""
        if moment < self._target:
            return f"the clock cannot go back (it is at {self._target.isoformat()})"
        self._target = moment
        await self.scheduler.advance_to(moment, between=self._deliver)
        await self.settle()
        return None

    async def settle(self) -> None:
        """Run what is due now, then deliver it all, following waits forward in simulated time."""
        await self.scheduler.settle()
        await self._deliver()
        for _ in range(MAX_ROUNDS):
            wait = await self._next_wait()
            if wait is None or wait <= self.clock.now():
                return  # nothing waits, or what is due cannot be sent from here
            await self.scheduler.advance_to(wait, between=self._deliver)

    async def _deliver(self) -> None:
        for _ in range(MAX_ROUNDS):
            handled = 0
            for deliverer in self._deliverers:
                handled += await deliverer.run_once()
            await self.deliveries.listeners.settle()  # reports the deliveries enqueued
            handled += await self.scheduler.settle()
            if handled == 0:
                return

    async def _next_wait(self) -> datetime | None:
        found: list[datetime] = []
        async with self.deliveries.database.session() as session:
            for deliverer in self._deliverers:
                due = await next_due(session, deliverer.platform)
                if due is not None:
                    found.append(due)
        return min(found, default=None)
