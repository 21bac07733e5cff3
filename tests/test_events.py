"""Events: the staff form, invitations with .ics files, RSVPs, reminders on time and exactly once, edits,
cancellations, daylight saving, catch-up after downtime, and two instances."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from sqlalchemy import select, update

from bot.app import BotApp
from bot.clock import FakeClock
from bot.config import Settings
from bot.domain import event_reminders
from bot.storage.database import Database
from bot.storage.delivery import Delivery
from bot.storage.events import Event
from bot.storage.people import City, Person
from run_bot import build_app, build_scheduler
from scheduler.runner import VirtualScheduler
from tests.harness import ConsoleChat, StaffChat
from tests.people import add_focal_point

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EVENT: dict[str, Any] = {
    "title": "Regional workshop",
    "description": "Youth engagement in practice",
    "starts_at": "2026-12-10 15:00",
    "time_zone": "Africa/Nairobi",
    "duration_minutes": "90",
    "location": "https://meet.example.org/scn",
    "audience": "all",
    "reminders": "7d,1d,1h",
    "title_fr": "Atelier régional",
}


@pytest.fixture
def start_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def events_app(
    settings: Settings, sqlite_database: Database, start_clock: FakeClock
) -> AsyncIterator[BotApp]:
    app = build_app(settings, clock=start_clock, database=sqlite_database, flood_limit=False)
    await add_focal_point(app, "amina", "en", ("Mombasa", "KE", "Africa"), platform="console")
    await add_focal_point(app, "marie", "fr", ("Paris", "FR", "Europe"), platform="console")
    async with app.database.session() as session:
        await session.execute(update(City).where(City.name == "Mombasa").values(time_zone="Africa/Nairobi"))
        await session.execute(update(City).where(City.name == "Paris").values(time_zone="Europe/Paris"))
    yield app


async def scheduler_for(app: BotApp) -> VirtualScheduler:
    scheduler = build_scheduler(app, app.services.clock)  # type: ignore[arg-type]
    assert isinstance(scheduler, VirtualScheduler)
    await scheduler.start()
    return scheduler


async def published(app: BotApp, scheduler: VirtualScheduler, **changes: Any) -> int:
    staff = StaffChat(app)
    [card] = await staff.submit("event", **{**EVENT, **changes})
    assert card.form is None, card.form and card.form.errors
    publish = next(label for label in staff.buttons() if label.startswith("Publish"))
    await staff.press_label(publish)
    await scheduler.settle()
    async with app.database.session() as session:
        found = await session.scalar(select(Event.id).order_by(Event.id.desc()))
    assert found is not None
    return found


async def rows(app: BotApp, like: str) -> dict[str, Delivery]:
    async with app.database.session() as session:
        found = (
            await session.scalars(select(Delivery).where(Delivery.key.like(like)).order_by(Delivery.id))
        ).all()
    return {row.key: row for row in found}


# ---- the form --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"starts_at": "2027-02-31 10:00"}, "starts_at", "does not exist"),
        ({"starts_at": "2027-03-28 02:30", "time_zone": "Europe/Paris"}, "starts_at", "2027-03-28 03:00"),
        ({"starts_at": "2026-11-30 10:00"}, "starts_at", "has passed"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "do not know that time zone"),
        ({"duration_minutes": "0"}, "duration_minutes", "more than 0"),
        ({"duration_minutes": "-30"}, "duration_minutes", "more than 0"),
        ({"reminders": "7d,1d,1h,30m,10m,5m"}, "reminders", "At most 5"),
        ({"reminders": "2 weeks"}, "reminders", "not a reminder time"),
        ({"reminders": "1m"}, "reminders", "between 5 minutes and 30 days"),
        ({"reminders": "31d"}, "reminders", "between 5 minutes and 30 days"),
        ({"starts_at": "2026-12-03 15:00"}, "reminders", "7d reminder would come before now"),
    ],
)
async def test_bad_event_input_names_the_field_and_keeps_the_rest(
    events_app: BotApp, changes: dict[str, Any], field: str, message: str
) -> None:
    [reply] = await StaffChat(events_app).submit("event", **{**EVENT, **changes})
    assert reply.form is not None and message in reply.form.errors.get(field, ""), (
        reply.form and reply.form.errors
    )
    assert reply.form.values["title"] == "Regional workshop"
    async with events_app.database.session() as session:
        assert (await session.scalars(select(Event))).all() == []


async def test_only_staff_manage_events(events_app: BotApp) -> None:
    for command in ("/event new", "/event list", "/event 1", "/event cancel 1"):
        [reply] = await ConsoleChat(events_app, "amina").send(command)
        assert "only for the Strong Cities Network" in reply.text
    [reply] = await ConsoleChat(events_app, "amina").submit("event", **EVENT)
    assert "only for the Strong Cities Network" in reply.text
    [reply] = await ConsoleChat(events_app, "omar").send("/events")  # a guest: no events
    assert "verified focal points" in reply.text


# ---- invitations, .ics, RSVPs ------------------------------------------------------------------------------
async def test_invitations_in_each_language_and_zone_with_a_calendar_file(events_app: BotApp) -> None:
    scheduler = await scheduler_for(events_app)
    event_id = await published(events_app, scheduler)
    sent = await rows(events_app, f"event:{event_id}:invite:%")
    amina, marie = (
        sent[f"event:{event_id}:invite:console:amina"],
        sent[f"event:{event_id}:invite:console:marie"],
    )
    assert "Thu, Dec 10, 3:00" in amina.payload["text"] and "your time" not in amina.payload["text"]
    assert (
        "Atelier régional" in marie.payload["text"] and "13:00, votre heure locale" in marie.payload["text"]
    )
    assert [b["payload"] for b in amina.payload["buttons"]] == [
        f"rsvp:{event_id}:{a}" for a in ("going", "maybe", "not_going")
    ]
    import base64

    ics = icalendar.Calendar.from_ical(base64.b64decode(marie.payload["attachments"][0]["content_base64"]))
    entry = ics.walk("VEVENT")[0]
    assert str(entry["SUMMARY"]) == "Atelier régional" and int(entry["SEQUENCE"]) == 0
    assert entry["DTSTART"].dt == datetime(2026, 12, 10, 15, 0, tzinfo=entry["DTSTART"].dt.tzinfo)
    assert str(entry["DTSTART"].params["TZID"]) == "Africa/Nairobi"
    assert [str(tz["TZID"]) for tz in ics.walk("VTIMEZONE")] == ["Africa/Nairobi"]
    assert [alarm["TRIGGER"].dt for alarm in entry.walk("VALARM")] == [timedelta(hours=-1)]
    assert await rows(events_app, "batch:%:report")  # the invitation batch reports like an announcement


async def test_rsvp_is_changeable_until_the_start_and_staff_see_who_comes(
    events_app: BotApp, start_clock: FakeClock
) -> None:
    scheduler = await scheduler_for(events_app)
    event_id = await published(events_app, scheduler)
    amina = ConsoleChat(events_app, "amina")
    [listing] = await amina.send("/events")
    assert "Regional workshop" in listing.text and "no answer yet" in listing.text
    [answered] = await amina.press(f"rsvp:{event_id}:maybe")
    assert "Maybe" in answered.text and "✓ Maybe" in [b.label for b in answered.buttons]
    [changed] = await amina.press(f"rsvp:{event_id}:going")
    assert "Going" in changed.text
    [card] = await StaffChat(events_app).send(f"/event {event_id}")
    assert "1 going, 0 maybe, 0 not going, 1 no answer yet" in card.text and "Mombasa, Kenya (1)" in card.text
    edits = await rows(events_app, f"event:{event_id}:rsvps:%")
    assert len(edits) == 2 and all(row.replace_key == f"event:{event_id}:rsvps" for row in edits.values())
    start_clock.set(datetime(2026, 12, 10, 12, 1, tzinfo=UTC))  # it has started
    [late] = await amina.press(f"rsvp:{event_id}:not_going")
    assert "already started" in late.text
    [nothing] = await amina.press("rsvp:999:going")
    assert "no longer exists" in nothing.text
    [forged] = await amina.press(f"rsvp:{event_id}:perhaps")
    assert "no longer exists" in forged.text


async def test_events_are_paged(events_app: BotApp) -> None:
    scheduler = await scheduler_for(events_app)
    for day in range(11, 16):
        await published(
            events_app, scheduler, title=f"Meeting {day}", starts_at=f"2026-12-{day} 10:00", title_fr=""
        )
    amina = ConsoleChat(events_app, "amina")
    [first] = await amina.send("/events")
    assert "page 1 of 2" in first.text and "Meeting 13" in first.text and "Meeting 14" not in first.text
    [second] = await amina.press_label("Next")
    assert "Meeting 14" in second.text and "Previous" in amina.buttons()


# ---- reminders -------------------------------------------------------------------------------------------
async def test_each_reminder_goes_once_at_its_time_with_the_time_left(events_app: BotApp) -> None:
    scheduler = await scheduler_for(events_app)
    await published(events_app, scheduler)
    clock = events_app.services.clock
    assert isinstance(clock, FakeClock)
    await scheduler.advance_to(datetime(2026, 12, 3, 11, 59, tzinfo=UTC))
    assert not await rows(events_app, "%:reminder:%")
    await scheduler.advance_to(datetime(2026, 12, 10, 12, 30, tzinfo=UTC))
    sent = await rows(events_app, "%:reminder:%")
    by_offset = {key.split(":")[4]: row for key, row in sent.items() if key.endswith("console:amina")}
    assert sorted(by_offset) == ["10080", "1440", "60"]
    assert "starts in 7 days, on Thu, Dec 10 at 3:00\u202fPM your time" in by_offset["10080"].payload["text"]
    assert "starts tomorrow at 3:00\u202fPM your time" in by_offset["1440"].payload["text"]
    assert "starts in 1 hour" in by_offset["60"].payload["text"]
    assert by_offset["60"].created_at == datetime(2026, 12, 10, 11, 0, tzinfo=UTC)  # on time, not early
    await scheduler.rebuild()
    await scheduler.settle()
    assert len(await rows(events_app, "%:reminder:%")) == len(sent)  # once


@pytest.mark.parametrize(
    ("preference", "answer", "reminded"),
    [
        ("all", None, True),
        ("all", "maybe", True),
        ("all", "going", True),
        ("all", "not_going", False),
        ("going", None, False),
        ("going", "maybe", False),
        ("going", "going", True),
        ("none", "going", False),
        ("none", None, False),
    ],
)
async def test_preferences_and_answers_decide_who_is_reminded(
    events_app: BotApp, preference: str, answer: str | None, reminded: bool
) -> None:
    scheduler = await scheduler_for(events_app)
    event_id = await published(events_app, scheduler)
    amina = ConsoleChat(events_app, "amina")
    await amina.press(f"reminders:{preference}")
    if answer:
        await amina.press(f"rsvp:{event_id}:{answer}")
    await scheduler.advance_to(datetime(2026, 12, 10, 11, 0, tzinfo=UTC))
    got = [key for key in await rows(events_app, "%:reminder:60:%") if key.endswith("console:amina")]
    assert bool(got) is reminded


async def test_editing_moves_the_reminders_and_tells_what_changed(events_app: BotApp) -> None:
    scheduler = await scheduler_for(events_app)
    event_id = await published(events_app, scheduler)
    staff = StaffChat(events_app)
    await staff.send(f"/event edit {event_id}")
    assert staff.form().values["starts_at"] == "2026-12-10 15:00"
    await staff.submit(
        "event",
        context={"event": str(event_id)},
        **{**EVENT, "starts_at": "2026-12-11 16:00", "location": "Mombasa town hall"},
    )
    await scheduler.settle()
    changes = await rows(events_app, f"event:{event_id}:v1:change:%")
    marie = changes[f"event:{event_id}:v1:change:console:marie"].payload
    assert "l'horaire, le lieu" in marie["text"] and "Mombasa town hall" in marie["text"]
    import base64

    calendar = icalendar.Calendar.from_ical(base64.b64decode(marie["attachments"][0]["content_base64"]))
    entry = calendar.walk("VEVENT")[0]
    async with events_app.database.session() as session:
        event = await session.get(Event, event_id)
    assert event is not None and str(entry["UID"]) == event.uid and int(entry["SEQUENCE"]) == 1
    await scheduler.advance_to(datetime(2026, 12, 11, 13, 0, tzinfo=UTC))
    sent = await rows(events_app, "%:reminder:60:%")
    assert sorted(key.split(":")[2] for key in sent) == ["v1", "v1"]  # at the new time, for the new version
    assert all(row.created_at == datetime(2026, 12, 11, 12, 0, tzinfo=UTC) for row in sent.values())


async def test_cancelling_drops_pending_reminders_and_tells_invitees(events_app: BotApp) -> None:
    scheduler = await scheduler_for(events_app)
    event_id = await published(events_app, scheduler)
    await scheduler.advance_to(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))  # the 7d reminders are queued
    async with events_app.database.session() as session:  # and one of them is not sent yet
        await session.execute(
            update(Delivery).where(Delivery.key.like("%:reminder:%")).values(status="pending")
        )
    staff = StaffChat(events_app)
    await staff.send(f"/event cancel {event_id}")
    [card] = await staff.press_label("Yes, cancel it")
    assert "(cancelled)" in card.text
    await scheduler.advance_to(datetime(2026, 12, 10, 13, 0, tzinfo=UTC))
    reminders = await rows(events_app, "%:reminder:%")
    assert {row.status for row in reminders.values()} == {"superseded"}
    assert not [key for key in reminders if ":1440:" in key or ":60:" in key]
    told = await rows(events_app, f"event:{event_id}:cancelled:%")
    assert len(told) == 2 and "cancelled" in told[f"event:{event_id}:cancelled:console:amina"].payload["text"]
    [refused] = await ConsoleChat(events_app, "amina").press(f"rsvp:{event_id}:going")
    assert "cancelled" in refused.text


async def test_an_edit_or_cancel_racing_a_reminder_sends_nothing_stale(events_app: BotApp) -> None:
    scheduler = await scheduler_for(events_app)
    event_id = await published(events_app, scheduler)
    async with events_app.database.session() as session:  # the timer of version 0 falls due ...
        await session.execute(
            update(Event).where(Event.id == event_id).values(version=1)
        )  # ... after an edit
    async with events_app.database.session() as session:
        sent = await event_reminders.send_reminders(
            session,
            events_app.services.outbox,
            events_app.services.catalogs,
            event_id,
            0,
            60,
            datetime(2026, 12, 10, 11, 0, tzinfo=UTC),
        )
    assert sent == 0 and not await rows(events_app, "%:reminder:%")


# ---- daylight saving ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "local", "utc"),
    [
        (
            "Europe/Paris",
            "2027-04-02 10:00",
            datetime(2027, 4, 2, 8, 0, tzinfo=UTC),
        ),  # after the spring change
        ("America/New_York", "2027-03-20 09:00", datetime(2027, 3, 20, 13, 0, tzinfo=UTC)),
        ("Africa/Nairobi", "2027-04-02 10:00", datetime(2027, 4, 2, 7, 0, tzinfo=UTC)),  # no DST
    ],
)
async def test_an_event_across_a_dst_change_keeps_its_wall_time(
    events_app: BotApp, start_clock: FakeClock, zone: str, local: str, utc: datetime
) -> None:
    start_clock.set(datetime(2027, 1, 15, 9, 0, tzinfo=UTC))  # created in winter
    scheduler = await scheduler_for(events_app)
    event_id = await published(events_app, scheduler, starts_at=local, time_zone=zone, reminders="1d,1h")
    async with events_app.database.session() as session:
        event = await session.get(Event, event_id)
    assert event is not None and event.starts_at == utc and event.local_start == local
    await scheduler.advance_to(utc - timedelta(minutes=30))
    sent = await rows(events_app, "%:reminder:60:%")
    assert {row.created_at for row in sent.values()} == {utc - timedelta(hours=1)}
    day_before = await rows(events_app, "%:reminder:1440:%")
    assert {row.created_at for row in day_before.values()} == {utc - timedelta(days=1)}


# ---- catch-up after downtime -----------------------------------------------------------------------------
async def test_a_reminder_missed_within_its_grace_is_sent_late_with_the_true_time_left(
    events_app: BotApp, start_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = await scheduler_for(events_app)
    event_id = await published(events_app, scheduler)
    # The bot was down from 10:30 to 11:25 UTC: the 1h reminder (due 11:00) is 25 minutes late, past its
    # grace (a quarter of its offset: 15 minutes), so it is skipped and logged.
    start_clock.set(datetime(2026, 12, 10, 11, 25, tzinfo=UTC))
    caplog.set_level(logging.WARNING)
    restarted = await scheduler_for(events_app)
    await restarted.settle()
    assert not await rows(events_app, "%:reminder:60:%")
    assert any("too late to send, skipped" in r.getMessage() for r in caplog.records)
    # Down again but back at 11:10: 10 minutes late is within the grace: sent, saying 50 minutes.
    async with events_app.database.session() as session:
        await session.execute(update(Event).where(Event.id == event_id).values(reminder_minutes=[60]))
    start_clock.set(datetime(2026, 12, 10, 11, 10, tzinfo=UTC))
    again = await scheduler_for(events_app)
    await again.settle()
    sent = await rows(events_app, "%:reminder:60:%")
    assert sent and all(
        any(words in row.payload["text"] for words in ("starts in 50 minutes", "commence dans 50 minutes"))
        for row in sent.values()
    )


async def test_a_restart_in_a_reminder_window_sends_once(
    settings: Settings, sqlite_database: Database, events_app: BotApp, start_clock: FakeClock
) -> None:
    scheduler = await scheduler_for(events_app)
    await published(events_app, scheduler)
    await scheduler.advance_to(datetime(2026, 12, 10, 11, 0, tzinfo=UTC))  # the 1h round went out
    first = await rows(events_app, "%:reminder:60:%")
    start_clock.advance(minutes=5)  # the process restarts 5 minutes later, inside the grace window
    second_app = build_app(settings, clock=start_clock, database=sqlite_database, flood_limit=False)
    restarted = await scheduler_for(second_app)
    await restarted.settle()
    again = await rows(events_app, "%:reminder:60:%")
    assert sorted(again) == sorted(first) and len(first) == 2


@pytest.mark.postgres
async def test_two_instances_firing_the_same_minute_send_once(
    database: Database, settings: Settings, start_clock: FakeClock
) -> None:
    first = build_app(settings, clock=start_clock, database=database, flood_limit=False)
    second = build_app(settings, clock=start_clock, database=database, flood_limit=False)
    for name in ("amina", "marie", "rana"):
        await add_focal_point(first, name, "en", ("Mombasa", "KE", "Africa"), platform="console")
    scheduler = await scheduler_for(first)
    event_id = await published(first, scheduler)
    due = datetime(2026, 12, 10, 11, 0, tzinfo=UTC)

    async def fire(app: BotApp) -> int:
        async with app.database.session() as session:
            return await event_reminders.send_reminders(
                session, app.services.outbox, app.services.catalogs, event_id, 0, 60, due
            )

    results = await asyncio.gather(fire(first), fire(second), return_exceptions=True)
    sent = await rows(first, "%:reminder:60:%")
    assert len(sent) == 3, results
    assert sum(r for r in results if isinstance(r, int)) <= 3


# ---- the person's zone and preference ---------------------------------------------------------------------
async def test_timezone_shows_the_citys_zone_and_takes_an_argument(events_app: BotApp) -> None:
    amina = ConsoleChat(events_app, "amina")
    [shown] = await amina.send("/timezone")
    assert "Africa/Nairobi (your city's)" in shown.text
    [bad] = await amina.send("/timezone Mars/Olympus")
    assert "do not know that time zone" in bad.text
    [saved] = await amina.send("/timezone europe/paris")
    assert "Europe/Paris" in saved.text
    async with events_app.database.session() as session:
        zone = await session.scalar(select(Person.time_zone).where(Person.display_name == "amina"))
    assert zone == "Europe/Paris"
    [shown] = await amina.send("/timezone")
    assert "(you chose it)" in shown.text
    await amina.press_label("Use my city's: Africa/Nairobi")
    [shown] = await amina.send("/timezone")
    assert "Africa/Nairobi" in shown.text


@pytest.mark.slow
def test_the_simulated_console_fires_reminders_when_the_clock_moves(tmp_path: Any) -> None:
    import json

    from tests.test_console_jsonl import _with_focal_points, records, run_console_with

    _with_focal_points(tmp_path, ("amina", "en"))
    submit = {"form": "event", "values": {**EVENT, "title_fr": ""}}
    result = run_console_with(
        ["--simulated-clock", "2026-12-01T09:00:00Z"],
        [
            json.dumps({"from": "sara", "staff": True, "submit": submit}),
            '{"from": "sara", "staff": true, "button": "event:publish:1"}',
            '{"from": "amina", "button": "rsvp:1:going"}',
            '{"clock": "2026-12-10T11:30:00Z"}',
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = records(result)
    invitation = next(r for r in out if r["to"] == "amina" and r["attachments"])
    assert invitation["attachments"][0]["content"].startswith("BEGIN:VCALENDAR")
    reminders = [
        (r["at"], r["text"].split("\n")[0]) for r in out if r["to"] == "amina" and "Reminder" in r["text"]
    ]
    assert [at for at, _ in reminders] == [
        "2026-12-03T12:00:00Z",
        "2026-12-09T12:00:00Z",
        "2026-12-10T11:00:00Z",
    ]
    assert "starts in 1 hour" in reminders[-1][1]


async def test_staff_in_slack_see_the_event_post_its_report_and_rsvps_as_they_arrive(bot: Any) -> None:
    """Published from Slack; the invitation reaches a focal point on Telegram; her answer updates the
    line of RSVPs in the event's thread in the staff channel."""
    import json

    from tests.emulators import slack_payloads as payloads
    from tests.slack_harness import CHANNEL_MEMBER, STAFF_CHANNEL

    assert bot.telegram is not None
    chat = await add_focal_point(bot.app, "Amina", "en", ("Mombasa", "KE", "Africa"), telegram=bot.telegram)
    values = {
        key: {"value": {"type": "static_select", "selected_option": {"value": value}}}
        if key == "audience"
        else {"value": {"type": "plain_text_input", "value": value}}
        for key, value in {**EVENT, "starts_at": "2030-12-10 15:00", "title_fr": ""}.items()
    }
    metadata = json.dumps({"form": "event", "context": {}, "rich": []})
    answer = await bot.post_json(
        *payloads.view_submission("form:event", values, metadata, user_id=CHANNEL_MEMBER)
    )
    view = answer["view"]
    buttons = [
        element for block in view["blocks"] if block["type"] == "actions" for element in block["elements"]
    ]
    publish = next(element["value"] for element in buttons if element["text"]["text"].startswith("Publish"))
    press = payloads.block_actions(
        "scn_button:0", publish, user_id=CHANNEL_MEMBER, view={"id": "V0X", "type": "modal"}
    )
    assert (await bot.post(*press))[0] == 200
    [invitation] = await bot.telegram.wait_for_messages(chat, 1, timeout=10)
    assert "Regional workshop" in (invitation.plain_text or "")
    from tests.emulators.telegram import TgUser

    await bot.telegram.press_button(
        TgUser(chat, "Amina", "en", None), invitation, invitation.callback_data[0]
    )
    await bot.slack.wait_for(lambda: bool(bot.slack.messages(STAFF_CHANNEL)), timeout=10)
    post = bot.slack.messages(STAFF_CHANNEL)[0]
    assert post.text.startswith("*Event #1 published by amira.haddad")

    def rsvp_line() -> str:
        return next(
            (m.text for m in bot.slack.messages(STAFF_CHANNEL, post.ts) if m.text.startswith("RSVPs")), ""
        )

    await bot.slack.wait_for(lambda: "1 going" in rsvp_line(), timeout=10)
    assert "Going, by city: Mombasa, Kenya (1)" in rsvp_line()
    await bot.slack.wait_for(
        lambda: any(m.text.startswith("*Done: 1 sent") for m in bot.slack.messages(STAFF_CHANNEL, post.ts)),
        timeout=10,
    )
