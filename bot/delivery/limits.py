"""The platforms' rate limits, as the deliverer keeps them: a paced overall rate and per-chat spacing.

Overall rate: send slots spaced `1/rate` apart (no bursts: Telegram counts any 1-second window). On one
process (SQLite) the slots are handed out in memory (`LocalPace`); on PostgreSQL the instances reserve
slots from one ledger row (`SharedPace`, table `delivery_rate`), so together they stay within the
platform's limit, and a 429 seen by one pauses all of them.

Direct replies are sent by the adapters at once, never queued. They still use the platform's budget,
so the deliverer (a) uses only `delivery_rate_share` of the overall rate, and (b) is debited for every
direct reply this process sends (`debit`), so a busy conversation slows the broadcast, not the reverse.

Per chat (Telegram 1/s in a private chat, 20/min in a group; Slack 1/s per channel) the spacing is kept
in memory by recipient. Across instances it is not shared (see the delivery note in README.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text

from bot.config import Settings
from bot.storage.database import Database

log = logging.getLogger(__name__)
WINDOW_MARGIN = 0.005  # seconds: a send is granted this long after the one a full window before it
GROUP_MARGIN = 1.02  # "20 per minute" is a sliding window: space group sends a little wider
LEDGER_CHUNK_SECONDS = 0.1  # each reservation takes this much of the platform's time
MAX_DEBT_SECONDS = 2.0  # direct replies can hold the broadcast back by at most this much at once


class Timer(Protocol):
    """Monotonic time and sleeping, injectable so tests run paced code without waiting."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemTimer:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class PlatformRates:
    """`overall_per_s` None means no overall limit; intervals are the least time between two sends."""

    overall_per_s: float | None
    chat_interval: float = 0.0
    group_interval: float = 0.0
    window_per_s: float | None = None  # the platform's own limit: never more grants in any 1 s

    def interval_for(self, recipient: str) -> float:
        """Telegram group and channel chat ids are negative; the group spacing applies to them."""
        return self.group_interval if recipient.startswith("-") else self.chat_interval


def rates_for(platform: str, settings: Settings) -> PlatformRates:
    share = settings.delivery_rate_share
    if platform == "telegram":
        return PlatformRates(
            overall_per_s=settings.telegram_rate_per_s * share,
            window_per_s=settings.telegram_rate_per_s,
            chat_interval=1.0,
            group_interval=60.0 / 20 * GROUP_MARGIN,
        )
    if platform == "slack":
        return PlatformRates(overall_per_s=None, chat_interval=1.0, group_interval=1.0)
    return PlatformRates(overall_per_s=None)


class RecipientSpacing:
    """Per-chat spacing in this process: how long a send to `recipient` must wait, reserving its turn."""

    def __init__(self, rates: PlatformRates, timer: Timer) -> None:
        self._rates = rates
        self._timer = timer
        self._next: dict[str, float] = {}

    def reserve(self, recipient: str) -> float:
        interval = self._rates.interval_for(recipient)
        if interval <= 0:
            return 0.0
        now = self._timer.monotonic()
        if len(self._next) > 10_000:
            self._next = {chat: at for chat, at in self._next.items() if at > now}
        turn = max(now, self._next.get(recipient, now))
        self._next[recipient] = turn + interval
        return turn - now


class Pace(Protocol):
    """The overall rate of one platform."""

    async def acquire(self) -> None:
        """Return when one message may be sent now."""
        ...

    async def pause(self, seconds: float) -> None:
        """The platform answered 429: nobody sends for `seconds`."""
        ...

    def debit(self, count: int) -> None:
        """`count` direct replies were just sent: take their slots from the deliverer."""
        ...


class LocalPace:
    """Slots handed out in memory: exact for one process.

    Slots are reserved before the wait, so a worker that wakes late would let the next ones bunch up
    behind it; the window of actual grants (at most `window_per_s` in any second) catches that.
    """

    def __init__(self, per_second: float | None, timer: Timer, window_per_s: float | None = None) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._timer = timer
        self._next = 0.0
        self._paused_until = 0.0
        window = int(window_per_s or 0)
        self._grants: deque[float] | None = deque(maxlen=window) if window else None

    async def acquire(self) -> None:
        while True:
            now = self._timer.monotonic()
            slot = max(now, self._next, self._paused_until)
            self._next = slot + self._interval
            if slot > now:
                await self._timer.sleep(slot - now)
            grants = self._grants
            if grants is not None and len(grants) == grants.maxlen:
                free = grants[0] + 1.0 + WINDOW_MARGIN - self._timer.monotonic()
                if free > 0:
                    await self._timer.sleep(free)
            now = self._timer.monotonic()
            if now >= self._paused_until:
                if grants is not None:
                    grants.append(now)
                return

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._timer.monotonic() + seconds)

    def debit(self, count: int) -> None:
        if self._interval:
            now = self._timer.monotonic()
            self._next = min(max(self._next, now) + count * self._interval, now + MAX_DEBT_SECONDS)


