"""The whole bot started by the composition root (`start_platforms`) against both emulators.

async with running_platforms(app, settings, slack, telegram) as bot:
    status, body = await bot.post(*payloads.slash_command(text="stats"))

Slack runs in HTTP mode on the shared web server (a random port), so every request goes through
bolt's own signature check and dispatch; Telegram polls its emulator. Focal points are database rows
whose Telegram chat is an emulator user.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.app import BotApp
from bot.config import Settings
from run_bot import PlatformRuntime, build_scheduler, start_platforms
from tests.emulators import slack_payloads as payloads
from tests.emulators.slack import SlackEmulator
from tests.emulators.telegram import TelegramEmulator
from tests.people import add_focal_point

__all__ = ["RunningBot", "add_focal_point", "populate", "running_platforms", "slack_emulator"]

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
STAFF_CHANNEL = "C0STAFF01"
CHANNEL_MEMBER = "U0STAFF01"  # staff because they are in the staff channel
LISTED_STAFF = "U0LISTED1"  # staff because SLACK_STAFF_USER_IDS names them
OUTSIDER = "U0OUTSIDE1"


@dataclass
class RunningBot:
    app: BotApp
    runtime: PlatformRuntime
    slack: SlackEmulator
    telegram: TelegramEmulator | None
    sender: payloads.SlackRequestSender

    async def post(self, body: bytes, content_type: str, **options: Any) -> tuple[int, str]:
        return await self.sender.post(body, content_type, **options)

    async def post_json(self, body: bytes, content_type: str) -> dict[str, Any]:
        """Post a signed request that must succeed, and read bolt's JSON answer (an ack's body)."""
        status, text = await self.sender.post(body, content_type)
        assert status == 200, (status, text)
        answer: dict[str, Any] = json.loads(text) if text else {}
        return answer

    def thread(self, parent_ts: str) -> list[str]:
        return [m.text for m in self.slack.messages(STAFF_CHANNEL, parent_ts)]


def slack_emulator() -> SlackEmulator:
    """The Slack emulator, with a posting burst generous enough for a test's few staff-channel posts."""
    emulator = SlackEmulator(post_message_burst=20)
    return emulator


def populate(emulator: SlackEmulator) -> None:
    """Three users (a channel member, a listed staff member, an outsider) and the staff channel."""
    emulator.add_user(CHANNEL_MEMBER, "amira.haddad", "Amira Haddad")
    emulator.add_user(LISTED_STAFF, "jon.berg", "Jon Berg")
    emulator.add_user(OUTSIDER, "visitor", "A Visitor")
    emulator.add_channel(STAFF_CHANNEL, "scn-staff", members=[CHANNEL_MEMBER, emulator.bot_user_id])


@asynccontextmanager
async def running_platforms(
    app: BotApp, settings: Settings, slack: SlackEmulator, telegram: TelegramEmulator | None = None
) -> AsyncIterator[RunningBot]:
    updates: dict[str, Any] = {
        "bot_http_host": "127.0.0.1", "bot_http_port": 0,
        "slack_bot_token": SecretStr(slack.bot_token), "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_staff_user_ids": LISTED_STAFF, "slack_staff_channel": STAFF_CHANNEL,
        "slack_api_base_url": slack.base_url,
    }  # fmt: skip
    if telegram is not None:
        updates |= {
            "telegram_bot_token": SecretStr(telegram.token),
            "telegram_api_base_url": telegram.base_url,
        }
    configured = settings.model_copy(update=updates)
    app.settings = app.services.settings = configured
    runtime = await start_platforms(app, configured)
    await runtime.start_scheduler(build_scheduler(app))
    try:
        if telegram is not None:
            await telegram.wait_for_poller()
        assert runtime.web is not None
        sender = payloads.SlackRequestSender(
            f"http://127.0.0.1:{runtime.web.port}/slack/events", SIGNING_SECRET
        )
        yield RunningBot(app, runtime, slack, telegram, sender)
    finally:
        await runtime.stop()
