"""Times as people live them: wall times in IANA zones, reminder offsets, and the words for both.

A wall time that a daylight-saving change skips (02:30 on a spring-forward night) does not exist: it is
refused with the next valid time suggested. One that happens twice (an autumn night) is the first
occurrence. A person's zone is the one they chose, else their city's, else UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_skeleton, get_timezone_location

from bot.domain.problems import Problem
from bot.forms import DATETIME_FORMAT
from bot.i18n import N_, NP_, Translator
from bot.storage.people import City, Person

UTC_ZONE = "UTC"
MAX_REMINDERS = 5
MIN_OFFSET = timedelta(minutes=5)
MAX_OFFSET = timedelta(days=30)
DEFAULT_REMINDERS = "7d,1d,1h"
_OFFSET = re.compile(r"^(\d{1,4})\s*([mhdw])$")
_UNITS = {"m": 1, "h": 60, "d": 1440, "w": 10080}

NO_SUCH_ZONE = N_(
    "I do not know that time zone. Please write its name, such as Africa/Nairobi or Europe/Paris."
)
SKIPPED_TIME = N_(
    "{time} does not exist in {zone} that day: the clocks change. The next valid time is {next}."
)
BAD_OFFSET = N_("{offset} is not a reminder time. Write them like 7d,1d,1h (days, hours, minutes: 30m).")
TOO_MANY = N_("At most {limit} reminders, please.")
OFFSET_RANGE = N_("Each reminder must be between 5 minutes and 30 days before the event ({offset} is not).")
PLACE_TIME = N_("{date}, {time} {place} time")
YOUR_TIME = N_("{time} your time")
IN_MINUTES = NP_("starts in {count} minute", "starts in {count} minutes")
IN_HOURS = NP_("starts in {count} hour", "starts in {count} hours")
TODAY_AT = N_("starts today at {time} your time")
TOMORROW_AT = N_("starts tomorrow at {time} your time")
IN_DAYS_ON = NP_(
    "starts in {count} day, on {date} at {time} your time",
    "starts in {count} days, on {date} at {time} your time",
)
STARTED = N_("has started")


class TimeProblem(Problem, ValueError):
    """Wrong time input (a `Problem`: a msgid and its values, which the caller translates)."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise TimeProblem(NO_SUCH_ZONE) from None


def find_zone(text: str) -> str | None:
    """An IANA zone name as typed (case, spaces for underscores ignored), or None."""
    from bot.domain.cities import valid_zone  # the registry knows the zone list

    wanted = text.strip().replace(" ", "_")
    if valid_zone(wanted):
        return wanted
    from zoneinfo import available_timezones

    lowered = wanted.lower()
    return next((name for name in sorted(available_timezones()) if name.lower() == lowered), None)


def person_zone(person: Person, city: City | None) -> str:
    """The zone a person reads times in: theirs, else their city's, else UTC."""
    if person.time_zone:
        return person.time_zone
    if city is not None and city.time_zone:
        return city.time_zone
    return UTC_ZONE


def to_instant(local: str, zone_name: str) -> datetime:
    """`"2027-03-28 02:30"` in `zone_name` -> the UTC instant; `TimeProblem` for a skipped time."""
    tz = zone(zone_name)
    naive = datetime.strptime(" ".join(local.split()), DATETIME_FORMAT)
    aware = naive.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None)
    if back != naive:  # the wall clock jumped over it
        following = naive
        while True:
            following += timedelta(minutes=15)
            probe = following.replace(tzinfo=tz)
            if probe.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) == following:
                break
        raise TimeProblem(
            SKIPPED_TIME,
            time=naive.strftime("%H:%M"),
            zone=zone_name,
            next=following.strftime(DATETIME_FORMAT),
        )
    return aware.astimezone(ZoneInfo("UTC"))


def parse_offsets(text: str) -> list[int]:
    """`"7d,1d,1h"` -> minutes before the start, longest first; `TimeProblem` when wrong."""
    parts = [part.strip().lower() for part in text.replace(";", ",").split(",") if part.strip()]
    minutes: list[int] = []
    for part in parts:
        found = _OFFSET.match(part)
        if not found:
            raise TimeProblem(BAD_OFFSET, offset=part)
        value = int(found.group(1)) * _UNITS[found.group(2)]
        if not MIN_OFFSET <= timedelta(minutes=value) <= MAX_OFFSET:
            raise TimeProblem(OFFSET_RANGE, offset=part)
        minutes.append(value)
    unique = sorted(set(minutes), reverse=True)
    if len(unique) > MAX_REMINDERS:
        raise TimeProblem(TOO_MANY, limit=MAX_REMINDERS)
    return unique


def offset_label(minutes: int) -> str:
    """240 -> "4h", 10080 -> "7d": the way staff write offsets."""
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


@dataclass(frozen=True, slots=True)
class Moment:
    """An instant, shown in the event's zone and, when it reads differently there, in the reader's."""

    at: datetime
    event_zone: str
    reader_zone: str

    def words(self, t: Translator) -> str:
        local = self.at.astimezone(zone(self.event_zone))
        place = get_timezone_location(self.event_zone, locale=t.locale, return_city=True)
        shown = t.gettext(
            PLACE_TIME,
            date=format_skeleton("MMMEd", local, locale=t.locale),
            time=t.time(local, "short"),
            place=place,
        )
        mine = self.at.astimezone(zone(self.reader_zone))
        if mine.utcoffset() == local.utcoffset():
            return shown
        when = t.time(mine, "short")
        if mine.date() != local.date():
            when = f"{format_skeleton('MMMEd', mine, locale=t.locale)}, {when}"
        return f"{shown} ({t.gettext(YOUR_TIME, time=when)})"


def time_left(starts_at: datetime, now: datetime, reader_zone: str, t: Translator) -> str:
    """ "starts in 35 minutes", "starts in 1 hour", "starts tomorrow at 15:00 your time", ..."""
    left = starts_at - now
    if left <= timedelta(0):
        return t.gettext(STARTED)
    minutes = round(left.total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    if minutes < 120 and (hours == 0 or min(rest, 60 - rest) > 5):
        return t.ngettext(*IN_MINUTES, minutes)
    if minutes < 360:
        return t.ngettext(*IN_HOURS, round(minutes / 60))
    mine = starts_at.astimezone(zone(reader_zone))
    today = now.astimezone(zone(reader_zone)).date()
    when = t.time(mine, "short")
    days = (mine.date() - today).days
    if days == 0:
        return t.gettext(TODAY_AT, time=when)
    if days == 1:
        return t.gettext(TOMORROW_AT, time=when)
    return t.ngettext(*IN_DAYS_ON, days, date=format_skeleton("MMMEd", mine, locale=t.locale), time=when)
