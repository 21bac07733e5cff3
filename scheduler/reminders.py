"""Event reminders as timers: one per (event, version, offset), rebuilt from the events table.

At start, and whenever an event is published, edited or cancelled (the `events` signal), the source is
asked for every reminder still to send. A reminder whose time passed while the bot was down is still
due if it is late by less than its grace (a quarter of its offset, at most `SCHEDULER_GRACE_MAX_HOURS`:
the wording tells the true time left, "starts in 35 minutes"); an older one is skipped and logged.
A timer only enqueues, with keys per recipient, so two instances running it send once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.domain import event_reminders
from bot.domain.times import offset_label
from bot.services import Services
from bot.signals import JOBS_EVENTS
from scheduler.runner import Timer

log = logging.getLogger(__name__)


class EventReminders:
    name: str = "events"
    signal: str | None = JOBS_EVENTS

    async def timers(self, services: Services) -> list[Timer]:
        settings = services.settings
        fraction, cap = settings.scheduler_grace_fraction, timedelta(hours=settings.scheduler_grace_max_hours)
        skipped: list[event_reminders.ReminderDue] = []
        async with services.database.session() as session:
            due = await event_reminders.reminders_due(session, services.clock.now(), fraction, cap, skipped)
        for missed in skipped:
            log.warning(
                "reminder %s of event %s (v%s) was due at %s: too late to send, skipped",
                offset_label(missed.minutes),
                missed.event_id,
                missed.version,
                missed.at.isoformat(),
            )
        return [
            Timer(f"{self.name}:{item.event_id}:v{item.version}:{item.minutes}", item.at, _sender(item))
            for item in due
        ]


def _sender(item: event_reminders.ReminderDue) -> Callable[[Services], Awaitable[int]]:
    async def send(services: Services) -> int:
        async with services.database.session() as session:
            sent = await event_reminders.send_reminders(
                session,
                services.outbox,
                services.catalogs,
                item.event_id,
                item.version,
                item.minutes,
                services.clock.now(),
            )
        if sent:
            log.info("reminder %s of event %s: %d queued", offset_label(item.minutes), item.event_id, sent)
        return sent

    return send
