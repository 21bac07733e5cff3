"""Per-person flood limit: a token bucket kept in memory (a burst, then a steady rate)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class FloodVerdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # first message over the limit: tell the person once
    DROP = "drop"  # still over the limit: say nothing more


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class FloodLimiter:
    """`burst` messages at once, refilled at `per_minute`; idle buckets are forgotten to bound memory."""

    def __init__(
        self,
        burst: int,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 100_000,
    ) -> None:
        self.burst = float(burst)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[object, _Bucket] = {}
        self._max_tracked = max_tracked

    def check(self, key: object) -> FloodVerdict:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_tracked:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return FloodVerdict.ALLOW
        if bucket.warned:
            return FloodVerdict.DROP
        bucket.warned = True
        return FloodVerdict.WARN

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled completely: they hold no information."""
        refill_time = self.burst / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < refill_time}
