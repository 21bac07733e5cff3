"""The bot running on the real Telegram adapter against the local Bot API emulator, and a chat fixture.

chat = await telegram_user("amina", language_code="ar")
await chat.send("/start")
reply = await chat.expect_reply()
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.web import WebServer
from bot.app import BotApp
from bot.payloads import PayloadStore
from tests.emulators.telegram import SentMessage, TelegramEmulator, TgChat, TgUser

WEBHOOK_PATH = "/telegram/webhook"
_user_ids = itertools.count(1001)


class TelegramChat:
    """One Telegram user's private chat with the bot."""

    def __init__(self, emulator: TelegramEmulator, user: TgUser) -> None:
        self.emulator = emulator
        self.user = user
        self.seen = 0

    @property
    def chat_id(self) -> int:
        return self.user.id

    async def send(self, text: str) -> None:
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            await self.emulator.send_command(self.user, command, args=args)
        else:
            await self.emulator.send_text(self.user, text)

    async def expect_reply(self, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """The next message the bot sends to this chat."""
        messages = await self.emulator.wait_for_messages(self.chat_id, self.seen + 1, timeout=timeout)
        self.seen += 1
        return messages[self.seen - 1]

    async def expect_replies(self, count: int, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        return [await self.expect_reply(timeout) for _ in range(count)]

    async def press(self, message: SentMessage, label: str) -> None:
        for row in message.buttons:
            for text, data in row:
                if text == label:
                    await self.emulator.press_button(self.user, message, data)
                    return
        raise AssertionError(f"no button {label!r}; buttons: {message.buttons}")

    def messages(self) -> list[SentMessage]:
        return self.emulator.sent_messages(self.chat_id)


class TelegramBotUnderTest:
    def __init__(
        self, app: BotApp, emulator: TelegramEmulator, adapter: TelegramAdapter, web: WebServer, mode: str
    ) -> None:
        self.app = app
        self.emulator = emulator
        self.adapter = adapter
        self.web = web
        self.mode = mode

    async def user(self, name: str, language_code: str | None = None) -> TelegramChat:
        return TelegramChat(
            self.emulator, self.emulator.user(next(_user_ids), name, language_code=language_code)
        )

    def group(self, title: str) -> TgChat:
        return self.emulator.group(-next(_user_ids), title)


@asynccontextmanager
async def running_telegram_bot(
    app: BotApp, mode: str, emulator: TelegramEmulator, webhook_secret: str = "hook-secret"
) -> AsyncIterator[TelegramBotUnderTest]:
    web = WebServer("127.0.0.1", 0)
    web.add_check("database", app.database.ping)
    await web.start()
    webhook_url = f"http://127.0.0.1:{web.port}{WEBHOOK_PATH}" if mode == "webhook" else None
    adapter = TelegramAdapter(
        emulator.token,
        app.handle,
        PayloadStore(app.database, app.services.clock),
        base_url=emulator.base_url,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        web_server=web,
        command_menus=app.command_menus,
    )
    web.add_check("telegram", adapter.healthy)
    await adapter.start()
    if mode == "polling":
        await emulator.wait_for_poller()
    try:
        yield TelegramBotUnderTest(app, emulator, adapter, web, mode)
    finally:
        await adapter.stop()
        await web.stop()


TelegramUserFactory = Callable[..., Awaitable[TelegramChat]]
