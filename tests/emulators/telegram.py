"""A local Telegram Bot API server that the real python-telegram-bot talks to unchanged.

Point PTB at it with ``Bot(token, base_url=emu.base_url, base_file_url=emu.base_file_url)``.
Requests are validated against the vendored Bot API description (telegram_spec), flood limits
and injected faults come from telegram_limits, and the answers have the shapes, statuses and
descriptions of api.telegram.org, so PTB raises the same exceptions it raises in production.

Test code plays the users: ``send_text``, ``send_command``, ``press_button`` and ``send_update``
queue updates for getUpdates or POST them to the webhook; ``sent_messages`` and
``wait_for_messages`` show what the bot sent. Waiting uses an ``asyncio.Condition``.
"""

# The waiting helpers take ``timeout=`` on purpose: tests read better with a bound in the call.
# ruff: noqa: ASYNC109
from __future__ import annotations

import asyncio
import copy
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.emulators.telegram_limits import (
    Clock,
    FaultPlan,
    RateLimiter,
    TelegramLimits,
    check_reply_markup,
    checked_text,
    is_sending_method,
    retry_after_seconds,
)
from tests.emulators.telegram_spec import (
    BotApiError,
    BotApiSpec,
    UploadedFile,
    bad_request,
    read_params,
    utf16_length,
)

DEFAULT_TOKEN = "7012345678:AAHscnEmulatorTestToken0123456789abcd"
DEFAULT_BOT_USERNAME = "scn_test_bot"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLLING_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_DEFAULT_EXCLUDED = {"chat_member", "message_reaction", "message_reaction_count"}
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class TgUser:
    """A simulated Telegram user (a focal point, usually)."""

    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None

    def as_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass(frozen=True)
class TgChat:
    id: int
    type: str  # private, group, supergroup, channel
    title: str | None = None
    first_name: str | None = None
    username: str | None = None

    def as_dict(self) -> dict[str, Any]:
        fields = {"title": self.title, "first_name": self.first_name, "username": self.username}
        return {"id": self.id, "type": self.type} | {k: v for k, v in fields.items() if v}


@dataclass(frozen=True)
class MessageVersion:
    """The content a message had before an edit."""

    text: str | None
    plain_text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None


@dataclass
class SentMessage:
    """A message the bot sent; ``text`` is the text or caption as sent, ``plain_text`` what the
    reader sees, ``edits`` the earlier versions oldest first."""

    message_id: int
    chat_id: int
    method: str
    text: str | None
    plain_text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    date: int
    document_filename: str | None = None
    document_bytes: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)
    edits: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Inline keyboard rows as (label, callback_data or url)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            [(b.get("text", ""), str(b.get("callback_data", b.get("url", "")))) for b in row] for row in rows
        ]

    @property
    def callback_data(self) -> list[str]:
        return [
            b["callback_data"]
            for row in (self.reply_markup or {}).get("inline_keyboard", [])
            for b in row
            if "callback_data" in b
        ]


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, Any]
    status: int
    description: str | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    update_id: int
    url: str
    status: int  # 0 when the webhook could not be reached
    error: str | None = None


