"""Events at scale: a reminder round for 10,000 invitees, and the scheduler rebuilt over 1,000 events.

`reminder_enqueue_10k_s`: one event published to 10,000 focal points (in four languages and four zones);
the clock is set to the instant the 1h reminder falls due and the timer runs: seconds from then until all
10,000 reminders are in the outbox (and none of them before its time: `reminder_early`, the count of
rows created before the due instant, must be 0). `scheduler_rebuild_1k_s`: 1,000 published events with
three reminders each; seconds for the scheduler to read them all back into APScheduler timers at start.
Both on a SQLite file, as a single instance runs.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bot.clock import FakeClock
from bot.config import Settings
from bot.storage.delivery import Delivery
from bot.storage.events import Event, EventInvitee, EventStatus
from bot.storage.people import City, Person, PlatformIdentity
from run_bot import build_app, build_scheduler
from scheduler.reminders import EventReminders
from scheduler.runner import JobScheduler

INVITEES = 10_000
EVENTS = 1_000
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LANGUAGES = ("en", "fr", "ar", "sw")
ZONES = ("Africa/Nairobi", "Europe/Paris", "Asia/Beirut", "America/New_York")


def _event(index: int, starts_at: datetime) -> dict[str, object]:
    return {
        "uid": f"bench-{index}@scn",
        "title": f"Event {index}",
        "description": "",
        "versions": {},
        "local_start": starts_at.strftime("%Y-%m-%d %H:%M"),
        "time_zone": "UTC",
        "starts_at": starts_at,
        "duration_minutes": 60,
        "location": "online",
        "audience_kind": "all",
        "audience_value": "",
        "reminder_minutes": [1440, 60, 10],
        "status": EventStatus.PUBLISHED.value,
        "version": 0,
        "created_at": START,
        "updated_at": START,
        "published_at": START,
    }


async def _populate(app_database: object, clock: FakeClock) -> int:
    from bot.storage.database import Database

    assert isinstance(app_database, Database)
    async with app_database.session() as session:
        cities = []
        for index, zone in enumerate(ZONES):
            city = City(name=f"City {index}", country="KE", time_zone=zone, created_at=START)
            session.add(city)
            cities.append(city)
        await session.flush()
        people = [
            {
                "display_name": f"fp{n}",
                "role": "focal_point",
                "language": LANGUAGES[n % 4],
                "city_id": cities[n % 4].id,
                "created_at": START,
                "last_seen_at": START,
                "reminders": "all",
                "language_explicit": False,
            }
            for n in range(INVITEES)
        ]
        await session.execute(insert(Person), people)
        ids = (await session.scalars(select(Person.id).order_by(Person.id))).all()
        await session.execute(
            insert(PlatformIdentity),
            [
                {"person_id": pid, "platform": "telegram", "external_id": str(pid), "chat_id": str(pid)}
                for pid in ids
            ],
        )
        event_id = (
            await session.execute(insert(Event).returning(Event.id), [_event(0, START + timedelta(days=2))])
        ).scalar_one()
        await session.execute(
            insert(EventInvitee),
            [{"event_id": event_id, "person_id": pid, "invited_at": START} for pid in ids],
        )
    return int(event_id)


async def _reminder_round() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(bot_data_dir=Path(folder), _env_file=None)  # type: ignore[call-arg]
        clock = FakeClock(START)
        app = build_app(settings, clock=clock, flood_limit=False)
        await app.start()
        await _populate(app.database, clock)
        [timer] = [t for t in await EventReminders().timers(app.services) if t.id.endswith(":60")]
        clock.set(timer.at)
        started = time.perf_counter()
        await timer.run(app.services)
        elapsed = time.perf_counter() - started
        async with app.database.session() as session:
            queued = await session.scalar(select(func.count()).select_from(Delivery))
            early = await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.created_at < timer.at)
            )
        await app.close()
    assert queued == INVITEES, queued
    return {"reminder_enqueue_10k_s": round(elapsed, 3), "reminder_early": float(early or 0)}


async def _rebuild() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(bot_data_dir=Path(folder), _env_file=None)  # type: ignore[call-arg]
        app = build_app(settings, clock=FakeClock(START), flood_limit=False)
        await app.start()
        async with app.database.session() as session:
            await session.execute(
                insert(Event), [_event(n, START + timedelta(days=3, minutes=n)) for n in range(EVENTS)]
            )
        scheduler = build_scheduler(app)
        assert isinstance(scheduler, JobScheduler)
        scheduler.aps.start()
        started = time.perf_counter()
        held = await scheduler.rebuild()
        elapsed = time.perf_counter() - started
        scheduler.aps.shutdown(wait=False)
        await asyncio.sleep(0)
        await app.close()
    assert held >= EVENTS * 3, held  # and the matching round and introduction timers
    return {"scheduler_rebuild_1k_s": round(elapsed, 3)}


async def run_events_bench() -> dict[str, float]:
    return {**await _reminder_round(), **await _rebuild()}


if __name__ == "__main__":
    for key, value in asyncio.run(run_events_bench()).items():
        print(f"{key}: {value}")
