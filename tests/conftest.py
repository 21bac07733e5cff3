"""Shared fixtures: settings on a temporary data folder, databases on SQLite and PostgreSQL, the app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import BotApp
from bot.clock import FakeClock
from bot.config import Settings
from bot.storage.database import Database
from run_bot import build_app
from tests.emulators.slack import SlackEmulator
from tests.emulators.telegram import TelegramEmulator
from tests.harness import ConsoleChat
from tests.slack_harness import RunningBot, populate, running_platforms, slack_emulator
from tests.telegram_harness import (
    TelegramBotUnderTest,
    TelegramChat,
    TelegramUserFactory,
    running_telegram_bot,
)

POSTGRES_URL = os.environ.get("BOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SECRET_ENV = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "BOT_DATABASE_URL",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Tests never see the developer's tokens or `.env`."""
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Matching rounds are off: a fake clock's month would be long past for APScheduler's real timers
    (the matching tests turn them on, on a simulated clock)."""
    return Settings(bot_data_dir=tmp_path / "data", matching_enabled=False, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _postgres_database() -> tuple[Database, str]:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    database = Database(POSTGRES_URL, schema=schema)
    try:
        await database.upgrade()
    except OSError as error:  # connection refused: CI starts PostgreSQL, so this is a real failure
        await database.dispose()
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
    return database, schema


async def _drop_schema(database: Database, schema: str) -> None:
    await database.dispose()
    dropper = Database(POSTGRES_URL)
    async with dropper.engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await dropper.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
        await database.upgrade()
        yield database
        await database.dispose()
        return
    database, schema = await _postgres_database()
    yield database
    await _drop_schema(database, schema)


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.fixture
async def app(settings: Settings, sqlite_database: Database, clock: FakeClock) -> AsyncIterator[BotApp]:
    """The whole bot on SQLite with a fake clock (no flood limit unless a test builds its own)."""
    bot_app = build_app(settings, clock=clock, database=sqlite_database, flood_limit=False)
    yield bot_app


@pytest.fixture
def chat(app: BotApp) -> ConsoleChat:
    return ConsoleChat(app, "amina")


@pytest.fixture
async def telegram_emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emulator:
        yield emulator


@pytest.fixture(params=["polling", "webhook"])
async def telegram_bot(
    request: pytest.FixtureRequest, app: BotApp, telegram_emulator: TelegramEmulator
) -> AsyncIterator[TelegramBotUnderTest]:
    """The whole bot on the real Telegram adapter against the emulator, in both modes."""
    async with running_telegram_bot(app, request.param, telegram_emulator) as bot_under_test:
        yield bot_under_test


@pytest.fixture
def telegram_user(telegram_bot: TelegramBotUnderTest) -> TelegramUserFactory:
    async def make(name: str, language_code: str | None = None) -> TelegramChat:
        return await telegram_bot.user(name, language_code=language_code)

    return make


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    """The Slack Web API emulator with the staff channel and its members."""
    async with slack_emulator() as emulator:
        populate(emulator)
        yield emulator


@pytest.fixture
async def live_app(settings: Settings, sqlite_database: Database) -> AsyncIterator[BotApp]:
    """The whole bot on SQLite on real time: running adapters wait out real rate limits and retries."""
    yield build_app(settings, database=sqlite_database, flood_limit=False)


@pytest.fixture
async def bot(
    live_app: BotApp, settings: Settings, slack: SlackEmulator, telegram_emulator: TelegramEmulator
) -> AsyncIterator[RunningBot]:
    """The bot on both platforms: Slack for staff (HTTP mode), Telegram for focal points."""
    async with running_platforms(live_app, settings, slack, telegram_emulator) as running:
        yield running