@dataclass
class _StoredFile:
    file_id: str
    filename: str
    content: bytes
    mime_type: str


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
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.webhook_url: str | None = None
        self._webhook_secret: str | None = None
        self._chats: dict[int, TgChat] = {}
        self._messages: list[SentMessage] = []
        self._message_ids: dict[int, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._pending: list[dict[str, Any]] = []
        self._next_update_id = 700_000_001
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self.poller_waiting = False
        self._last_webhook_error: tuple[int, str] | None = None
        self._updates_changed = asyncio.Condition()
        self._activity = asyncio.Condition()
        self._delivery_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0
        self._handlers: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "senddocument": self._send_document,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "getfile": self._get_file,
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
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        self._closing = True
        async with self._updates_changed:
            self._updates_changed.notify_all()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
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
        self._files[file_id] = _StoredFile(file_id, filename, content, mime_type)

    async def send_text(self, user: TgUser, text: str, chat: TgChat | None = None) -> dict[str, Any]:
        """The user types ``text``; bot commands and @mentions get their entities."""
        if chat is None and user.id not in self._chats:
            self.user(user.id, user.first_name, user.language_code, user.username)
        target = chat or self._chats[user.id]
        message: dict[str, Any] = {
            "message_id": self._new_message_id(target.id),
            "from": user.as_dict(),
            "chat": target.as_dict(),
            "date": int(time.time()),
            "text": text,
        }
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
                    "message": self._message_dict(message),
                    "chat_instance": str(-(abs(message.chat_id) * 7919 % 10**18)),
                    "data": callback_data,
                }
            }
        )

    async def send_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw Update (e.g. a recorded fixture) with the next update_id; in webhook
        mode it is POSTed before this returns. The returned copy is what the bot receives."""
        update = copy.deepcopy(update)
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        if query := update.get("callback_query"):
            self._callback_queries[str(query["id"])] = False
        self._pending.append(update)
        async with self._updates_changed:
            self._updates_changed.notify_all()
        if self.webhook_url:
            await self._deliver_pending()
        return copy.deepcopy(update)

    # -- what the bot did -------------------------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        return [m for m in self._messages if chat_id is None or m.chat_id == chat_id]

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
        return len(self._pending)

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
        for stored in self._files.values():
            if _file_path(stored) == path:
                return web.Response(body=stored.content, content_type=stored.mime_type)
        return web.json_response(BotApiError(404, "Not Found").payload(), status=404)

    async def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
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

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise BotApiError(409, WEBHOOK_CONFLICT)
        self._poll_generation += 1
        generation = self._poll_generation
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = min(max(int(params.get("timeout", 0)), 0), 50)
        if "allowed_updates" in params:
            self._allowed_updates = set(params["allowed_updates"]) or None
        offset = params.get("offset")
        if offset is not None and offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset is not None and offset < 0:
            self._pending = self._pending[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._updates_changed:
            self._updates_changed.notify_all()  # an older poller is now terminated
            while True:
                if generation != self._poll_generation:
                    raise BotApiError(409, POLLING_CONFLICT)
                if self.webhook_url:
                    raise BotApiError(409, WEBHOOK_CONFLICT)
                self._pending = [u for u in self._pending if self._allowed(u)]
                remaining = deadline - loop.time()
                if self._pending or self._closing or remaining <= 0:
                    return copy.deepcopy(self._pending[:limit])
                await self._set_poller_waiting(True)
                try:
                    await asyncio.wait_for(self._updates_changed.wait(), remaining)
                except TimeoutError:
                    pass
                finally:
                    await self._set_poller_waiting(False)

    async def _set_poller_waiting(self, waiting: bool) -> None:
        self.poller_waiting = waiting
        async with self._activity:
            self._activity.notify_all()

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED
        return kind in self._allowed_updates

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        if not url:
            return await self._delete_webhook(params)
        if urlsplit(url).scheme not in ("http", "https"):
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self._allowed_updates = set(params["allowed_updates"]) or None
        self.webhook_url, self._webhook_secret = url, secret
        async with self._updates_changed:
            self._updates_changed.notify_all()
        task = asyncio.create_task(self._deliver_pending())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = self._webhook_secret = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info |= {"max_connections": 40, "ip_address": "127.0.0.1"}
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        if self._last_webhook_error:
            info["last_error_date"], info["last_error_message"] = self._last_webhook_error
        return info

    async def _deliver_pending(self) -> None:
        """POST queued updates in order; a failed delivery stays queued for the next attempt."""
        async with self._delivery_lock:
            while self._pending and self.webhook_url and self._session and not self._closing:
                update = self._pending[0]
                if not self._allowed(update):
                    self._pending.pop(0)
                    continue
                status, error = await self._post_webhook(self.webhook_url, update)
                self.webhook_deliveries.append(
                    WebhookDelivery(update["update_id"], self.webhook_url, status, error)
                )
                if not 200 <= status < 300:
                    self._last_webhook_error = (int(time.time()), error or f"HTTP {status}")
                    return
                self._pending.pop(0)

    async def _post_webhook(self, url: str, update: dict[str, Any]) -> tuple[int, str | None]:
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            return 0, "the emulator delivers only to 127.0.0.1"
        headers = {"X-Telegram-Bot-Api-Secret-Token": self._webhook_secret} if self._webhook_secret else {}
        assert self._session is not None
        try:
            async with self._session.post(
                url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as answer:
                return answer.status, None if answer.status < 300 else answer.reason
        except (aiohttp.ClientError, TimeoutError) as err:
            return 0, f"Connection failed: {err!r}"

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        plain = checked_text(self.limits, params["text"], params.get("parse_mode"))
        sent = self._new_sent("sendMessage", params, params["text"], plain)
        return self._message_dict(sent)

    async def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        plain = (
            checked_text(self.limits, caption, params.get("parse_mode"), caption=True) if caption else None
        )
        document = params["document"]
        if isinstance(document, UploadedFile):
            stored = _StoredFile(
                f"BQACAgIAAxkDAAI{len(self._files) + 1:05d}emu",
                document.filename,
                document.content,
                document.content_type,
            )
            self._files[stored.file_id] = stored
        elif document in self._files:
            stored = self._files[document]
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        sent = self._new_sent("sendDocument", params, caption, plain)
        sent.document_filename, sent.document_bytes = stored.filename, stored.content
        sent.params["document"] = stored.file_id
        return self._message_dict(sent)

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        sent = self._find_message(params, "message to edit not found")
        key = "text" if sent.method == "sendMessage" else "caption"
        if key == "text" and "text" not in params:
            raise bad_request("message text is empty")
        text = params.get(key)
        plain = (
            checked_text(self.limits, text, params.get("parse_mode"), caption=key == "caption")
            if text
            else None
        )
        return self._apply_edit(sent, text, plain, params.get("parse_mode"), params.get("reply_markup"))

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        sent = self._find_message(params, "message to edit not found")
        return self._apply_edit(sent, sent.text, sent.plain_text, sent.parse_mode, params.get("reply_markup"))

    def _apply_edit(
        self,
        sent: SentMessage,
        text: str | None,
        plain: str | None,
        parse_mode: str | None,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Like Telegram, an edit without reply_markup removes the inline keyboard."""
        if (text, parse_mode, markup) == (sent.text, sent.parse_mode, sent.reply_markup):
            raise bad_request(
                "message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup "
                "of the message"
            )
        sent.edits.append(MessageVersion(sent.text, sent.plain_text, sent.parse_mode, sent.reply_markup))
        sent.text, sent.plain_text, sent.parse_mode, sent.reply_markup = (text, plain, parse_mode, markup)
        return self._message_dict(sent) | {"edit_date": int(time.time())}

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        self._find_message(params, "message to delete not found").deleted = True
        return True

    def _find_message(self, params: dict[str, Any], not_found: str) -> SentMessage:
        for sent in self._messages:
            if (sent.chat_id, sent.message_id) == (
                params.get("chat_id"),
                params.get("message_id"),
            ) and not sent.deleted:
                return sent
        raise bad_request(not_found)

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

    async def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(params["file_id"])
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_id[-12:],
            "file_size": len(stored.content),
            "file_path": _file_path(stored),
        }

    async def _plausible_answer(self, method: str, params: dict[str, Any], chat: TgChat | None) -> Any:
        """Methods not modelled answer ok with a minimal result of the documented type."""
        spec = self.spec.method(method)
        returns = spec.returns if spec else ("True",)
        if "Message" in returns and chat is not None and "message_id" not in params:
            caption = params.get("caption")
            sent = self._new_sent(method, params, caption, caption)
            return self._message_dict(sent)
        if "Boolean" in returns:
            return True
        result = self.spec.plausible(returns[0])
        if returns[0] == "ChatFullInfo" and chat is not None:
            result |= chat.as_dict()
        return result

    # -- message bookkeeping ------------------------------------------------------------------

    def _new_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _new_sent(
        self, method: str, params: dict[str, Any], text: str | None, plain: str | None
    ) -> SentMessage:
        chat_id = params["chat_id"]
        sent = SentMessage(
            self._new_message_id(chat_id),
            chat_id,
            method,
            text,
            plain,
            params.get("parse_mode"),
            params.get("reply_markup"),
            int(time.time()),
            params={k: v for k, v in params.items() if not isinstance(v, UploadedFile)},
        )
        self._messages.append(sent)
        return sent

    def _message_dict(self, sent: SentMessage) -> dict[str, Any]:
        """The Message object Telegram returns for a bot's message (PTB de-jsons it)."""
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "from": self.bot_user,
            "chat": self._resolve_chat(sent.chat_id).as_dict(),
            "date": sent.date,
        }
        if sent.method == "sendMessage":
            message["text"] = sent.plain_text
        elif sent.plain_text:
            message["caption"] = sent.plain_text
        if sent.document_filename is not None and sent.document_bytes is not None:
            file_id = str(sent.params.get("document", ""))
            message["document"] = {
                "file_id": file_id,
                "file_unique_id": file_id[-12:],
                "file_name": sent.document_filename,
                "file_size": len(sent.document_bytes),
            }
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        return message


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


def _file_path(stored: _StoredFile) -> str:
    return f"documents/{stored.file_id}/{stored.filename}"
