"""Event reminders: which are due (a missed one within its grace included), and sending one round.

A round goes to each invitee their preference (`Person.reminders`: all, going, none) and answer allow
(never to someone not going), with the key (event, version, offset, recipient): a second run, on this
instance or another, sends nothing more; a round for an older version of the event sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import Outbox
from bot.domain import event_messages as messages
from bot.domain.events import invitees, send_each
from bot.i18n import Catalogs
from bot.storage.delivery import Priority
from bot.storage.events import Event, EventStatus, RsvpAnswer


@dataclass(frozen=True, slots=True)
class ReminderDue:
    event_id: int
    version: int
    minutes: int
    at: datetime


def grace(minutes: int, fraction: float, cap: timedelta) -> timedelta:
    """How late a reminder may still go: a share of its offset, at most `cap`."""
    return min(timedelta(minutes=minutes) * fraction, cap)


async def reminders_due(
    session: AsyncSession,
    now: datetime,
    fraction: float,
    cap: timedelta,
    skipped: list[ReminderDue] | None = None,
) -> list[ReminderDue]:
    """Every reminder of a published event still to send (a missed one within its grace included);
    those missed by more are added to `skipped`."""
    rows = (
        await session.execute(
            select(Event.id, Event.version, Event.starts_at, Event.reminder_minutes).where(
                Event.status == EventStatus.PUBLISHED.value, Event.starts_at > now
            )
        )
    ).all()
    due: list[ReminderDue] = []
    for event_id, version, starts_at, offsets in rows:
        for minutes in offsets or ():
            at = starts_at - timedelta(minutes=minutes)
            if at < now - grace(minutes, fraction, cap):
                if skipped is not None:
                    skipped.append(ReminderDue(event_id, version, minutes, at))
                continue
            due.append(ReminderDue(event_id, version, minutes, at))
    return due


async def send_reminders(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    event_id: int,
    version: int,
    minutes: int,
    now: datetime,
) -> int:
    """One reminder to each invitee that their preference and answer allow; idempotent by key."""
    event = await session.get(Event, event_id)
    if event is None or event.status != EventStatus.PUBLISHED.value or event.version != version:
        return 0  # cancelled, or edited since the timer was set: the new timers do it
    if event.starts_at <= now or minutes not in (event.reminder_minutes or []):
        return 0
    people = [
        person
        for person in await invitees(session, event.id, catalogs.default_language)
        if person.reminders != "none"
        and person.rsvp != RsvpAnswer.NOT_GOING.value
        and (person.reminders != "going" or person.rsvp == RsvpAnswer.GOING.value)
    ]
    return await send_each(
        session,
        outbox,
        catalogs,
        people,
        f"event:{event.id}:v{version}:reminder:{minutes}",
        lambda t, zone: messages.reminder(event, t, zone, now),
        priority=Priority.NORMAL,
    )
