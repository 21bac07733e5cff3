"""People for tests, written straight to the database: focal points of a city, staff members."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from bot.app import BotApp
from bot.storage.people import City, Person, PlatformIdentity, Role
from tests.emulators.telegram import TelegramEmulator

_chat_ids = itertools.count(5001)


async def city_id(app: BotApp, city: tuple[str, str, str]) -> int:
    """The id of the city (name, country, region), created when missing."""
    async with app.database.session() as session:
        found = await session.scalar(select(City.id).where(City.name == city[0], City.country == city[1]))
        if found is not None:
            return found
        row = City(name=city[0], country=city[1], region=city[2], created_at=app.services.clock.now())
        session.add(row)
        await session.flush()
        return row.id


async def add_focal_point(
    app: BotApp,
    name: str,
    language: str | None,
    city: tuple[str, str, str],
    *,
    telegram: TelegramEmulator | None = None,
    role: str = Role.FOCAL_POINT.value,
    platform: str = "telegram",
) -> int:
    """A focal point in `city` (name, country, region). On Telegram their chat is a new emulator user
    (the chat id is returned); on the console their chat is their name (the id is a number anyway)."""
    chat_id = next(_chat_ids)
    if telegram is not None:
        telegram.user(chat_id, name, language_code=language)
    now = app.services.clock.now()
    where = await city_id(app, city)
    external = str(chat_id) if platform != "console" else name
    async with app.database.session() as session:
        person = Person(
            display_name=name, role=role, language=language, city_id=where, created_at=now, last_seen_at=now
        )
        person.identities.append(PlatformIdentity(platform=platform, external_id=external, chat_id=external))
        session.add(person)
    return chat_id
