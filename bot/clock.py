"""Time, injectable so tests and benchmarks drive it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


class VirtualTimer:
    """The deliverer's `Timer` on a `FakeClock`: sleeping moves the clock instead of waiting, so a
    scripted run on a simulated clock never hangs on a rate limit and never sends early."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._origin = clock.now()

    def monotonic(self) -> float:
        return (self._clock.now() - self._origin).total_seconds()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._clock.advance(seconds=seconds)
