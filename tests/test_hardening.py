"""What an adversarial probe broke, each kept fixed: bodies that are not updates, replays, unkeepable text.

Each test failed before its fix: a deeply nested webhook body or `{"message": 5}` got 500 (Telegram
retries it), a replayed update_id was answered twice, a lone surrogate or a NUL in a message or a name
ended in "something went wrong" (or a crash), and a Slack body nested 1,000 deep made bolt recurse.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bot.app import BotApp
from bot.messages import Incoming
from bot.storage.database import Database
from bot.storage.inbound import SeenEvent
from bot.storage.people import Person
from run_bot import build_app
from tests.emulators.telegram import TelegramEmulator
from tests.telegram_harness import WEBHOOK_PATH, running_telegram_bot

SECRET = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}


def text_update(update_id: int, text: str, user_id: int = 7001, first_name: str = "Amina") -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "date": 1764590000,
            "text": text,
        },
    }


async def test_webhook_bodies_that_are_not_updates_get_400(
    app: BotApp, telegram_emulator: TelegramEmulator
) -> None:
    async with running_telegram_bot(app, "webhook", telegram_emulator, webhook_secret="s3cret") as running:
        url = f"http://127.0.0.1:{running.web.port}{WEBHOOK_PATH}"
        deep = ("[" * 1000 + "]" * 1000).encode()
        nested = (
            json.dumps({"update_id": 1, "message": {"x": 1}})[:-1] + ', "y": ' + "[" * 900 + "]" * 900 + "}"
        )
        async with aiohttp.ClientSession() as http:
            for body in (
                deep,
                nested.encode(),
                b'{"update_id": 1, "message": 5}',
                b'{"update_id": 2, "callback_query": "x"}',
            ):
                async with http.post(url, data=body, headers=SECRET) as response:
                    assert response.status == 400, body[:60]
            async with http.post(url, data=json.dumps(text_update(3, "/start")), headers=SECRET) as response:
                assert response.status == 200  # and the bot still serves
        await telegram_emulator.wait_for_messages(7001, 1)


async def test_a_replayed_update_is_answered_once(app: BotApp, telegram_emulator: TelegramEmulator) -> None:
    async with running_telegram_bot(app, "webhook", telegram_emulator, webhook_secret="s3cret") as running:
        url = f"http://127.0.0.1:{running.web.port}{WEBHOOK_PATH}"
        body = json.dumps(text_update(41, "/help"))
        async with aiohttp.ClientSession() as http:
            for _ in range(3):
                async with http.post(url, data=body, headers=SECRET) as response:
                    assert response.status == 200
            await telegram_emulator.wait_for_messages(7001, 1)
            await asyncio.sleep(0.3)  # a second answer would have come by now
            assert len(telegram_emulator.sent_messages(7001)) == 1
            async with http.post(url, data=json.dumps(text_update(42, "/help")), headers=SECRET) as response:
                assert response.status == 200  # the next update is served
        await telegram_emulator.wait_for_messages(7001, 2)
    async with app.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(SeenEvent)) == 2


async def test_a_replay_to_another_instance_is_answered_once(app: BotApp, sqlite_database: Database) -> None:
    other = build_app(app.settings, clock=app.services.clock, database=sqlite_database, flood_limit=False)
    incoming = Incoming.from_text("telegram", "9", "9", "/help", event_id="555")
    first, second = await asyncio.gather(app.handle(incoming), other.handle(incoming))
    assert sorted([len(first), len(second)]) == [0, 1]


async def test_unkeepable_text_gets_a_clear_reply_and_names_are_kept(database: Database, app: BotApp) -> None:
    bot = build_app(app.settings, clock=app.services.clock, database=database, flood_limit=False)
    for text in ("hello \ud800 there", "nul \x00 byte", "/start \udfff"):
        [reply] = await bot.handle(Incoming.from_text("telegram", "5", "5", text, display_name="Amina"))
        assert "cannot read or keep" in reply.text, text
    [reply] = await bot.handle(Incoming("telegram", "5", "5", button="lang:set:\ud800"))
    assert "cannot read or keep" in reply.text
    [reply] = await bot.handle(
        Incoming.from_text("telegram", "6", "6", "/start", display_name="Bad\ud800Name\x00")
    )
    assert "Welcome, Bad\ufffdName\ufffd!" in reply.text
    [reply] = await bot.handle(Incoming.from_text("telegram", "5", "5", "/help", display_name="Amina"))
    assert "Here is what I can do" in reply.text  # the person is not stuck
    async with bot.database.session() as session:
        names = set((await session.scalars(select(Person.display_name))).all())
    assert "Bad\ufffdName\ufffd" in names


async def test_a_slack_body_nested_too_deep_gets_400(bot: Any) -> None:
    body = ("payload=" + "%5B" * 1000 + "%5D" * 1000).encode()
    status, _ = await bot.post(body, "application/x-www-form-urlencoded")
    assert status == 400
