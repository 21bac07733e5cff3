"""A local Telegram Bot API server that the real python-telegram-bot talks to unchanged.

Point PTB at it with ``Bot(token, base_url=emu.base_url, base_file_url=emu.base_file_url)``.
Requests are validated against the vendored Bot API description (telegram_spec), flood limits
and injected faults come from telegram_limits, and the answers have the shapes, statuses and
descriptions of api.telegram.org, so PTB raises the same exceptions it raises in production.

Test code plays the users: ``send_text``, ``send_command``, ``press_button`` and ``send_update``
queue updates for getUpdates or POST them to the webhook; ``sent_messages`` and
``wait_for_messages`` show what the bot sent. Waiting uses an ``asyncio.Condition``. Code that must
react to each answered call or webhook delivery as it happens (a benchmark timing replies) adds a
callable to ``call_listeners`` or ``webhook_listeners`` instead of waiting.

This module holds the server, the request checks and the test-side API. The records tests read are
in telegram_records, the update queue (long polling and webhooks) in telegram_updates, and the
bot's messages and files in telegram_messages; the names tests import are re-exported here.
"""

# The waiting helpers take ``timeout=`` on purpose: tests read better with a bound in the call.
# ruff: noqa: ASYNC109
from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.emulators.telegram_limits import (
    Clock,
    FaultPlan,
    RateLimiter,
    TelegramLimits,
    check_reply_markup,
    is_sending_method,
    retry_after_seconds,
)
from tests.emulators.telegram_messages import BotMessages
from tests.emulators.telegram_records import (
    ApiCall,
    MessageVersion,
    SentMessage,
    StoredFile,
    TgChat,
    TgUser,
    WebhookDelivery,
)
from tests.emulators.telegram_spec import (
    BotApiError,
    BotApiSpec,
    bad_request,
    read_params,
    utf16_length,
)
from tests.emulators.telegram_updates import POLLING_CONFLICT, WEBHOOK_CONFLICT, UpdateQueue

__all__ = [
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "POLLING_CONFLICT",
    "WEBHOOK_CONFLICT",
    "ApiCall",
    "MessageVersion",
    "SentMessage",
    "TelegramEmulator",
    "TelegramLimits",
    "TgChat",
    "TgUser",
    "WebhookDelivery",
]

DEFAULT_TOKEN = "7012345678:AAHscnEmulatorTestToken0123456789abcd"
DEFAULT_BOT_USERNAME = "scn_test_bot"
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
CallListener = Callable[[ApiCall], None]


