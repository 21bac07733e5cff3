"""A local Slack Web API server that the real ``slack_sdk`` clients talk to unchanged.

Why: the Slack adapter, the deliverer and bolt's own listeners must be tested against Slack's
real behaviour (error shapes, HTTP 200 with ``ok: false``, 429 with ``Retry-After``, expiring
trigger ids) without the internet. Point ``AsyncWebClient(token=..., base_url=emu.base_url)`` here.

Promised: arguments are read however slack_sdk sends them (query string, form body, JSON body; token
as ``Authorization: Bearer`` or a ``token`` field); every request is recorded in ``calls`` and wakes
``wait_for``; faults and rate limits are answered exactly as Slack answers them. Time comes from an
injectable clock, so rate limits and trigger expiry are tested without sleeping.

This module holds the server, authentication, faults and the message and workspace methods. The
records are in slack_records, the shared argument rules and refusals in slack_rules, and modals
in slack_views; the names tests import are re-exported here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import math
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from tests.emulators.slack_records import (
    JSON,
    ManualClock,
    RecordedCall,
    SlackChannel,
    SlackEdit,
    SlackEphemeral,
    SlackMessage,
    SlackUser,
    SlackView,
)
from tests.emulators.slack_rules import (
    MAX_BLOCKS,
    MAX_TEXT_LENGTH,
    Refusal,
    flag,
    message_content,
    ratelimited,
    read_arguments,
    require,
)
from tests.emulators.slack_views import TRIGGER_TTL_SECONDS, ViewRegistry

__all__ = [
    "JSON",
    "KNOWN_METHODS",
    "MAX_BLOCKS",
    "MAX_TEXT_LENGTH",
    "TRIGGER_TTL_SECONDS",
    "ManualClock",
    "RecordedCall",
    "SlackChannel",
    "SlackEdit",
    "SlackEmulator",
    "SlackEphemeral",
    "SlackMessage",
    "SlackUser",
    "SlackView",
]
# Every Web API method slack_sdk knows (chat_postMessage -> chat.postMessage); used to tell a real
# but unimplemented method (answered ok and recorded) from a typo (unknown_method).
KNOWN_METHODS = frozenset(
    name.replace("_", ".")
    for name, member in vars(AsyncWebClient).items()
    if "_" in name and not name.startswith("_") and inspect.iscoroutinefunction(member)
)
_SERVER_ERRORS = {500: "internal_error", 503: "service_unavailable"}


class SlackEmulator:
    """The Slack Web API for one workspace with one bot; see the module docstring."""

    def __init__(
        self,
        bot_token: str = "xoxb-scn-test-token",
        *,
        team_id: str = "T0SCN0001",
        team_domain: str = "strongcities",
        bot_user_id: str = "U0SCNBOT1",
        bot_id: str = "B0SCNBOT1",
        app_id: str = "A0SCNAPP1",
        clock: Callable[[], float] = time.time,
        post_message_per_second: float = 1.0,
        post_message_burst: int = 3,
        rate_limits: bool = True,
    ) -> None:
        self.bot_token, self.team_id, self.team_domain = bot_token, team_id, team_domain
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self.clock = clock
        self.post_message_per_second = post_message_per_second
        self.post_message_burst = post_message_burst
        self.rate_limits = rate_limits
        self.base_url = ""
        self.users: dict[str, SlackUser] = {}
        self.channels: dict[str, SlackChannel] = {}
        self.ephemerals: list[SlackEphemeral] = []
        self.calls: list[RecordedCall] = []
        self._messages: list[SlackMessage] = []
        self._buckets: dict[str, tuple[float, float]] = {}
        self._last_ts_micros = 0
        self._ratelimit_faults: deque[tuple[int, str | None]] = deque()
        self._server_faults: deque[int] = deque()
        self._error_faults: dict[str, deque[str]] = {}
        self._condition = asyncio.Condition()
        self._views = ViewRegistry(lambda: self.clock())
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "users.info": self._users_info,
            "conversations.members": self._conversations_members,
            "conversations.info": self._conversations_info,
            "conversations.replies": self._conversations_replies,
            "reactions.add": self._reactions_add,
        }

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/api/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def client(self, **options: Any) -> AsyncWebClient:
        """The real slack_sdk client with this emulator's bot token, pointed here."""
        return AsyncWebClient(token=self.bot_token, base_url=self.base_url, **options)

    @property
    def views(self) -> dict[str, SlackView]:
        """Every modal the bot opened or pushed, by view id, as it is now."""
        return self._views.views

    # ---- test-side state ----------------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        tz: str = "Europe/London",
        is_bot: bool = False,
        locale: str = "en-GB",
    ) -> SlackUser:
        user = SlackUser(user_id, name, real_name or name, tz, is_bot, locale)
        self.users[user_id] = user
        return user

    def add_channel(
        self, channel_id: str, name: str, members: list[str] | None = None, is_private: bool = False
    ) -> SlackChannel:
        channel = SlackChannel(channel_id, name, list(members or []), is_private)
        self.channels[channel_id] = channel
        return channel

    def issue_trigger_id(self) -> str:
        """A trigger id views.open/push accept once, within 3 seconds of the emulator's clock."""
        return self._views.issue_trigger_id()

    def messages(self, channel: str, thread_ts: str | None = None) -> list[SlackMessage]:
        """Every message in ``channel`` (a channel id, or a user id for the bot's DM), ts order;
        with ``thread_ts``, only that thread: its parent then its replies."""
        channel_id = self._dm_id(channel) if channel in self.users else channel
        found = [m for m in self._messages if m.channel == channel_id]
        if thread_ts is not None:
            found = [m for m in found if thread_ts in (m.ts, m.thread_ts)]
        return sorted(found, key=lambda m: float(m.ts))

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - the harness's public signature takes a timeout
    ) -> None:
        """Return once ``predicate()`` holds, re-checked after every API call; TimeoutError else."""
        try:
            async with asyncio.timeout(timeout), self._condition:
                await self._condition.wait_for(predicate)
        except TimeoutError:
            recent = [call.method for call in self.calls[-10:]]
            raise TimeoutError(f"condition not met in {timeout}s; last calls: {recent}") from None

    # ---- faults on demand ---------------------------------------------------------------------
    def ratelimit_next(self, n: int, retry_after: int = 1, method: str | None = None) -> None:
        """The next ``n`` calls (of ``method``, or of any method) get 429 + Retry-After."""
        self._ratelimit_faults.extend([(retry_after, method)] * n)

    def error_next(self, method: str, error: str, n: int = 1) -> None:
        """The next ``n`` authorised calls of ``method`` answer ok false with ``error``."""
        self._error_faults.setdefault(method, deque()).extend([error] * n)

    def server_error_next(self, n: int, status: int = 503) -> None:
        self._server_faults.extend([status] * n)

    # ---- request handling ---------------------------------------------------------------------
    async def _serve(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, token = await read_arguments(request)
        implemented = method in self._methods
        try:
            status, body = 200, {"ok": True, **self._answer(method, args, token)}
            headers: dict[str, str] = {}
        except Refusal as refusal:
            status, body, headers = refusal.status, refusal.body, refusal.headers
        self.calls.append(RecordedCall(method, args, token, status, body, implemented))
        async with self._condition:
            self._condition.notify_all()
        return web.json_response(body, status=status, headers=headers)

    def _answer(self, method: str, args: JSON, token: str | None) -> JSON:
        if method not in self._methods and method not in KNOWN_METHODS:
            raise Refusal("unknown_method", req_method=method)
        if self._server_faults:
            status = self._server_faults.popleft()
            raise Refusal(_SERVER_ERRORS.get(status, "fatal_error"), status=status)
        for fault in self._ratelimit_faults:
            if fault[1] in (None, method):
                self._ratelimit_faults.remove(fault)
                raise ratelimited(fault[0])
        if not token:
            raise Refusal("not_authed")
        if token != self.bot_token:
            raise Refusal("invalid_auth")
        if self._error_faults.get(method):
            raise Refusal(self._error_faults[method].popleft())
        handler = self._methods.get(method)
        return handler(args) if handler is not None else {}

    # ---- shared rules -------------------------------------------------------------------------
    def _dm_id(self, user_id: str) -> str:
        return "D" + user_id[1:]

    def _channel(self, reference: str) -> SlackChannel:
        if reference in self.channels:
            return self.channels[reference]
        if reference in self.users:  # posting to a user id opens the bot's DM with them
            dm_id = self._dm_id(reference)
            return self.channels.setdefault(
                dm_id, SlackChannel(dm_id, reference, [reference, self.bot_user_id], True, True)
            )
        for channel in self.channels.values():
            if channel.name == reference.lstrip("#"):
                return channel
        raise Refusal("channel_not_found")

    def _find(self, channel_id: str, ts: str) -> SlackMessage:
        for message in self._messages:
            if message.channel == channel_id and message.ts == ts:
                return message
        raise Refusal("message_not_found")

    def _next_ts(self) -> str:
        micros = max(int(self.clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _check_post_rate(self, channel_id: str) -> None:
        """Token bucket per channel: ``post_message_per_second`` with ``post_message_burst``."""
        rate, burst = self.post_message_per_second, float(self.post_message_burst)
        if not self.rate_limits or rate <= 0:
            return
        now = self.clock()
        tokens, updated = self._buckets.get(channel_id, (burst, now))
        tokens = min(burst, tokens + (now - updated) * rate)
        if tokens < 1:
            self._buckets[channel_id] = (tokens, now)
            raise ratelimited(max(1, math.ceil((1 - tokens) / rate)))
        self._buckets[channel_id] = (tokens - 1, now)

    # ---- methods ------------------------------------------------------------------------------
    def _auth_test(self, args: JSON) -> JSON:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Strong Cities Network",
            "user": "scn-bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: JSON) -> JSON:
        require(args, "channel")
        channel = self._channel(str(args["channel"]))
        self._check_post_rate(channel.id)
        text, blocks = message_content(args)
        thread_ts = args.get("thread_ts") or None
        if thread_ts is not None:  # a reply to a reply joins the parent's thread, as in Slack
            parent = next((m for m in self._messages if m.ts == thread_ts), None)
            thread_ts = (parent.thread_ts or parent.ts) if parent is not None else str(thread_ts)
        message = SlackMessage(
            channel.id,
            self._next_ts(),
            text or "",
            blocks,
            self.bot_user_id,
            thread_ts,
            flag(args.get("reply_broadcast")),
            flag(args.get("mrkdwn", True)),
        )
        self._messages.append(message)
        return {"channel": channel.id, "ts": message.ts, "message": message.as_api(self.bot_id, self.team_id)}

    def _chat_update(self, args: JSON) -> JSON:
        require(args, "channel", "ts")
        channel = self._channel(str(args["channel"]))
        message = self._find(channel.id, str(args["ts"]))
        text, blocks = message_content(args)
        message.edits.append(SlackEdit(message.text, message.blocks, self.clock()))
        message.text = text if text is not None else message.text
        message.blocks = blocks if blocks is not None else message.blocks
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": message.as_api(self.bot_id, self.team_id),
        }

    def _chat_post_ephemeral(self, args: JSON) -> JSON:
        require(args, "channel", "user")
        channel, user = self._channel(str(args["channel"])), str(args["user"])
        if channel.members and user not in channel.members:
            raise Refusal("user_not_in_channel")
        text, blocks = message_content(args)
        ephemeral = SlackEphemeral(
            channel.id, user, text or "", blocks, args.get("thread_ts") or None, self._next_ts()
        )
        self.ephemerals.append(ephemeral)
        return {"message_ts": ephemeral.message_ts}

    def _chat_get_permalink(self, args: JSON) -> JSON:
        require(args, "channel", "message_ts")
        channel = self._channel(str(args["channel"]))
        message = self._find(channel.id, str(args["message_ts"]))
        archive = f"https://{self.team_domain}.slack.com/archives/{channel.id}"
        return {"channel": channel.id, "permalink": f"{archive}/p{message.ts.replace('.', '')}"}

    def _users_info(self, args: JSON) -> JSON:
        require(args, "user")
        user = self.users.get(str(args["user"]))
        if user is None:
            raise Refusal("user_not_found")
        now = datetime.now(ZoneInfo(user.tz))
        offset = now.utcoffset()
        shown: JSON = {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": False,
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": now.tzname(),
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_bot": user.is_bot,
            "is_admin": False,
            "is_app_user": False,
            "profile": {"real_name": user.real_name, "display_name": user.name, "team": self.team_id},
        }
        if flag(args.get("include_locale")):
            shown["locale"] = user.locale
        return {"user": shown}

    def _conversations_members(self, args: JSON) -> JSON:
        require(args, "channel")
        members = self._channel(str(args["channel"])).members
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        start = 0
        if args.get("cursor"):
            try:
                start = members.index(base64.b64decode(str(args["cursor"])).decode()[5:])
            except (ValueError, binascii.Error):
                raise Refusal("invalid_cursor") from None
        page = members[start : start + limit]
        rest = members[start + limit :]
        cursor = base64.b64encode(f"user:{rest[0]}".encode()).decode() if rest else ""
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_info(self, args: JSON) -> JSON:
        require(args, "channel")
        channel = self._channel(str(args["channel"]))
        return {
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "is_channel": not channel.is_im,
                "is_private": channel.is_private,
                "is_im": channel.is_im,
                "is_member": self.bot_user_id in channel.members,
                "num_members": len(channel.members),
                "created": 1_600_000_000,
            }
        }

    def _conversations_replies(self, args: JSON) -> JSON:
        require(args, "channel", "ts")
        channel = self._channel(str(args["channel"]))
        try:
            asked = self._find(channel.id, str(args["ts"]))
        except Refusal:
            raise Refusal("thread_not_found") from None
        thread = self.messages(channel.id, asked.thread_ts or asked.ts)
        shown = [m.as_api(self.bot_id, self.team_id) for m in thread]
        if len(thread) > 1:
            shown[0].update(
                thread_ts=thread[0].ts,
                reply_count=len(thread) - 1,
                reply_users=sorted({m.user for m in thread[1:]}),
                latest_reply=thread[-1].ts,
            )
        return {"messages": shown, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _views_open(self, args: JSON) -> JSON:
        return {"view": self._views.open(args).as_api(self.team_id, self.app_id, self.bot_id)}

    def _views_push(self, args: JSON) -> JSON:
        return {"view": self._views.open(args, pushed=True).as_api(self.team_id, self.app_id, self.bot_id)}

    def _views_update(self, args: JSON) -> JSON:
        return {"view": self._views.update(args).as_api(self.team_id, self.app_id, self.bot_id)}

    def _reactions_add(self, args: JSON) -> JSON:
        require(args, "channel", "timestamp", "name")
        message = self._find(self._channel(str(args["channel"])).id, str(args["timestamp"]))
        users = message.reactions.setdefault(str(args["name"]), [])
        if self.bot_user_id in users:
            raise Refusal("already_reacted")
        users.append(self.bot_user_id)
        return {}
