"""Timers for focal points meeting each other: the next matching round (announce it, then run it) and
the next introduction request to expire.

Both are read from the database: the rounds table says whether a round is announced and when the
last one ran, and the earliest open request says when to next close expired ones. Each timer, once
run, signals its source so the next one is read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.domain import introductions, matching
from bot.services import Services
from bot.signals import JOBS_INTRODUCTIONS, JOBS_MATCHING
from scheduler.runner import Timer

log = logging.getLogger(__name__)


class MatchingRounds:
    name: str = "matching"
    signal: str | None = JOBS_MATCHING

    async def timers(self, services: Services) -> list[Timer]:
        schedule = matching.Schedule.from_settings(services.settings)
        async with services.database.session() as session:
            plan = await matching.plan(session, schedule, services.clock.now())
        if plan is None:
            return []
        if plan.round_id is not None:
            return [Timer(f"{self.name}:run:{plan.round_id}", plan.run_at, _runner(plan.round_id))]
        assert plan.announce_at is not None
        return [
            Timer(
                f"{self.name}:announce:{plan.run_at.isoformat()}", plan.announce_at, _announcer(plan.run_at)
            )
        ]


def _announcer(run_at: datetime) -> Callable[[Services], Awaitable[int]]:
    async def announce(services: Services) -> int:
        async with services.database.session() as session:
            round_ = await matching.announce(
                session, services.outbox, services.catalogs, run_at, services.clock.now()
            )
        services.signals.notify(JOBS_MATCHING)
        if round_ is None:
            return 0
        log.info("matching round %s announced for %s", round_.id, run_at.isoformat())
        return 1

    return announce


def _runner(round_id: int) -> Callable[[Services], Awaitable[int]]:
    async def run(services: Services) -> int:
        async with services.database.session() as session:
            round_ = await matching.run(
                session,
                services.outbox,
                services.catalogs,
                services.taxonomy,
                matching.Schedule.from_settings(services.settings),
                services.clock.now(),
                round_id=round_id,
                staff_channels=services.staff_channels,
            )
        services.signals.notify(JOBS_MATCHING)
        if round_ is None:
            return 0
        log.info(
            "matching round %s: %s taking part, %s pairs, %s trios, %s unmatched",
            round_.id, round_.taking_part, round_.pairs, round_.trios, round_.unmatched,
        )  # fmt: skip
        return 1

    return run


class IntroductionExpiry:
    name: str = "introductions"
    signal: str | None = JOBS_INTRODUCTIONS

    async def timers(self, services: Services) -> list[Timer]:
        async with services.database.session() as session:
            due = await introductions.next_expiry(session)
        return [] if due is None else [Timer(f"{self.name}:expire", due, _expire)]


async def _expire(services: Services) -> int:
    async with services.database.session() as session:
        closed = await introductions.expire_due(
            session, services.outbox, services.catalogs, services.clock.now()
        )
    services.signals.notify(JOBS_INTRODUCTIONS)
    if closed:
        log.info("%d introduction requests expired", closed)
    return closed
