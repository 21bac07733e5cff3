"""Staff events: `/event new`, `/event edit <id>`, `/event cancel <id>`, `/event list`, `/event <id>`.

The form `event` takes the title and description (and versions per language), the local start
(`YYYY-MM-DD HH:MM`) in an IANA zone, the duration, the place or link, the audience (as for
announcements) and the reminders (`7d,1d,1h`). A new event is previewed with its reach, then published.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import event_changes, event_rsvps, events
from bot.domain import event_messages as messages
from bot.domain.announcements import parse_audience
from bot.domain.people import Permission
from bot.domain.staff import report_destination
from bot.domain.times import (
    DEFAULT_REMINDERS,
    NO_SUCH_ZONE,
    Moment,
    TimeProblem,
    find_zone,
    offset_label,
    parse_offsets,
    to_instant,
)
from bot.forms import Field, FieldKind, Form, FormErrors, Submitted
from bot.i18n import N_, language_name
from bot.ids import row_by_id
from bot.markup import plain_to_html
from bot.messages import Button, Markup, Reply
from bot.routing import Router
from bot.signals import JOBS_EVENTS
from bot.storage.events import Event, EventStatus
from handlers.staff.announce import audience_choices

router = Router("staff.events")
MAX_DURATION = 7 * 24 * 60


@dataclass(frozen=True)
class EventButton(CallbackData, prefix="event"):
    action: str  # publish | edit | cancel | confirm_cancel | show | drop
    event: int


async def event_form(ctx: Context, context: Mapping[str, str]) -> Form:
    default = ctx.catalogs.default_language
    fields = [
        Field("title", ctx._("Title"), max_length=200),
        Field("description", ctx._("Description"), FieldKind.LONG_TEXT, required=False, max_length=3000),
        Field(
            "starts_at",
            ctx._("Starts at (local time)"),
            FieldKind.DATETIME,
            hint=ctx._("YYYY-MM-DD HH:MM, such as 2027-03-14 15:00"),
        ),
        Field(
            "time_zone", ctx._("Time zone of that time"), hint=ctx._("Such as Africa/Nairobi or Europe/Paris")
        ),
        Field("duration_minutes", ctx._("Duration in minutes"), FieldKind.NUMBER),
        Field("location", ctx._("Where: a link or a place"), max_length=500),
        Field("audience", ctx._("Audience"), FieldKind.CHOICE, choices=await audience_choices(ctx)),
        Field(
            "reminders",
            ctx._("Reminders before it starts"),
            required=False,
            hint=ctx._("Such as 7d,1d,1h (at most 5)"),
        ),
    ]
    for code in ctx.catalogs.languages:
        if code == default:
            continue
        name = language_name(code, ctx.language)
        fields.append(
            Field(
                f"title_{code}", ctx._("Title in {language}", language=name), required=False, max_length=200
            )
        )
        fields.append(
            Field(
                f"description_{code}",
                ctx._("Description in {language}", language=name),
                FieldKind.LONG_TEXT,
                required=False,
                max_length=3000,
            )
        )
    return Form("event", ctx._("An event"), tuple(fields), ctx._("Preview"), context=dict(context))


def _values(event: Event) -> dict[str, str]:
    values = {
        "title": event.title,
        "description": event.description,
        "starts_at": event.local_start,
        "time_zone": event.time_zone,
        "duration_minutes": str(event.duration_minutes),
        "location": event.location,
        "audience": events.audience_of(event).encode(),
        "reminders": messages.offsets_text(event),
    }
    for code, version in (event.versions or {}).items():
        values[f"title_{code}"] = str(version.get("title") or "")
        values[f"description_{code}"] = str(version.get("description") or "")
    return values


def _data(ctx: Context, submitted: Submitted, editing: Event | None) -> events.EventData:
    errors: dict[str, str] = {}
    zone = find_zone(submitted.text("time_zone"))
    if zone is None:
        errors["time_zone"] = ctx._(NO_SUCH_ZONE)
    now = ctx.clock.now()
    starts_at = None
    if zone is not None:
        try:
            starts_at = to_instant(submitted.text("starts_at"), zone)
        except TimeProblem as problem:
            errors["starts_at"] = problem.text(ctx.t)
        else:
            if starts_at <= now:
                errors["starts_at"] = ctx._("That time has passed. An event must start in the future.")
    duration = float(submitted.text("duration_minutes") or 0)
    if not duration.is_integer() or not 0 < duration <= MAX_DURATION:
        errors["duration_minutes"] = ctx._(
            "Please give the duration in whole minutes, more than 0 (such as 90)."
        )
    raw = submitted.text("reminders") or DEFAULT_REMINDERS
    offsets: list[int] = []
    try:
        offsets = parse_offsets(raw)
    except TimeProblem as problem:
        errors["reminders"] = problem.text(ctx.t)
    known = set(editing.reminder_minutes) if editing is not None else set()
    if starts_at is not None and "reminders" not in errors:
        late = [m for m in offsets if m not in known and starts_at - timedelta(minutes=m) <= now]
        if late:
            errors["reminders"] = ctx._(
                "The {offset} reminder would come before now: the event starts sooner. "
                "Remove it or choose a shorter one.",
                offset=offset_label(late[0]),
            )
    if errors:
        raise FormErrors(errors)
    versions = {}
    for code in ctx.catalogs.languages:
        title, description = submitted.text(f"title_{code}"), submitted.text(f"description_{code}")
        if title or description:
            versions[code] = {"title": title, "description": description}
    assert zone is not None
    return events.EventData(
        title=submitted.text("title"),
        description=submitted.text("description"),
        local_start=" ".join(submitted.text("starts_at").split()),
        time_zone=zone,
        duration_minutes=int(duration),
        location=submitted.text("location"),
        audience=parse_audience(submitted.text("audience")),
        reminder_minutes=offsets,
        versions=versions,
    )


async def card(ctx: Context, event: Event) -> Reply:
    found = await event_rsvps.counts(ctx.session, event.id)
    reach = await events.reach(ctx.session, event, ctx.catalogs.default_language)
    when = Moment(event.starts_at, event.time_zone, event.time_zone).words(ctx.t)
    status = ctx._(STATUS.get(event.status, event.status))
    lines = [
        f"<b>#{event.id} {plain_to_html(event.title)}</b> ({plain_to_html(status)})",
        plain_to_html(ctx._(messages.WHEN, when=when)),
        plain_to_html(ctx._(messages.WHERE, place=event.location or "-")),
        plain_to_html(ctx._("Reminders: {offsets}", offsets=messages.offsets_text(event) or "-")),
    ]
    if event.status == EventStatus.DRAFT.value:
        lines.append(plain_to_html(ctx._("It will reach {count} people.", count=reach.people)))
    else:
        lines.append(plain_to_html(event_rsvps.counts_text(event, found, ctx.t)))
    buttons = []
    if event.status == EventStatus.DRAFT.value and reach.people:
        buttons.append(
            Button(ctx._("Publish to {count}", count=reach.people), EventButton("publish", event.id).pack())
        )
    if event.status != EventStatus.CANCELLED.value:
        buttons.append(Button(ctx._("Edit"), EventButton("edit", event.id).pack()))
        label = (
            ctx._("Drop the draft") if event.status == EventStatus.DRAFT.value else ctx._("Cancel the event")
        )
        buttons.append(Button(label, EventButton("cancel", event.id).pack()))
    return Reply("\n".join(lines), buttons=tuple(buttons), markup=Markup.HTML)


STATUS = {
    EventStatus.DRAFT.value: N_("draft"),
    EventStatus.PUBLISHED.value: N_("published"),
    EventStatus.CANCELLED.value: N_("cancelled"),
}


async def _listing(ctx: Context) -> Reply:
    found = await events.listing(ctx.session, ctx.clock.now())
    if not found:
        return Reply(ctx._("No event yet. Send /event new to create one."))
    lines = [ctx._("Events (from a week ago):")]
    buttons = []
    for event in found:
        counted = await event_rsvps.counts(ctx.session, event.id)
        status = ctx._(STATUS.get(event.status, event.status))
        lines.append(
            f"#{event.id} {event.title}, {event.local_start} {event.time_zone} ({status}): "
            + ctx._("{going} going", going=counted.going)
        )
        buttons.append(Button(f"#{event.id} {event.title}"[:40], EventButton("show", event.id).pack()))
    return Reply("\n".join(lines), buttons=tuple(buttons[:20]))


@router.command(
    "event",
    description=N_("Events: /event new, /event list, /event <number>, /event edit|cancel <number>"),
    needs=Permission.MANAGE_EVENTS,
)
async def event_command(ctx: Context) -> Reply:
    verb, _, rest = ctx.args_plain.partition(" ")
    if verb in ("", "list"):
        return await _listing(ctx)
    if verb == "new":
        form = await event_form(ctx, {})
        zone = ctx.person.time_zone or "UTC"
        return Reply(
            ctx._("A new event:"),
            form=form.with_values(
                {
                    "time_zone": zone,
                    "duration_minutes": "60",
                    "reminders": DEFAULT_REMINDERS,
                    "audience": "all",
                }
            ),
        )
    raw = (rest if verb in ("edit", "cancel") else verb).strip().lstrip("#")
    event = await row_by_id(ctx.session, Event, raw)
    if event is None:
        return Reply(ctx._("There is no such event. Send /event list to see them."))
    if verb == "edit":
        return await _edit_form(ctx, event)
    if verb == "cancel":
        return _confirm_cancel(ctx, event)
    return await card(ctx, event)


async def _edit_form(ctx: Context, event: Event) -> Reply:
    if event.status == EventStatus.CANCELLED.value:
        return Reply(ctx._(event_rsvps.EVENT_CANCELLED))
    form = await event_form(ctx, {"event": str(event.id)})
    return Reply("", form=form.with_values(_values(event)))


def _confirm_cancel(ctx: Context, event: Event) -> Reply:
    if event.status == EventStatus.CANCELLED.value:
        return Reply(ctx._(event_rsvps.EVENT_CANCELLED))
    return Reply(
        ctx._("Cancel event #{id}, {title}? Everyone invited will be told.", id=event.id, title=event.title),
        buttons=(Button(ctx._("Yes, cancel it"), EventButton("confirm_cancel", event.id).pack()),),
    )


@router.form("event", build=event_form, needs=Permission.MANAGE_EVENTS)
async def event_submitted(ctx: Context, submitted: Submitted) -> Reply:
    raw = submitted.context.get("event", "")
    editing = await row_by_id(ctx.session, Event, raw)
    data = _data(ctx, submitted, editing)
    if editing is None:
        event = await events.save_draft(ctx.session, ctx.person, data, ctx.clock.now())
        return await card(ctx, event)
    changed = await event_changes.edit(
        ctx.session, ctx.services.outbox, ctx.catalogs, ctx.person, editing, data, ctx.clock.now()
    )
    ctx.services.signals.notify_on_commit(ctx.session, JOBS_EVENTS)
    if editing.status == EventStatus.PUBLISHED.value and changed:
        ctx.audit("event_edited", event=editing.id, changed=changed)
    return await card(ctx, editing)


@router.button(EventButton, needs=Permission.MANAGE_EVENTS)
async def event_button(ctx: Context, pressed: EventButton) -> Reply:
    event = await ctx.session.get(Event, pressed.event)
    if event is None:
        return Reply(ctx._("There is no such event. Send /event list to see them."))
    if pressed.action == "edit":
        return await _edit_form(ctx, event)
    if pressed.action == "cancel":
        return _confirm_cancel(ctx, event)
    if pressed.action == "confirm_cancel":
        if await event_changes.cancel(
            ctx.session, ctx.services.outbox, ctx.catalogs, ctx.person, event, ctx.clock.now()
        ):
            ctx.services.signals.notify_on_commit(ctx.session, JOBS_EVENTS)
            ctx.audit("event_cancelled", event=event.id)
        return await card(ctx, event)
    if pressed.action == "publish":
        destination = report_destination(
            ctx.person, ctx.identity, ctx.services.staff_channels, ctx.catalogs.default_language
        )
        published = await events.publish(
            ctx.session, ctx.services.outbox, ctx.catalogs, ctx.person, event.id, ctx.clock.now(), destination
        )
        if published is None:
            return Reply(ctx._("Event #{id} has already been published.", id=event.id))
        ctx.services.signals.notify_on_commit(ctx.session, JOBS_EVENTS)
        ctx.audit("event_published", event=event.id)
        return Reply(
            ctx._(
                "Event #{id} is published: the invitations are on their way; the report follows.", id=event.id
            )
        )
    return await card(ctx, event)
