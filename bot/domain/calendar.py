"""An event as an .ics file (icalendar): what a focal point adds to their own calendar.

The UID is the event's and never changes; SEQUENCE is the event's version, so a calendar replaces the
entry when an updated file comes; the start carries its TZID with the zone's VTIMEZONE, so the event
keeps its wall time in its own zone; a VALARM rings at the first reminder. A cancelled event is sent
with METHOD:CANCEL and STATUS:CANCELLED.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Timezone
from icalendar import Event as IcsEvent

from bot.messages import Attachment
from bot.storage.events import Event, EventStatus

PRODID = "-//Strong Cities Network//assistant//EN"
MIME = "text/calendar"


def ics(event: Event, title: str, description: str, now_stamp: object) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    cancelled = event.status == EventStatus.CANCELLED.value
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    tz = ZoneInfo(event.time_zone)
    calendar.add_component(Timezone.from_tzinfo(tz))
    entry = IcsEvent()
    entry.add("uid", event.uid)
    entry.add("sequence", event.version)
    entry.add("dtstamp", now_stamp)
    start = event.starts_at.astimezone(tz)
    entry.add("dtstart", start)
    entry.add("dtend", start + timedelta(minutes=event.duration_minutes))
    entry.add("summary", title)
    if description:
        entry.add("description", description)
    if event.location:
        entry.add("location", event.location)
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if event.reminder_minutes and not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", title)
        alarm.add("trigger", timedelta(minutes=-min(event.reminder_minutes)))
        entry.add_component(alarm)
    calendar.add_component(entry)
    return bytes(calendar.to_ical())


def attachment(event: Event, title: str, description: str, now_stamp: object) -> Attachment:
    return Attachment(f"event-{event.id}.ics", ics(event, title, description, now_stamp), MIME)