class SharedPace:
    """Slots reserved from the `delivery_rate` row on PostgreSQL, a chunk at a time.

    One `UPDATE ... RETURNING` takes the next ~0.1 s of the platform's slots (after any pause) and
    moves the ledger past them; the row lock serializes instances, and times are the database's clock,
    converted to this process's monotonic clock, so skew between machines does not matter.
    """

    def __init__(self, database: Database, platform: str, per_second: float, timer: Timer) -> None:
        self._database = database
        self._platform = platform
        self._interval = 1.0 / per_second
        self._chunk = max(1, round(per_second * LEDGER_CHUNK_SECONDS))
        self._timer = timer
        self._slots: deque[float] = deque()
        self._debt = 0
        self._paused_until = 0.0
        self._reserving: asyncio.Future[None] | None = None
        self._ready = False

    async def acquire(self) -> None:
        """The next slot. One reservation at a time is in flight and every worker short of slots waits
        for that one (no lock is held across the database call); when it fails, all of them see why."""
        while True:
            if not self._slots:
                if self._reserving is None or self._reserving.done():
                    self._reserving = asyncio.ensure_future(self._reserve())
                await asyncio.shield(self._reserving)
                continue
            slot = self._slots.popleft()
            now = self._timer.monotonic()
            if slot > now:
                await self._timer.sleep(slot - now)
            if self._timer.monotonic() >= self._paused_until:
                return

    async def pause(self, seconds: float) -> None:
        """Pause here at once, and every instance through the ledger (when the database answers: a pause
        that cannot be shared still holds for this process)."""
        self._paused_until = max(self._paused_until, self._timer.monotonic() + seconds)
        self._slots.clear()
        try:
            async with self._database.engine.begin() as connection:
                await connection.execute(
                    text(
                        "UPDATE delivery_rate SET paused_until = GREATEST(paused_until, "
                        "EXTRACT(EPOCH FROM clock_timestamp()) + :seconds) WHERE platform = :platform"
                    ),
                    {"seconds": seconds, "platform": self._platform},
                )
        except Exception as error:
            log.warning("%s: the pause could not be shared with other instances (%s)", self._platform,
                        type(error).__name__)  # fmt: skip

    def debit(self, count: int) -> None:
        self._debt = min(self._debt + count, round(MAX_DEBT_SECONDS / self._interval))

    async def _reserve(self) -> None:
        debt, self._debt = self._debt, 0
        cost = (self._chunk + debt) * self._interval
        async with self._database.engine.begin() as connection:
            if not self._ready:
                await connection.execute(
                    text(
                        "INSERT INTO delivery_rate (platform, next_slot, paused_until) "
                        "VALUES (:platform, 0, 0) ON CONFLICT (platform) DO NOTHING"
                    ),
                    {"platform": self._platform},
                )
                self._ready = True
            row = (
                await connection.execute(
                    text(
                        "UPDATE delivery_rate SET next_slot = GREATEST(next_slot, paused_until, "
                        "EXTRACT(EPOCH FROM clock_timestamp())) + :cost WHERE platform = :platform "
                        "RETURNING next_slot - :cost, EXTRACT(EPOCH FROM clock_timestamp())"
                    ),
                    {"cost": cost, "platform": self._platform},
                )
            ).one()
        start, database_now = float(row[0]), float(row[1])
        local_start = self._timer.monotonic() + (start - database_now)
        first = local_start + debt * self._interval
        self._slots.extend(first + index * self._interval for index in range(self._chunk))


def pace_for(database: Database, platform: str, rates: PlatformRates, timer: Timer) -> Pace:
    """Shared through the database on PostgreSQL when the platform has an overall limit."""
    if rates.overall_per_s and not database.is_sqlite:
        return SharedPace(database, platform, rates.overall_per_s, timer)
    return LocalPace(rates.overall_per_s, timer, rates.window_per_s)
