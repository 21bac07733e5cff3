"""What focal points read about an event: the invitation, a reminder, a change, a cancellation.

Each is written in the reader's language, with the time in the event's zone and in theirs, RSVP
buttons, and (for the invitation and each change) an .ics file for their calendar. The rendering is
cached per (language, zone) by the callers: ten thousand invitees share a handful of texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.callbacks import CallbackData
from bot.domain import calendar
from bot.domain.times import Moment, offset_label, time_left
from bot.i18n import N_, NP_, Translator
from bot.markup import plain_to_html
from bot.messages import Attachment, Button, Markup, Reply
from bot.storage.events import Event, RsvpAnswer

INVITATION = N_("Invitation from the Strong Cities Network")
REMINDER = N_("Reminder: {title} {when}.")
CHANGED = N_("This event has changed:")
CANCELLED = N_("This event has been cancelled: {title}, which was planned for {when}.")
WHEN = N_("When: {when}")
WHERE = N_("Where: {place}")
LASTS = NP_("Duration: {count} minute", "Duration: {count} minutes")
ANSWER_PROMPT = N_("Will you come?")
GOING = N_("Going")
MAYBE = N_("Maybe")
NOT_GOING = N_("Not going")
CALENDAR_NOTE = N_("The attached file adds it to your calendar.")
CHANGE_NAMES = {
    "time": N_("the time"),
    "place": N_("the place"),
    "title": N_("the title"),
    "description": N_("the description"),
    "duration": N_("the duration"),
    "reminders": N_("the reminders"),
}
CHANGED_WHAT = N_("Changed: {what}.")
WAS = N_("It was: {when}")


@dataclass(frozen=True)
class RsvpButton(CallbackData, prefix="rsvp"):
    """A focal point's answer to an event's invitation (changeable until it starts)."""

    event: int
    answer: str  # going | maybe | not_going


def text_of(event: Event, language: str) -> tuple[str, str]:
    """The event's title and description in `language`, else the original."""
    version = (event.versions or {}).get(language) or {}
    return str(version.get("title") or event.title), str(version.get("description") or event.description)


def rsvp_buttons(event: Event, t: Translator, current: str | None = None) -> tuple[Button, ...]:
    labels = ((RsvpAnswer.GOING, GOING), (RsvpAnswer.MAYBE, MAYBE), (RsvpAnswer.NOT_GOING, NOT_GOING))
    return tuple(
        Button(
            ("✓ " if current == answer.value else "") + t.gettext(label),
            RsvpButton(event.id, answer.value).pack(),
        )
        for answer, label in labels
    )


def _details(event: Event, t: Translator, reader_zone: str) -> list[str]:
    lines = [
        plain_to_html(t.gettext(WHEN, when=Moment(event.starts_at, event.time_zone, reader_zone).words(t)))
    ]
    lines.append(plain_to_html(t.ngettext(*LASTS, event.duration_minutes)))
    if event.location:
        lines.append(plain_to_html(t.gettext(WHERE, place=event.location)))
    return lines


def invitation(
    event: Event, t: Translator, reader_zone: str, now: datetime, rsvp: str | None = None
) -> Reply:
    title, description = text_of(event, t.language)
    lines = [f"<b>{plain_to_html(t.gettext(INVITATION))}</b>", "", f"<b>{plain_to_html(title)}</b>"]
    lines += _details(event, t, reader_zone)
    if description:
        lines += ["", plain_to_html(description)]
    lines += ["", plain_to_html(t.gettext(ANSWER_PROMPT)), plain_to_html(t.gettext(CALENDAR_NOTE))]
    return Reply(
        "\n".join(lines),
        buttons=rsvp_buttons(event, t, rsvp),
        attachments=(ics_file(event, t.language, now),),
        markup=Markup.HTML,
    )


def ics_file(event: Event, language: str, now: datetime) -> Attachment:
    title, description = text_of(event, language)
    return calendar.attachment(event, title, description, now)


def reminder(event: Event, t: Translator, reader_zone: str, now: datetime) -> Reply:
    title, _ = text_of(event, t.language)
    head = t.gettext(REMINDER, title=title, when=time_left(event.starts_at, now, reader_zone, t))
    lines = [f"<b>{plain_to_html(head)}</b>", *_details(event, t, reader_zone)]
    return Reply("\n".join(lines), buttons=rsvp_buttons(event, t), markup=Markup.HTML)


def change(
    event: Event, t: Translator, reader_zone: str, now: datetime, what: Sequence[str], was: datetime | None
) -> Reply:
    title, _ = text_of(event, t.language)
    names = ", ".join(t.gettext(CHANGE_NAMES[name]) for name in what if name in CHANGE_NAMES)
    lines = [f"<b>{plain_to_html(t.gettext(CHANGED))} {plain_to_html(title)}</b>"]
    if names:
        lines.append(plain_to_html(t.gettext(CHANGED_WHAT, what=names)))
    lines += _details(event, t, reader_zone)
    if was is not None:
        lines.append(plain_to_html(t.gettext(WAS, when=Moment(was, event.time_zone, reader_zone).words(t))))
    lines += ["", plain_to_html(t.gettext(CALENDAR_NOTE))]
    return Reply(
        "\n".join(lines),
        buttons=rsvp_buttons(event, t),
        attachments=(ics_file(event, t.language, now),),
        markup=Markup.HTML,
    )


def cancellation(event: Event, t: Translator, reader_zone: str, now: datetime) -> Reply:
    title, _ = text_of(event, t.language)
    when = Moment(event.starts_at, event.time_zone, reader_zone).words(t)
    return Reply(
        plain_to_html(t.gettext(CANCELLED, title=title, when=when)),
        attachments=(ics_file(event, t.language, now),),
        markup=Markup.HTML,
    )


def offsets_text(event: Event) -> str:
    return ",".join(offset_label(minutes) for minutes in event.reminder_minutes)
