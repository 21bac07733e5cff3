"""Form state lives in the database: a restart in the middle of a form (here /apply, as on Telegram)
loses nothing, on SQLite and on PostgreSQL; an abandoned form expires; /cancel stops it."""

from __future__ import annotations

from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import Settings
from bot.storage.conversation import ConversationState
from bot.storage.database import Database
from run_bot import build_app
from tests.harness import ConsoleChat


def walk(app: object, name: str = "amina") -> ConsoleChat:
    return ConsoleChat(app, name, native_forms=False)  # type: ignore[arg-type]


async def test_a_form_survives_a_restart(settings: Settings, database: Database, clock: FakeClock) -> None:
    first = build_app(settings, clock=clock, database=database, flood_limit=False)
    chat = walk(first)
    await chat.send("/apply")
    assert "Country" in await chat.text("Mombasa County")
    # A second instance on the same database (as after a restart) continues the form.
    second = build_app(settings, clock=clock, database=database, flood_limit=False)
    assert "What kind of authority" in await walk(second).text("Kenya")
    async with database.session() as session:
        state = (await session.scalars(select(ConversationState))).one()
    assert state.data["values"] == {"authority": "Mombasa County", "country": "Kenya"}


async def test_a_form_can_be_cancelled(settings: Settings, database: Database) -> None:
    chat = walk(build_app(settings, database=database, flood_limit=False))
    await chat.send("/apply")
    assert "Stopped" in await chat.text("/cancel")
    assert "nothing to cancel" in await chat.text("/cancel")
    async with database.session() as session:
        assert (await session.scalars(select(ConversationState))).all() == []


async def test_an_abandoned_form_expires(
    settings: Settings, sqlite_database: Database, clock: FakeClock
) -> None:
    chat = walk(build_app(settings, clock=clock, database=sqlite_database, flood_limit=False))
    await chat.send("/apply")
    clock.advance(days=8)
    reply = await chat.text("Mombasa County")  # no pending form any more: ordinary free text
    assert "Country" not in reply


async def test_an_overlong_answer_is_refused_and_the_form_stays(
    settings: Settings, sqlite_database: Database
) -> None:
    chat = walk(build_app(settings, database=sqlite_database, flood_limit=False))
    await chat.send("/apply")
    assert "at most 200" in await chat.text("x" * 250)
    assert "Country" in await chat.text("Mombasa County")
