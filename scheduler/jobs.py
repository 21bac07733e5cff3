"""The scheduler's jobs: each does its work in its own transactions, and is safe to run twice.

A job takes the services and returns how much it did (for logs and tests). Jobs never send anything
themselves: they enqueue deliveries with idempotency keys, so a job run by two instances at once, or
again after a crash, changes nothing the first run did not.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeAlias

from sqlalchemy import delete

from bot.domain import announcements, events, suggestions
from bot.services import Services
from bot.signals import JOBS_ANNOUNCEMENTS, JOBS_EVENTS, JOBS_KNOWLEDGE
from bot.storage.inbound import SeenEvent

log = logging.getLogger(__name__)

JobFunction: TypeAlias = Callable[[Services], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job: run every `every`, at start, and at once when `signal` is notified.

    `leader_only` jobs run on the timer only on the instance that leads (PostgreSQL); a signal runs
    the job where it was raised, since the work it finds is taken with conditional updates anyway.
    """

    name: str
    run: JobFunction
    every: timedelta
    signal: str | None = None
    leader_only: bool = True


async def queue_announcements(services: Services) -> int:
    """Build the delivery batch of every confirmed announcement not yet queued (just confirmed, or
    left half-done by a stop); returns how many were queued."""
    now = services.clock.now()
    async with services.database.session() as session:
        taken = await announcements.take_confirmed(session, now)
    queued = 0
    for announcement_id in taken:
        async with services.database.session() as session:
            batch = await announcements.queue(session, services.outbox, services.catalogs, announcement_id)
        if batch is not None:
            queued += 1
            log.info("announcement %s queued as batch %s", announcement_id, batch)
    return queued


async def queue_event_invitations(services: Services) -> int:
    """Build the invitation batch of every published event not yet sent out; how many were queued."""
    now = services.clock.now()
    async with services.database.session() as session:
        taken = await events.take_published(session, now)
    queued = 0
    for event_id in taken:
        async with services.database.session() as session:
            batch = await events.queue_invitations(session, services.outbox, services.catalogs, event_id, now)
        if batch is not None:
            queued += 1
            log.info("event %s invitations queued as batch %s", event_id, batch)
    return queued


async def refresh_knowledge(services: Services) -> int:
    """Index the example questions staff accepted (here or on another instance); 1 when it changed."""
    async with services.database.session() as session:
        changed = await suggestions.refresh(session, services)
    if changed:
        log.info("knowledge base: %d accepted example questions indexed", len(services.learned))
    return int(changed)


SEEN_FOR = timedelta(days=2)  # Telegram keeps an undelivered update for a day; a replay comes sooner


async def purge_seen_events(services: Services) -> int:
    """Forget the platform ids of events handled long enough ago that no replay can come."""
    async with services.database.session() as session:
        result = await session.execute(
            delete(SeenEvent).where(SeenEvent.seen_at < services.clock.now() - SEEN_FOR)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def default_jobs() -> list[Job]:
    return [
        Job("announcements", queue_announcements, timedelta(minutes=1), signal=JOBS_ANNOUNCEMENTS),
        Job("event_invitations", queue_event_invitations, timedelta(minutes=1), signal=JOBS_EVENTS),
        Job("knowledge", refresh_knowledge, suggestions.REFRESH, signal=JOBS_KNOWLEDGE, leader_only=False),
        Job("seen_events", purge_seen_events, timedelta(hours=1)),
    ]
