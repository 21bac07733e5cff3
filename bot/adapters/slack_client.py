"""Slack's Web API client for the adapter: retries, Slack's errors as neutral delivery errors, and who
is staff (the configured ids and the human members of the staff channel; never a bot, never the bot)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.errors import (
    DeliveryError,
    PermanentFailure,
    RateLimited,
    RecipientGone,
    TransientFailure,
)

log = logging.getLogger(__name__)

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
    """Who is staff: the configured ids, and the staff channel's human members (re-read every `ttl` s).

    The bot's own user and every bot user are never staff, whatever channel they sit in.
    """

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
        self.bot_user_id = ""
        self.bot_id = ""

    async def learn_self(self) -> None:
        try:
            me = await self._client.auth_test()
        except SlackApiError as error:
            log.warning("auth.test failed (%s)", error.response.get("error"))
            return
        self.bot_user_id = str(me.get("user_id") or "")
        self.bot_id = str(me.get("bot_id") or "")

    async def is_staff(self, user_id: str, *, is_bot: bool = False) -> bool:
        if not user_id or is_bot or user_id == self.bot_user_id:
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
        members.discard(self.bot_user_id)
        self._members, self._read_at = frozenset(members), now
        return self._members
