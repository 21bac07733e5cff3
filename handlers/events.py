"""Events for focal points: `/events` (paged, with their answer), RSVP buttons, `/timezone`, `/reminders`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import event_messages as messages
from bot.domain import event_rsvps, events
from bot.domain.people import Permission
from bot.domain.times import NO_SUCH_ZONE, Moment, find_zone, person_zone
from bot.i18n import N_
from bot.markup import plain_to_html
from bot.messages import Button, Markup, Reply
from bot.routing import Router
from bot.storage.events import Event, RsvpAnswer
from bot.storage.people import City

router = Router("events")
PAGE = 3
ANSWERS = {
    RsvpAnswer.GOING.value: messages.GOING,
    RsvpAnswer.MAYBE.value: messages.MAYBE,
    RsvpAnswer.NOT_GOING.value: messages.NOT_GOING,
}
PREFERENCES = {
    "all": N_("Remind me of every event"),
    "going": N_("Only events I am going to"),
    "none": N_("No reminders"),
}


@dataclass(frozen=True)
class EventsButton(CallbackData, prefix="events"):
    action: str  # page | open
    value: int


@dataclass(frozen=True)
class ZoneButton(CallbackData, prefix="zone"):
    zone: str


@dataclass(frozen=True)
class RemindersButton(CallbackData, prefix="reminders"):
    choice: str  # all | going | none


async def _zone(ctx: Context) -> str:
    city = await ctx.session.get(City, ctx.person.city_id) if ctx.person.city_id else None
    return person_zone(ctx.person, city)


async def _page(ctx: Context, page: int) -> Reply:
    found = await events.upcoming_for(ctx.session, ctx.person, ctx.clock.now())
    if not found:
        return Reply(
            ctx._("You have no upcoming events. Invitations from the Management Unit will come to you here.")
        )
    zone = await _zone(ctx)
    pages = (len(found) + PAGE - 1) // PAGE
    page = max(0, min(page, pages - 1))
    lines = [ctx._("Your upcoming events (page {page} of {pages}):", page=page + 1, pages=pages), ""]
    buttons: list[Button] = []
    for event, answer in found[page * PAGE : (page + 1) * PAGE]:
        title, _ = messages.text_of(event, ctx.language)
        when = Moment(event.starts_at, event.time_zone, zone).words(ctx.t)
        mine = ctx._(ANSWERS[answer]) if answer else ctx._("no answer yet")
        yours = ctx._("your answer: {answer}", answer=mine)
        lines.append(f"• {title}: {when} ({yours})")
        buttons.append(Button(title[:40], EventsButton("open", event.id).pack()))
    if page > 0:
        buttons.append(Button(ctx._("Previous"), EventsButton("page", page - 1).pack()))
    if page + 1 < pages:
        buttons.append(Button(ctx._("Next"), EventsButton("page", page + 1).pack()))
    return Reply("\n".join(lines), buttons=tuple(buttons))


@router.command("events", description=N_("Your upcoming events"), needs=Permission.EVENTS)
async def show_events(ctx: Context) -> Reply:
    return await _page(ctx, 0)


async def _invitation(ctx: Context, event: Event) -> Reply:
    from sqlalchemy import select

    from bot.storage.events import EventInvitee

    answer = await ctx.session.scalar(
        select(EventInvitee.rsvp).where(
            EventInvitee.event_id == event.id, EventInvitee.person_id == ctx.person.id
        )
    )
    return messages.invitation(event, ctx.t, await _zone(ctx), ctx.clock.now(), answer)


@router.button(EventsButton, needs=Permission.EVENTS)
async def events_button(ctx: Context, pressed: EventsButton) -> Reply:
    if pressed.action == "page":
        return await _page(ctx, pressed.value)
    event = await ctx.session.get(Event, pressed.value)
    mine = {e.id for e, _ in await events.upcoming_for(ctx.session, ctx.person, ctx.clock.now())}
    if event is None or event.id not in mine:
        return Reply(ctx._(event_rsvps.EVENT_GONE))
    return await _invitation(ctx, event)


@router.button(messages.RsvpButton, needs=Permission.EVENTS)
async def rsvp_button(ctx: Context, pressed: messages.RsvpButton) -> Reply:
    try:
        answer = RsvpAnswer(pressed.answer)
    except ValueError:
        return Reply(ctx._(event_rsvps.EVENT_GONE))
    event = await event_rsvps.rsvp(
        ctx.session, ctx.services.outbox, ctx.catalogs, ctx.person, pressed.event, answer, ctx.clock.now()
    )
    title, _ = messages.text_of(event, ctx.language)
    text = ctx._(
        "Your answer for {title}: {answer}. You can change it until the event starts.",
        title=title,
        answer=ctx._(ANSWERS[answer.value]),
    )
    return Reply(
        plain_to_html(text),
        buttons=messages.rsvp_buttons(event, ctx.t, answer.value),
        markup=Markup.HTML,
        edit=True,
        notice=text[:200],
    )


@router.command("timezone", description=N_("See or set your time zone: /timezone Africa/Nairobi"))
async def timezone(ctx: Context) -> Reply:
    wanted = ctx.args_plain
    if wanted:
        found = find_zone(wanted)
        if found is None:
            return Reply(ctx._(NO_SUCH_ZONE))
        return _set_zone(ctx, found)
    city = await ctx.session.get(City, ctx.person.city_id) if ctx.person.city_id else None
    current = person_zone(ctx.person, city)
    if ctx.person.time_zone:
        why = ctx._("you chose it")
    elif city is not None:
        why = ctx._("your city's")
    else:
        why = ctx._("no zone set yet")
    lines = [
        ctx._("Your time zone is {zone} ({why}).", zone=current, why=why),
        ctx._("To change it, send /timezone with the zone's name, such as /timezone Africa/Nairobi."),
    ]
    buttons = []
    if city is not None and city.time_zone and city.time_zone != ctx.person.time_zone:
        buttons.append(
            Button(
                ctx._("Use my city's: {zone}", zone=city.time_zone)[:60], ZoneButton(city.time_zone).pack()
            )
        )
    return Reply("\n".join(lines), buttons=tuple(buttons))


def _set_zone(ctx: Context, zone: str) -> Reply:
    ctx.person.time_zone = zone
    ctx.audit("time_zone_set", zone=zone)
    now = ctx.t.time(ctx.clock.now(), "short", tz=zone)
    return Reply(ctx._("Your time zone is now {zone}: it is {time} there.", zone=zone, time=now))


@router.button(ZoneButton)
async def zone_button(ctx: Context, pressed: ZoneButton) -> Reply:
    found = find_zone(pressed.zone)
    if found is None:
        return Reply(ctx._(NO_SUCH_ZONE))
    return _set_zone(ctx, found)


@router.command("reminders", description=N_("Choose which event reminders you get"), needs=Permission.EVENTS)
async def reminders(ctx: Context) -> Reply:
    current = ctx._(PREFERENCES.get(ctx.person.reminders, PREFERENCES["all"]))
    buttons = tuple(
        Button(
            ("✓ " if choice == ctx.person.reminders else "") + ctx._(label), RemindersButton(choice).pack()
        )
        for choice, label in PREFERENCES.items()
    )
    return Reply(ctx._("Event reminders: {current}. Choose:", current=current), buttons=buttons)


@router.button(RemindersButton, needs=Permission.EVENTS)
async def reminders_button(ctx: Context, pressed: RemindersButton) -> Reply:
    if pressed.choice not in PREFERENCES:
        return await reminders(ctx)
    ctx.person.reminders = pressed.choice
    ctx.audit("reminders_set", choice=pressed.choice)
    text = ctx._("Saved: {choice}.", choice=ctx._(PREFERENCES[pressed.choice]))
    return Reply(text, edit=True, notice=text)
