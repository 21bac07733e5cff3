"""The Slack adapter, on slack-bolt's AsyncApp: where the Management Unit works.

Socket Mode when an app token is set (no public URL needed); otherwise HTTP mode, serving signed requests
at `/slack/events` on the shared web server (bolt answers 401 to a bad or stale signature). Staff are the
users listed in `SLACK_STAFF_USER_IDS` and the members of `SLACK_STAFF_CHANNEL`; everyone else is refused
politely and the refusal is audited. The Web API client waits out 429s (Retry-After) and `send` maps
Slack's errors to the neutral delivery errors, so the outbox can post notices to the staff channel.
What staff can do lives in `slack_staff`; the modals in `slack_views`; batch reports in `slack_reports`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_reports import ThreadReporter
from bot.adapters.slack_staff import StaffTools, register
from bot.adapters.slack_views import reply_to_mrkdwn
from bot.adapters.web import WebServer
from bot.config import Settings
from bot.delivery.errors import (
    DeliveryError,
    PermanentFailure,
    RateLimited,
    RecipientGone,
    TransientFailure,
)
from bot.messages import Reply
from bot.services import Services

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
MEMBERS_TTL_S = 60.0
RATE_LIMIT_RETRIES = 2
GONE_ERRORS = frozenset({"channel_not_found", "is_archived", "not_in_channel", "account_inactive",
                         "user_not_found", "cannot_dm_bot"})  # fmt: skip


def choose_mode(app_token: str | None, signing_secret: str | None) -> str:
    """`"socket"` with an app token, else `"http"` with a signing secret; neither is a setup error."""
    if app_token:
        return "socket"
    if signing_secret:
        return "http"
    raise ValueError("Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)")


def web_client(token: str, base_url: str | None = None) -> AsyncWebClient:
    """The Web API client: retries a 429 after its Retry-After, and a dropped connection once."""
    handlers = [
        AsyncConnectionErrorRetryHandler(),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
    ]
    if base_url:
        return AsyncWebClient(token=token, base_url=base_url, retry_handlers=handlers)
    return AsyncWebClient(token=token, retry_handlers=handlers)


def neutral_error(error: SlackApiError) -> DeliveryError:
    """Slack's error -> what the outbox should do about it."""
    status = error.response.status_code
    code = str(error.response.get("error") or "")
    if status == 429:
        return RateLimited(float(error.response.headers.get("Retry-After", 1) or 1), code)
    if code in GONE_ERRORS:
        return RecipientGone(code)
    if status >= 500 or code in ("internal_error", "service_unavailable", "fatal_error", "request_timeout"):
        return TransientFailure(code or f"HTTP {status}")
    return PermanentFailure(code or f"HTTP {status}")


class StaffDirectory:
    """Who is staff: the configured ids, and the staff channel's members (re-read every `ttl` seconds)."""

    def __init__(
        self,
        client: AsyncWebClient,
        user_ids: frozenset[str],
        channel: str | None,
        *,
        ttl: float = MEMBERS_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._user_ids = user_ids
        self._channel = channel
        self._ttl = ttl
        self._monotonic = monotonic
        self._members: frozenset[str] = frozenset()
        self._read_at: float | None = None

    async def is_staff(self, user_id: str) -> bool:
        if not user_id:
            return False
        if user_id in self._user_ids:
            return True
        return self._channel is not None and user_id in await self._channel_members(self._channel)

    async def _channel_members(self, channel: str) -> frozenset[str]:
        now = self._monotonic()
        if self._read_at is not None and now - self._read_at < self._ttl:
            return self._members
        members: set[str] = set()
        cursor = ""
        try:
            while True:
                page = await self._client.conversations_members(channel=channel, cursor=cursor, limit=200)
                members.update(page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
                if not cursor:
                    break
        except SlackApiError as error:
            log.warning(
                "staff channel members not read (%s); keeping the last list", error.response.get("error")
            )
            return self._members
        self._members, self._read_at = frozenset(members), now
        return self._members


class SlackAdapter:
    platform = PLATFORM

    def __init__(
        self,
        bot_token: str,
        services: Services,
        *,
        app_token: str | None = None,
        signing_secret: str | None = None,
        staff_user_ids: frozenset[str] = frozenset(),
        staff_channel: str | None = None,
        base_url: str | None = None,
        web_server: WebServer | None = None,
        path: str = EVENTS_PATH,
    ) -> None:
        self.mode = choose_mode(app_token, signing_secret)
        if self.mode == "http" and web_server is None:
            raise ValueError("Slack HTTP mode needs the web server")
        self.client = web_client(bot_token, base_url)
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret or "", logger=log)
        self.staff = StaffDirectory(self.client, staff_user_ids, staff_channel)
        self.reporter = ThreadReporter(self.client, services.database, services.clock)
        self.tools = StaffTools(services, self.staff, self.client, staff_channel, self.reporter)
        register(self.app, self.tools)
        self.path = path
        self._web = web_server
        self.socket_handler = AsyncSocketModeHandler(self.app, app_token) if self.mode == "socket" else None
        self._running = False

    @classmethod
    def from_settings(cls, settings: Settings, services: Services, web_server: WebServer) -> SlackAdapter:
        def secret(value: Any) -> str | None:
            return value.get_secret_value() if value is not None else None

        token = secret(settings.slack_bot_token)
        if not token:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        return cls(
            token, services, app_token=secret(settings.slack_app_token),
            signing_secret=secret(settings.slack_signing_secret), staff_user_ids=settings.staff_user_ids,
            staff_channel=settings.slack_staff_channel, base_url=settings.slack_api_base_url,
            web_server=web_server,
        )  # fmt: skip

    async def start(self) -> None:
        if self.socket_handler is not None:
            await self.socket_handler.connect_async()  # type: ignore[no-untyped-call]
        else:
            assert self._web is not None
            self._web.add_post(self.path, self._http)
        self._running = True
        log.info("slack adapter started mode=%s", self.mode)
        await self.tools.resume_interrupted()

    async def stop(self) -> None:
        self._running = False
        if self.socket_handler is not None:
            await self.socket_handler.close_async()  # type: ignore[no-untyped-call]

    async def healthy(self) -> bool:
        return self._running

    async def send(self, chat_id: str, reply: Reply) -> str:
        """Post `reply` to a channel or user id; returns the message's ts. Raises neutral errors."""
        try:
            answer = await self.client.chat_postMessage(
                channel=chat_id, text=reply_to_mrkdwn(reply), unfurl_links=False, unfurl_media=False
            )
        except SlackApiError as error:
            raise neutral_error(error) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientFailure(f"{type(error).__name__}: {error}") from error
        return str(answer["ts"])

    async def _http(self, request: web.Request) -> web.Response:
        """Bolt checks the signature (401 when bad or stale), acknowledges, and runs the listener."""
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)
