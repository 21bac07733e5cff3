"""A matching round for 2,000 opted-in focal points (`matching_round_2k_s`, goal at most 5 s).

2,000 focal points in 600 cities over six regions, each speaking one to three of eight languages and
working on three of the challenges, 50 blocked pairs and a previous round's pairs to avoid: seconds
for the whole round as staff's `/matching run` does it (read who takes part, pair them, record every
pair as an introduction, queue every message), on a SQLite file. `matching_pairs` is how many people
were matched (all of them should be).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from bot.clock import FakeClock
from bot.config import Settings
from bot.domain import matching
from bot.storage.delivery import Delivery
from bot.storage.peers import Block, Profile
from bot.storage.people import City, Person, PlatformIdentity
from run_bot import build_app

PEOPLE = 2_000
CITIES = 600
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LANGUAGES = ("en", "fr", "ar", "es", "ru", "sw", "ur", "sq")
REGIONS = ("Africa", "MENA", "Europe", "South Asia", "Western Balkans", "North America")


async def _populate(app: object, rng: random.Random) -> None:
    from bot.app import BotApp

    assert isinstance(app, BotApp)
    topics = list(app.services.taxonomy.ids)
    async with app.database.session() as session:
        await session.execute(
            insert(City),
            [
                {
                    "name": f"City {n}",
                    "country": "KE",
                    "region": REGIONS[n % len(REGIONS)],
                    "created_at": START,
                }
                for n in range(CITIES)
            ],
        )
        cities = (await session.scalars(select(City.id))).all()
        await session.execute(
            insert(Person),
            [
                {"display_name": f"Focal point {n}", "role": "focal_point", "language": LANGUAGES[n % 8],
                 "city_id": rng.choice(cities), "created_at": START, "last_seen_at": START,
                 "reminders": "all", "language_explicit": False}
                for n in range(PEOPLE)
            ],
        )  # fmt: skip
        ids = (await session.scalars(select(Person.id).order_by(Person.id))).all()
        await session.execute(
            insert(PlatformIdentity),
            [{"person_id": p, "platform": "telegram", "external_id": str(p), "chat_id": str(p)} for p in ids],
        )
        await session.execute(
            insert(Profile),
            [
                {"person_id": p, "job_title": "Officer", "listed": True, "introductions": True,
                 "matching": True, "topics": rng.sample(topics, 3), "updated_at": START,
                 "languages": sorted({LANGUAGES[i % 8], *rng.sample(LANGUAGES, rng.choice((0, 1, 2)))})}
                for i, p in enumerate(ids)
            ],
        )  # fmt: skip
        await session.execute(
            insert(Block),
            [
                {"blocker_id": rng.choice(ids), "blocked_id": rng.choice(ids), "created_at": START}
                for _ in range(50)
            ],
        )


async def run_matching_bench() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(bot_data_dir=Path(folder), _env_file=None)  # type: ignore[call-arg]
        clock = FakeClock(START)
        app = build_app(settings, clock=clock, flood_limit=False)
        await app.start()
        await _populate(app, random.Random(7))
        schedule = matching.Schedule()
        async with app.database.session() as session:  # a previous round, so there are pairs to avoid
            await matching.run(
                session, app.services.outbox, app.services.catalogs, app.services.taxonomy, schedule, START
            )
        clock.set(START.replace(month=12, day=2))
        started = time.perf_counter()
        async with app.database.session() as session:
            round_ = await matching.run(
                session,
                app.services.outbox,
                app.services.catalogs,
                app.services.taxonomy,
                schedule,
                clock.now(),
            )
            assert round_ is not None
            matched = round_.taking_part - round_.unmatched
        elapsed = time.perf_counter() - started
        async with app.database.session() as session:
            queued = await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.key.like(f"match:{round_.id}:%"))
            )
        await app.close()
    assert queued == PEOPLE, queued
    return {"matching_round_2k_s": round(elapsed, 3), "matching_pairs": float(matched)}


if __name__ == "__main__":
    for key, value in asyncio.run(run_matching_bench()).items():
        print(f"{key}: {value}")
