"""Form state lives in the database: a restart in the middle of /profile loses nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import Settings
from bot.storage.conversation import ConversationState
from bot.storage.database import Database
from bot.storage.people import City, Person
from run_bot import build_app
from tests.harness import ConsoleChat


async def test_profile_form_survives_a_restart(
    settings: Settings, database: Database, clock: FakeClock
) -> None:
    first = build_app(settings, clock=clock, database=database, flood_limit=False)
    chat = ConsoleChat(first, "amina")
    await chat.send("/profile")
    await chat.press_label("Edit my profile")
    assert "city" in await chat.text("Amina Yusuf")
    # A second instance on the same database (as after a restart) continues the form.
    second = build_app(settings, clock=clock, database=database, flood_limit=False)
    reply = await ConsoleChat(second, "amina").text("Mombasa")
    assert "Saved" in reply and "Amina Yusuf" in reply and "Mombasa" in reply
    async with database.session() as session:
        person = (await session.scalars(select(Person))).one()
        city = await session.get(City, person.city_id)
        assert person.display_name == "Amina Yusuf" and city is not None and city.name == "Mombasa"
        assert (await session.scalars(select(ConversationState))).all() == []


async def test_form_asks_the_next_question_and_can_be_cancelled(
    settings: Settings, database: Database
) -> None:
    chat = ConsoleChat(build_app(settings, database=database, flood_limit=False), "amina")
    await chat.press("profile:start")
    assert "city" in await chat.text("Amina")
    assert "Stopped" in await chat.text("/cancel")
    assert "nothing to cancel" in await chat.text("/cancel")
    profile = await chat.text("/profile")
    assert "not set" in profile


async def test_abandoned_form_expires(
    settings: Settings, sqlite_database: Database, clock: FakeClock
) -> None:
    chat = ConsoleChat(build_app(settings, clock=clock, database=sqlite_database, flood_limit=False), "amina")
    await chat.press("profile:start")
    clock.advance(days=8)
    reply = await chat.text("Amina")  # no pending form any more: ordinary free text
    assert "Which city" not in reply and "not sure" in reply


async def test_overlong_answer_is_refused_and_form_stays(
    settings: Settings, sqlite_database: Database
) -> None:
    chat = ConsoleChat(build_app(settings, database=sqlite_database, flood_limit=False), "amina")
    await chat.press("profile:start")
    assert "at most 100" in await chat.text("x" * 150)
    assert "city" in await chat.text("Amina")
