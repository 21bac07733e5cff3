"""Changing a published event: a new version (the .ics SEQUENCE), reminders of the old one dropped
from the outbox (the scheduler's timers move with the signal the caller raises), invitees told what
changed with an updated .ics, newcomers to the audience invited; cancelling drops what waits and tells
invitees."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Refused
from bot.delivery.outbox import Outbox
from bot.domain import audience as audiences
from bot.domain import event_messages as messages
from bot.domain.event_rsvps import EVENT_CANCELLED
from bot.domain.events import EventData, apply_data, audience_of, invitees, send_each
from bot.domain.people import Permission, require
from bot.domain.times import to_instant
from bot.i18n import Catalogs
from bot.storage.delivery import Delivery, DeliveryStatus, Priority
from bot.storage.events import Event, EventInvitee, EventStatus
from bot.storage.people import Person


def what_changed(event: Event, data: EventData, starts_at: datetime) -> list[str]:
    changed = []
    if starts_at != event.starts_at or data.time_zone != event.time_zone:
        changed.append("time")
    if data.location != event.location:
        changed.append("place")
    if data.title != event.title or data.versions != (event.versions or {}):
        changed.append("title")
    if data.description != event.description:
        changed.append("description")
    if data.duration_minutes != event.duration_minutes:
        changed.append("duration")
    if list(data.reminder_minutes) != list(event.reminder_minutes):
        changed.append("reminders")
    return changed


async def _drop_waiting(session: AsyncSession, event_id: int, now: datetime, kinds: Sequence[str]) -> int:
    """Messages of the event still waiting in the outbox (reminders, invitations) that must not go now."""
    dropped = 0
    for kind in kinds:
        done = await session.execute(
            update(Delivery)
            .where(
                Delivery.key.like(f"event:{event_id}:%{kind}%"),
                Delivery.status == DeliveryStatus.PENDING.value,
            )
            .values(status=DeliveryStatus.SUPERSEDED.value, updated_at=now, last_error="the event changed")
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
        dropped += len(done.all())
    return dropped


async def edit(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    staff: Person,
    event: Event,
    data: EventData,
    now: datetime,
) -> list[str]:
    """Change an event; a published one gets a new version, invitees are told, reminders move."""
    require(staff, Permission.MANAGE_EVENTS)
    if event.status == EventStatus.CANCELLED.value:
        raise Refused(EVENT_CANCELLED, Permission.MANAGE_EVENTS.value)
    starts_at = to_instant(data.local_start, data.time_zone)
    changed = what_changed(event, data, starts_at)
    was = event.starts_at if "time" in changed else None
    apply_data(event, data, starts_at)
    event.updated_at = now
    if event.status != EventStatus.PUBLISHED.value or not changed:
        return changed
    event.version += 1
    await _drop_waiting(session, event.id, now, ("reminder",))
    await session.flush()
    await _invite_newcomers(session, outbox, catalogs, event, now)
    people = await invitees(session, event.id, catalogs.default_language)
    await send_each(
        session,
        outbox,
        catalogs,
        people,
        f"event:{event.id}:v{event.version}:change",
        lambda t, zone: messages.change(event, t, zone, now, changed, was),
        priority=Priority.NORMAL,
    )
    return changed


async def _invite_newcomers(
    session: AsyncSession, outbox: Outbox, catalogs: Catalogs, event: Event, now: datetime
) -> None:
    """The audience may have grown (edited, or new focal points): invite those not invited yet."""
    known = set(
        (await session.scalars(select(EventInvitee.person_id).where(EventInvitee.event_id == event.id))).all()
    )
    found = await audiences.recipients(
        session, audience_of(event), default_language=catalogs.default_language
    )
    new = [r for r in found if r.person_id not in known]
    for recipient in new:
        session.add(EventInvitee(event_id=event.id, person_id=recipient.person_id, invited_at=now))
    if not new:
        return
    await session.flush()
    everyone = await invitees(session, event.id, catalogs.default_language)
    fresh = [person for person in everyone if person.person_id in {r.person_id for r in new}]
    await send_each(
        session,
        outbox,
        catalogs,
        fresh,
        f"event:{event.id}:invite",
        lambda t, zone: messages.invitation(event, t, zone, now),
    )


async def cancel(
    session: AsyncSession, outbox: Outbox, catalogs: Catalogs, staff: Person, event: Event, now: datetime
) -> bool:
    require(staff, Permission.MANAGE_EVENTS)
    if event.status == EventStatus.CANCELLED.value:
        return False
    was_published = event.status == EventStatus.PUBLISHED.value
    event.status, event.cancelled_at, event.updated_at = EventStatus.CANCELLED.value, now, now
    event.version += 1
    await _drop_waiting(session, event.id, now, ("reminder", "invite", "change"))
    if was_published and event.starts_at > now:
        people = await invitees(session, event.id, catalogs.default_language)
        await send_each(
            session,
            outbox,
            catalogs,
            people,
            f"event:{event.id}:cancelled",
            lambda t, zone: messages.cancellation(event, t, zone, now),
            priority=Priority.NORMAL,
        )
    return True