class TelegramEmulator:
    """The Bot API on 127.0.0.1 with a random port, plus the test-side controls."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_name: str = "SCN Assistant (test)",
        limits: TelegramLimits | None = None,
        clock: Clock | None = None,
        spec: BotApiSpec | None = None,
        strict_chats: bool = False,
    ) -> None:
        if not re.fullmatch(r"\d+:[\w-]+", token):
            raise ValueError(f"not a Telegram bot token: {token!r}")
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":")[0])
        self.bot_name = bot_name
        self.limits = limits or TelegramLimits()
        self.spec = spec or BotApiSpec.load()
        self.strict_chats = strict_chats
        self.rate_limiter = RateLimiter(self.limits, clock or time.monotonic)
        self.faults = FaultPlan()
        self.calls: list[ApiCall] = []
        self.call_listeners: list[CallListener] = []  # called with each answered call, as it is recorded
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._chats: dict[int, TgChat] = {}
        self._bot_messages = BotMessages(self.limits, lambda: self.bot_user, self._resolve_chat)
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._activity = asyncio.Condition()
        self._updates = UpdateQueue(self._activity)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._handlers: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._updates.get_updates,
            "setwebhook": self._updates.set_webhook,
            "deletewebhook": self._updates.delete_webhook,
            "getwebhookinfo": self._updates.get_webhook_info,
            "sendmessage": self._bot_messages.send_message,
            "senddocument": self._bot_messages.send_document,
            "editmessagetext": self._bot_messages.edit_message_text,
            "editmessagecaption": self._bot_messages.edit_message_text,
            "editmessagereplymarkup": self._bot_messages.edit_message_reply_markup,
            "deletemessage": self._bot_messages.delete_message,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "getfile": self._bot_messages.get_file,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._updates.open()

    async def stop(self) -> None:
        await self._updates.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> TelegramEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """PTB appends the token: requests arrive at ``{base_url}{token}/{method}``."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    @property
    def webhook_url(self) -> str | None:
        """The webhook setWebhook installed; None while the bot long-polls."""
        return self._updates.webhook_url

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return self._updates.webhook_deliveries

    @property
    def webhook_listeners(self) -> list[Callable[[dict[str, Any]], None]]:
        """Called with each update just before it is POSTed to the webhook (add to this list)."""
        return self._updates.post_listeners

    @property
    def poller_waiting(self) -> bool:
        """True while a getUpdates long poll is parked in the server."""
        return self._updates.poller_waiting

    # -- fault injection (see FaultPlan for scoping) -------------------------------------------

    def fail_next(
        self, n: int = 1, status: int = 429, retry_after: int = 2, *, method: str | None = None
    ) -> None:
        self.faults.fail_next(n, status, retry_after, method=method)

    def server_error_next(self, n: int = 1, status: int = 502, *, method: str | None = None) -> None:
        self.faults.server_error_next(n, status, method=method)

    def drop_next(self, n: int = 1, *, method: str | None = None) -> None:
        self.faults.drop_next(n, method=method)

    def slow(self, seconds: float, *, method: str | None = None) -> None:
        self.faults.slow(seconds, method=method)

    def block_chat(self, chat_id: int) -> None:
        self.faults.blocked_chats.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self.faults.blocked_chats.discard(chat_id)

    # -- simulated users ------------------------------------------------------------------------

    def user(
        self, user_id: int, first_name: str, language_code: str | None = None, username: str | None = None
    ) -> TgUser:
        """A user who has opened a private chat with the bot."""
        self._chats[user_id] = TgChat(user_id, "private", first_name=first_name, username=username)
        return TgUser(user_id, first_name, language_code, username)

    def group(self, chat_id: int, title: str) -> TgChat:
        kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
        chat = TgChat(chat_id, kind, title=title)
        self._chats[chat_id] = chat
        return chat

    def register_file(
        self,
        file_id: str,
        content: bytes,
        filename: str = "file.bin",
        mime_type: str = "application/octet-stream",
    ) -> None:
        """Make a file_id from a replayed fixture downloadable through getFile."""
        self._bot_messages.files[file_id] = StoredFile(file_id, filename, content, mime_type)

    async def send_text(
        self, user: TgUser, text: str, chat: TgChat | None = None, reply_to: SentMessage | None = None
    ) -> dict[str, Any]:
        """The user types ``text`` (as a reply to the bot's message ``reply_to``, when given); bot
        commands and @mentions get their entities."""
        if chat is None and user.id not in self._chats:
            self.user(user.id, user.first_name, user.language_code, user.username)
        target = chat or self._chats[user.id]
        message: dict[str, Any] = {
            "message_id": self._bot_messages.new_message_id(target.id),
            "from": user.as_dict(),
            "chat": target.as_dict(),
            "date": int(time.time()),
            "text": text,
        }
        if reply_to is not None:
            message["reply_to_message"] = self._bot_messages.as_message(reply_to)
        entities = _text_entities(text)
        if entities:
            message["entities"] = entities
        return await self.send_update({"message": message})

    async def send_command(
        self, user: TgUser, command: str, args: str = "", chat: TgChat | None = None
    ) -> dict[str, Any]:
        """``/command args``; in groups addressed as ``/command@bot`` as clients do."""
        addressed = f"@{self.bot_username}" if chat is not None and chat.type != "private" else ""
        text = f"/{command.lstrip('/')}{addressed}" + (f" {args}" if args else "")
        return await self.send_text(user, text, chat)

    async def press_button(self, user: TgUser, message: SentMessage, callback_data: str) -> dict[str, Any]:
        """The user taps an inline button the bot sent; unknown data is a test bug."""
        if callback_data not in message.callback_data:
            raise ValueError(
                f"message {message.message_id} has no button {callback_data!r}; "
                f"it has {message.callback_data}"
            )
        query_id = str(4_000_000_000_000_000 + len(self._callback_queries))
        return await self.send_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.as_dict(),
                    "message": self._bot_messages.as_message(message),
                    "chat_instance": str(-(abs(message.chat_id) * 7919 % 10**18)),
                    "data": callback_data,
                }
            }
        )

    async def send_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw Update (e.g. a recorded fixture) with the next update_id; in webhook
        mode it is POSTed before this returns. The returned copy is what the bot receives."""
        if query := update.get("callback_query"):
            self._callback_queries[str(query["id"])] = False
        return await self._updates.push(update)

    # -- what the bot did -------------------------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        if chat_id is None:
            return list(self._bot_messages.sent)
        return list(self._bot_messages.by_chat.get(chat_id, ()))

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[SentMessage]:
        """All messages in the chat once there are at least ``count`` of them."""
        await self._wait(
            lambda: len(self.sent_messages(chat_id)) >= count,
            timeout,
            lambda: (
                f"{count} message(s) in chat {chat_id}, got "
                f"{[m.plain_text for m in self.sent_messages(chat_id)]}"
            ),
        )
        return self.sent_messages(chat_id)

    async def wait_for(self, ready: Callable[[], bool], timeout: float = 5.0) -> None:
        """Return once ``ready()`` holds, re-checked after every API call the bot makes."""
        await self._wait(ready, timeout, lambda: "the condition")

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[ApiCall]:
        """All answered calls of ``method`` once there are at least ``count``."""

        def matching() -> list[ApiCall]:
            return [c for c in self.calls if c.method.lower() == method.lower()]

        await self._wait(
            lambda: len(matching()) >= count,
            timeout,
            lambda: f"{count} {method} call(s), got {len(matching())}",
        )
        return matching()

    async def _wait(self, ready: Callable[[], bool], timeout: float, expected: Callable[[], str]) -> None:
        async with self._activity:
            try:
                await asyncio.wait_for(self._activity.wait_for(ready), timeout)
            except TimeoutError:
                raise TimeoutError(f"waited {timeout}s for {expected()}") from None

    async def wait_for_poller(self, timeout: float = 5.0) -> None:
        """Return once a getUpdates long poll is parked in the server, waiting for updates."""
        await self._wait(lambda: self.poller_waiting, timeout, lambda: "a waiting getUpdates")

    @property
    def pending_update_count(self) -> int:
        return self._updates.pending_update_count

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        method = self.spec.method(name)
        canonical = method.name if method else name
        params: dict[str, Any] = {}
        try:
            wire, files = await read_params(request)
            params = dict(wire)
            if request.match_info["token"] != self.token:
                raise BotApiError(401, "Unauthorized")
            if method is None:
                raise BotApiError(404, "Not Found")
            delay = self.faults.delay_for(canonical)
            if delay > 0:
                await asyncio.sleep(delay)  # the server is slow; the test does not sleep
            fault = self.faults.take(canonical)
            if fault is not None and fault.kind == "drop":
                if request.transport is not None:
                    request.transport.close()
                await self._record(ApiCall(canonical, params, 0, "dropped"))
                return web.Response()
            if fault is not None and fault.error is not None:
                raise fault.error
            params = self.spec.parse_params(method, wire, files)
            result = await self._dispatch(canonical, params)
        except BotApiError as err:
            await self._record(ApiCall(canonical, params, err.status, err.description))
            return web.json_response(err.payload(), status=err.status)
        await self._record(ApiCall(canonical, params, 200))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(BotApiError(401, "Unauthorized").payload(), status=401)
        path = request.match_info["file_path"]
        stored = self._bot_messages.file_at(path)
        if stored is not None:
            return web.Response(body=stored.content, content_type=stored.mime_type)
        return web.json_response(BotApiError(404, "Not Found").payload(), status=404)

    async def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        for listener in self.call_listeners:
            listener(call)
        async with self._activity:
            self._activity.notify_all()

    async def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        chat: TgChat | None = None
        if "chat_id" in params and method.lower() not in ("getupdates",):
            chat = self._resolve_chat(params["chat_id"])
            params["chat_id"] = chat.id
            if chat.id in self.faults.blocked_chats:
                raise BotApiError(
                    403,
                    "Forbidden: bot was blocked by the user"
                    if chat.id > 0
                    else "Forbidden: bot was kicked from the group chat",
                )
        if "reply_markup" in params:
            check_reply_markup(params["reply_markup"], self.limits)
        if chat is not None and is_sending_method(method):
            wait = self.rate_limiter.admit(chat.id, paid=bool(params.get("allow_paid_broadcast")))
            if wait > 0:
                seconds = retry_after_seconds(wait)
                raise BotApiError(429, f"Too Many Requests: retry after {seconds}", seconds)
        handler = self._handlers.get(method.lower())
        if handler is not None:
            return await handler(params)
        return await self._plausible_answer(method, params, chat)

    def _resolve_chat(self, chat_id: int | str) -> TgChat:
        if isinstance(chat_id, str):
            for chat in self._chats.values():
                if chat.username and f"@{chat.username}".lower() == chat_id.lower():
                    return chat
            raise bad_request("chat not found")
        if chat_id not in self._chats:
            if self.strict_chats:
                raise bad_request("chat not found")
            self._chats[chat_id] = (
                TgChat(chat_id, "private", first_name=f"User {chat_id}")
                if chat_id > 0
                else TgChat(chat_id, "group", title=f"Group {chat_id}")
            )
        return self._chats[chat_id]

    # -- methods ---------------------------------------------------------------------------

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params["callback_query_id"])
        if self._callback_queries.get(query_id, True):
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        self._callback_queries[query_id] = True
        self.callback_answers.append(params)
        return True

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params["commands"]
        for command in commands:
            if not _BOT_COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be 1-256 characters")
        self.commands[_commands_key(params)] = [(c["command"], c["description"]) for c in commands]
        return True

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(_commands_key(params), None)
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return [{"command": c, "description": d} for c, d in self.commands.get(_commands_key(params), [])]

    async def _plausible_answer(self, method: str, params: dict[str, Any], chat: TgChat | None) -> Any:
        """Methods not modelled answer ok with a minimal result of the documented type."""
        spec = self.spec.method(method)
        returns = spec.returns if spec else ("True",)
        if "Message" in returns and chat is not None and "message_id" not in params:
            caption = params.get("caption")
            sent = self._bot_messages.record(method, params, caption, caption)
            return self._bot_messages.as_message(sent)
        if "Boolean" in returns:
            return True
        result = self.spec.plausible(returns[0])
        if returns[0] == "ChatFullInfo" and chat is not None:
            result |= chat.as_dict()
        return result


def _text_entities(text: str) -> list[dict[str, Any]]:
    entities = [("bot_command", m) for m in _COMMAND_RE.finditer(text)]
    entities += [("mention", m) for m in _MENTION_RE.finditer(text)]
    return [
        {"offset": utf16_length(text[: m.start()]), "length": utf16_length(m.group()), "type": kind}
        for kind, m in sorted(entities, key=lambda pair: pair[1].start())
    ]


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    parts = [str(scope["type"])] + [str(scope[k]) for k in ("chat_id", "user_id") if k in scope]
    return ":".join(parts), params.get("language_code", "")
