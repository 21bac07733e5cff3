"""Rate limits: paced slots, pauses, debits for direct replies, per-chat spacing, the shared ledger."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from bot.config import Settings
from bot.delivery.limits import LocalPace, RecipientSpacing, SharedPace, SystemTimer, pace_for, rates_for
from bot.storage.database import Database
from tests.conftest import _drop_schema, _postgres_database


class FakeTimer:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def acquire_times(pace: LocalPace, timer: FakeTimer, count: int) -> list[float]:
    times = []
    for _ in range(count):
        await pace.acquire()
        times.append(timer.now)
    return times


def test_telegram_rates_leave_headroom_and_space_groups(tmp_path: Path) -> None:
    settings = Settings(
        bot_data_dir=tmp_path, telegram_rate_per_s=1000, delivery_rate_share=0.9, _env_file=None
    )  # type: ignore[call-arg]
    rates = rates_for("telegram", settings)
    assert rates.overall_per_s == pytest.approx(900)
    assert rates.interval_for("12345") == 1.0
    assert rates.interval_for("-100987") >= 3.0  # 20 per minute in a group
    assert rates_for("console", settings).overall_per_s is None


async def test_slots_are_evenly_spaced_without_burst() -> None:
    timer = FakeTimer()
    times = await acquire_times(LocalPace(30, timer), timer, 31)
    assert times[0] == 0 and times[30] == pytest.approx(1.0)
    assert all(b - a == pytest.approx(1 / 30) for a, b in itertools.pairwise(times))


async def test_a_pause_holds_every_sender() -> None:
    timer = FakeTimer()
    pace = LocalPace(10, timer)
    await pace.acquire()
    await pace.pause(5)
    await pace.acquire()
    assert timer.now >= 5


async def test_direct_replies_are_paid_by_the_broadcast() -> None:
    timer = FakeTimer()
    pace = LocalPace(10, timer)
    await pace.acquire()
    pace.debit(3)
    await pace.acquire()
    assert timer.now == pytest.approx(0.4)  # its own slot at 0.1, then three replies' slots


async def test_one_chat_is_spaced_other_chats_are_not() -> None:
    timer = FakeTimer()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    spacing = RecipientSpacing(rates_for("telegram", settings), timer)
    assert [spacing.reserve("7"), spacing.reserve("7"), spacing.reserve("8")] == [0.0, 1.0, 0.0]
    assert spacing.reserve("-100") == 0.0 and spacing.reserve("-100") >= 3.0


@pytest.fixture
async def postgres() -> Database:  # type: ignore[misc]
    database, schema = await _postgres_database()
    yield database
    await _drop_schema(database, schema)


async def test_shared_ledger_keeps_two_instances_within_one_rate(postgres: Database) -> None:
    rate = 100.0
    settings = Settings(telegram_rate_per_s=rate, delivery_rate_share=1.0, _env_file=None)  # type: ignore[call-arg]
    rates = rates_for("telegram", settings)
    first, second = (pace_for(postgres, "telegram", rates, SystemTimer()) for _ in range(2))
    assert isinstance(first, SharedPace) and isinstance(second, SharedPace)
    stamps: list[float] = []

    async def send(pace: SharedPace, count: int) -> None:
        for _ in range(count):
            await pace.acquire()
            stamps.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(send(first, 60), send(second, 60))
    elapsed = time.monotonic() - started
    assert elapsed >= 119 / rate * 0.95  # together, not each, at 100 per second
    stamps.sort()
    window = 0.5
    busiest = max(sum(1 for s in stamps if t <= s < t + window) for t in stamps)
    assert busiest <= rate * window + 3


async def test_a_pause_seen_by_one_instance_holds_the_other(postgres: Database) -> None:
    settings = Settings(telegram_rate_per_s=50, _env_file=None)  # type: ignore[call-arg]
    rates = rates_for("telegram", settings)
    first, second = (pace_for(postgres, "telegram", rates, SystemTimer()) for _ in range(2))
    await first.acquire()
    await first.pause(0.5)
    started = time.monotonic()
    await second.acquire()
    assert time.monotonic() - started >= 0.4
