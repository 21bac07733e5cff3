"""Events: staff create, publish, edit and cancel them; focal points are invited, answer, are reminded.

Publishing moves a draft to published once and fixes who is invited (the audience then); the
invitations go out as one batch built by the scheduler's job, reported to staff like an announcement,
under the event's post where staff work (with a line of RSVPs kept up to date under it). Reminders are
timers the scheduler rebuilds from this table; each enqueues one message per invitee that their
preference (`Person.reminders`) and answer allow, with the key (event, version, offset, recipient), so
running it twice, or on two instances, sends once. Editing bumps the version (the .ics SEQUENCE):
reminders of the old version waiting in the outbox are dropped, the timers move, invitees are told
what changed. Cancelling drops what waits and tells invitees.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.batches import BatchProgress
from bot.delivery.outbox import Outbox, OutboxMessage
from bot.domain import audience as audiences
from bot.domain import event_messages as messages
from bot.domain import privacy, reports
from bot.domain.audience import Audience
from bot.domain.event_rsvps import post_key, post_rsvps
from bot.domain.people import Permission, name_of, require
from bot.domain.staff import Destination
from bot.domain.times import Moment, to_instant
from bot.i18n import N_, Catalogs, Translator
from bot.markup import plain_to_html
from bot.messages import Markup, Reply
from bot.storage.delivery import DeliveryBatch, Priority
from bot.storage.events import Event, EventInvitee, EventStatus
from bot.storage.people import City, Person, PlatformIdentity

POSTED = N_("Event #{id} published by {staff} for {audience} ({count} people): {title}, {when}")
QUEUE_GRACE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class EventData:
    title: str
    description: str
    local_start: str
    time_zone: str
    duration_minutes: int
    location: str
    audience: Audience
    reminder_minutes: list[int]
    versions: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Invitee:
    person_id: int
    platform: str
    chat_id: str
    language: str
    zone: str
    rsvp: str | None
    reminders: str


def audience_of(event: Event) -> Audience:
    return Audience(event.audience_kind, event.audience_value)


def apply_data(event: Event, data: EventData, starts_at: datetime) -> None:
    event.title, event.description, event.versions = data.title, data.description, data.versions
    event.local_start, event.time_zone, event.starts_at = data.local_start, data.time_zone, starts_at
    event.duration_minutes, event.location = data.duration_minutes, data.location
    event.audience_kind, event.audience_value = data.audience.kind, data.audience.value
    event.reminder_minutes = list(data.reminder_minutes)


async def save_draft(session: AsyncSession, staff: Person, data: EventData, now: datetime) -> Event:
    """A new event kept as a draft for its preview (its data already checked by the caller)."""
    require(staff, Permission.MANAGE_EVENTS)
    starts_at = to_instant(data.local_start, data.time_zone)
    event = Event(
        uid=f"{secrets.token_hex(8)}@strongcitiesnetwork.org",
        created_by_id=staff.id,
        created_at=now,
        updated_at=now,
        status=EventStatus.DRAFT.value,
        version=0,
    )
    apply_data(event, data, starts_at)
    session.add(event)
    await session.flush()
    return event


async def reach(session: AsyncSession, event: Event, default_language: str) -> audiences.Reach:
    return await audiences.reach(session, audience_of(event), default_language=default_language)


async def publish(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    staff: Person,
    event_id: int,
    now: datetime,
    report_to: Destination,
) -> Event | None:
    """Draft -> published, once; fixes the invitees and posts the event where staff work."""
    require(staff, Permission.MANAGE_EVENTS)
    moved = await session.execute(
        update(Event)
        .where(Event.id == event_id, Event.status == EventStatus.DRAFT.value)
        .values(
            status=EventStatus.PUBLISHED.value, published_at=now, updated_at=now, report_to=report_to.owner
        )
        .returning(Event.id)
        .execution_options(synchronize_session=False)
    )
    if moved.first() is None:
        return None
    event = await session.get(Event, event_id, populate_existing=True)
    assert event is not None
    found = await audiences.recipients(
        session, audience_of(event), default_language=catalogs.default_language
    )
    for recipient in found:
        session.add(EventInvitee(event_id=event.id, person_id=recipient.person_id, invited_at=now))
    t = catalogs.translator(report_to.language)
    words = await audiences.describe(session, audience_of(event), t)
    when = Moment(event.starts_at, event.time_zone, event.time_zone).words(t)
    head = t.gettext(
        POSTED,
        id=event.id,
        staff=name_of(staff),
        audience=words,
        count=len(found),
        title=event.title,
        when=when,
    )
    await outbox.enqueue(
        session,
        key=post_key(event.id),
        platform=report_to.platform,
        recipient=report_to.chat,
        reply=Reply(f"<b>{plain_to_html(head)}</b>", markup=Markup.HTML),
        priority=Priority.URGENT,
    )
    await session.flush()
    await post_rsvps(session, outbox, catalogs, event, now, first=True)
    return event


async def invitees(session: AsyncSession, event_id: int, default_language: str) -> list[Invitee]:
    """Every invitee still reachable, on one platform each, with what their messages need."""
    rows = await session.execute(
        select(
            EventInvitee.person_id,
            EventInvitee.rsvp,
            Person.language,
            Person.time_zone,
            Person.reminders,
            City.time_zone,
            PlatformIdentity.platform,
            PlatformIdentity.chat_id,
        )
        .join(Person, Person.id == EventInvitee.person_id)
        .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
        .outerjoin(City, City.id == Person.city_id)
        .where(EventInvitee.event_id == event_id, PlatformIdentity.unreachable_at.is_(None))
        .order_by(EventInvitee.person_id, PlatformIdentity.id)
    )
    chosen: dict[int, Invitee] = {}
    for person_id, rsvp, language, own_zone, reminders, city_zone, platform, chat in rows.all():
        if person_id in chosen and not (platform == "telegram" and chosen[person_id].platform != "telegram"):
            continue
        zone = own_zone or city_zone or "UTC"
        chosen[person_id] = Invitee(
            person_id, platform, chat, language or default_language, zone, rsvp, reminders or "all"
        )
    return list(chosen.values())


def _language(invitee: Invitee, catalogs: Catalogs) -> str:
    return invitee.language if invitee.language in catalogs else catalogs.default_language


Render = Callable[[Translator, str], Reply]  # (translator, reader's zone) -> the message


async def send_each(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    people: Sequence[Invitee],
    key: str,
    render: Render,
    *,
    batch: DeliveryBatch | None = None,
    priority: Priority = Priority.BULK,
) -> int:
    """One message per invitee, rendered once per (language, zone); returns how many were new."""
    cache: dict[tuple[str, str], Reply] = {}
    by_platform: dict[str, list[OutboxMessage]] = {}
    for person in people:
        language = _language(person, catalogs)
        shared = (language, person.zone)
        if shared not in cache:
            cache[shared] = render(catalogs.translator(language), person.zone)
        by_platform.setdefault(person.platform, []).append(
            OutboxMessage(f"{key}:{person.platform}:{person.chat_id}", person.chat_id, cache[shared])
        )
    added = 0
    for platform, rows in sorted(by_platform.items()):
        added += await outbox.enqueue_many(session, platform, rows, batch=batch, priority=priority)
    return added


async def take_published(session: AsyncSession, now: datetime, grace: timedelta = QUEUE_GRACE) -> list[int]:
    """Published events whose invitations are not queued yet (taken by a conditional update)."""
    candidates = (
        await session.scalars(
            select(Event.id).where(Event.status == EventStatus.PUBLISHED.value, Event.batch_id.is_(None))
        )
    ).all()
    taken = []
    for event_id in candidates:
        moved = await session.execute(
            update(Event)
            .where(
                Event.id == event_id,
                Event.batch_id.is_(None),
                (Event.queue_taken_at.is_(None)) | (Event.queue_taken_at < now - grace),
            )
            .values(queue_taken_at=now)
            .returning(Event.id)
            .execution_options(synchronize_session=False)
        )
        if moved.first() is not None:
            taken.append(event_id)
    return taken


async def queue_invitations(
    session: AsyncSession, outbox: Outbox, catalogs: Catalogs, event_id: int, now: datetime
) -> int | None:
    """The invitation batch of a published event, reported under its staff post; the batch id."""
    event = await session.get(Event, event_id, populate_existing=True)
    if event is None or event.status != EventStatus.PUBLISHED.value or event.batch_id is not None:
        return None
    batch = await outbox.create_batch(
        session,
        kind="invitation",
        owner=event.report_to or "",
        title=f"event {event.id}",
        key=f"event:{event.id}:invitations",
        thread_key=post_key(event.id),
    )
    people = await invitees(session, event.id, catalogs.default_language)
    await send_each(
        session,
        outbox,
        catalogs,
        people,
        f"event:{event.id}:invite",
        lambda t, zone: messages.invitation(event, t, zone, now),
        batch=batch,
    )
    event.batch_id = batch.id
    await session.flush()
    await session.refresh(batch)
    await reports.open_report(session, outbox, catalogs, BatchProgress.of(batch))
    return batch.id


# ---- what focal points and staff see ------------------------------------------------------------------
async def upcoming_for(
    session: AsyncSession, person: Person, now: datetime
) -> list[tuple[Event, str | None]]:
    """The events a person is invited to that have not ended, soonest first, with their answer."""
    rows = await session.execute(
        select(Event, EventInvitee.rsvp)
        .join(EventInvitee, EventInvitee.event_id == Event.id)
        .where(
            EventInvitee.person_id == person.id,
            Event.status == EventStatus.PUBLISHED.value,
            Event.starts_at > now - timedelta(hours=12),
        )
        .order_by(Event.starts_at, Event.id)
    )
    return [
        (event, answer)
        for event, answer in rows.all()
        if event.starts_at + timedelta(minutes=event.duration_minutes) > now
    ]


async def listing(session: AsyncSession, now: datetime, limit: int = 30) -> list[Event]:
    rows = await session.scalars(
        select(Event)
        .where(Event.starts_at > now - timedelta(days=7))
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    return list(rows.all())


async def upcoming_count(session: AsyncSession, now: datetime) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.status == EventStatus.PUBLISHED.value, Event.starts_at >= now)
    )
    return int(found or 0)


# ---- privacy -------------------------------------------------------------------------------------------
async def _export_invitations(session: AsyncSession, person: Person) -> list[dict[str, object]]:
    rows = await session.execute(
        select(Event.title, Event.starts_at, EventInvitee.rsvp)
        .join(EventInvitee, EventInvitee.event_id == Event.id)
        .where(EventInvitee.person_id == person.id)
        .order_by(Event.starts_at)
    )
    return [
        {"event": title, "starts_at": at.isoformat(), "answer": answer} for title, at, answer in rows.all()
    ]


async def _erase_invitations(session: AsyncSession, person: Person, erasure: privacy.Erasure) -> None:
    await session.execute(EventInvitee.__table__.delete().where(EventInvitee.person_id == person.id))  # type: ignore[attr-defined]


privacy.register(
    "event_invitations",
    covers=("event_invitee.person_id",),
    export=_export_invitations,
    erase=_erase_invitations,
)
privacy.register(
    "events_created",
    covers=("event.created_by_id",),
    erase=privacy.keeps_work("the event stays; who created it is forgotten"),
)
