"""Answers to events: a focal point's RSVP (changeable until the event starts), the counts staff see,
and the line of RSVPs under the event's post where staff work, edited as answers arrive."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Refused
from bot.countries import country_name
from bot.delivery.outbox import Outbox
from bot.domain.people import Permission, require
from bot.domain.staff import parse_owner
from bot.i18n import N_, Catalogs, Translator
from bot.messages import Reply
from bot.storage.delivery import Priority
from bot.storage.events import Event, EventInvitee, EventStatus, RsvpAnswer
from bot.storage.people import City, Person

RSVPS = N_(
    "RSVPs for event #{id}: {going} going, {maybe} maybe, {not_going} not going, {silent} no answer yet"
)
GOING_BY_CITY = N_("Going, by city: {cities}")
NOT_INVITED = N_("You are not invited to that event. Send /events to see yours.")
EVENT_GONE = N_("That event no longer exists. Send /events to see the upcoming ones.")
EVENT_CANCELLED = N_("That event has been cancelled, so it takes no answers any more.")
EVENT_PAST = N_("That event has already started, so it takes no answers any more.")


@dataclass(frozen=True, slots=True)
class Counts:
    going: int
    maybe: int
    not_going: int
    silent: int
    going_by_city: dict[str, int]


def post_key(event_id: int) -> str:
    return f"event:{event_id}:post"


def rsvps_key(event_id: int) -> str:
    return f"event:{event_id}:rsvps"


async def rsvp(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    person: Person,
    event_id: int,
    answer: RsvpAnswer,
    now: datetime,
) -> Event:
    """Record (or change) a person's answer; `Refused` saying why when it cannot be taken."""
    require(person, Permission.EVENTS)
    event = await session.get(Event, event_id)
    if event is None or event.status == EventStatus.DRAFT.value:
        raise Refused(EVENT_GONE, Permission.EVENTS.value)
    if event.status == EventStatus.CANCELLED.value:
        raise Refused(EVENT_CANCELLED, Permission.EVENTS.value)
    if event.starts_at <= now:
        raise Refused(EVENT_PAST, Permission.EVENTS.value)
    invited = await session.scalar(
        select(EventInvitee).where(EventInvitee.event_id == event_id, EventInvitee.person_id == person.id)
    )
    if invited is None:
        raise Refused(NOT_INVITED, Permission.EVENTS.value)
    changed = invited.rsvp != answer.value
    invited.rsvp, invited.rsvp_at = answer.value, now
    if changed:
        await session.flush()
        await post_rsvps(session, outbox, catalogs, event, now)
    return event


async def counts(session: AsyncSession, event_id: int) -> Counts:
    rows = (
        await session.execute(
            select(EventInvitee.rsvp, City.name, City.country)
            .join(Person, Person.id == EventInvitee.person_id)
            .outerjoin(City, City.id == Person.city_id)
            .where(EventInvitee.event_id == event_id)
        )
    ).all()
    tally = {answer.value: 0 for answer in RsvpAnswer}
    silent = 0
    by_city: dict[str, int] = {}
    for answer, city, country in rows:
        if answer is None:
            silent += 1
            continue
        tally[answer] = tally.get(answer, 0) + 1
        if answer == RsvpAnswer.GOING.value:
            name = f"{city}|{country or ''}" if city else "-|"
            by_city[name] = by_city.get(name, 0) + 1
    return Counts(tally["going"], tally["maybe"], tally["not_going"], silent, dict(sorted(by_city.items())))


def _place(key: str, language: str) -> str:
    city, _, country = key.partition("|")
    return f"{city}, {country_name(country, language)}" if country else city


def counts_text(event: Event, found: Counts, t: Translator) -> str:
    line = t.gettext(
        RSVPS,
        id=event.id,
        going=found.going,
        maybe=found.maybe,
        not_going=found.not_going,
        silent=found.silent,
    )
    if found.going_by_city:
        cities = ", ".join(
            f"{_place(name, t.language)} ({count})" for name, count in found.going_by_city.items()
        )
        line += "\n" + t.gettext(GOING_BY_CITY, cities=cities)
    return line


async def post_rsvps(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    event: Event,
    now: datetime,
    *,
    first: bool = False,
) -> None:
    """The RSVP line under the event's staff post: posted once, then edited as answers arrive."""
    place = parse_owner(event.report_to or "")
    if place is None:
        return
    platform, chat = place
    text = counts_text(event, await counts(session, event.id), catalogs.translator(None))
    key = rsvps_key(event.id)
    await outbox.enqueue(
        session,
        key=key if first else f"{key}:{now.isoformat()}:{secrets.token_hex(3)}",
        platform=platform,
        recipient=chat,
        reply=Reply(text),
        priority=Priority.URGENT,
        thread_key=post_key(event.id),
        replace_key=None if first else key,
    )
