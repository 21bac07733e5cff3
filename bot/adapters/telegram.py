"""The Telegram adapter, on python-telegram-bot: polling for development, a webhook for production.

Updates become `Incoming` (telegram_updates), replies become HTML messages with inline keyboards
(telegram_render). `send` is the outbox's way out and maps Telegram's errors to the neutral delivery
errors. Each chat's updates are handled in arrival order; different chats run concurrently.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import secrets
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlparse

from aiohttp import web
from telegram import BotCommand, InputFile, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.adapters.base import MAX_BODY_NESTING, Handle, json_nesting
from bot.adapters.telegram_render import render
from bot.adapters.telegram_updates import PLATFORM, to_incoming, well_formed
from bot.adapters.web import WebServer
from bot.delivery.errors import (
    DeliveryError,
    PermanentFailure,
    RateLimited,
    RecipientGone,
    TransientFailure,
)
from bot.messages import Incoming, Reply
from bot.payloads import PayloadStore

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "channel_post"]
DIRECT_REPLY_ATTEMPTS = 3
MAX_DIRECT_WAIT_S = 30.0
CommandMenus = Callable[[], Mapping[str, Sequence[tuple[str, str]]]]


def retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def neutral_error(error: TelegramError) -> DeliveryError:
    """Telegram's error -> what the outbox should do about it."""
    if isinstance(error, RetryAfter):
        return RateLimited(retry_seconds(error), str(error))
    if isinstance(error, Forbidden):
        return RecipientGone(error.message)
    if isinstance(error, BadRequest):  # before NetworkError: BadRequest is a subclass of it
        return PermanentFailure(error.message)
    if isinstance(error, NetworkError):
        return TransientFailure(error.message)
    return PermanentFailure(str(error))


class TelegramAdapter:
    platform = PLATFORM

    def __init__(
        self,
        token: str,
        handle: Handle,
        payloads: PayloadStore,
        *,
        base_url: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        web_server: WebServer | None = None,
        command_menus: CommandMenus | None = None,
        default_language: str = "en",
        concurrency: int = 16,
    ) -> None:
        if webhook_url and web_server is None:
            raise ValueError("webhook mode needs the web server")
        # python-telegram-bot's documented opt-in (read at call time): time periods as timedelta.
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        self._handle = handle
        self._payloads = payloads
        self._webhook_url = webhook_url
        self._secret = webhook_secret or secrets.token_urlsafe(32)
        self._web = web_server
        self._menus = command_menus
        self._default_language = default_language
        self._chat_locks: weakref.WeakValueDictionary[str, _Lock] = weakref.WeakValueDictionary()
        builder: ApplicationBuilder = Application.builder().token(token).job_queue(None)  # type: ignore[type-arg]
        builder = builder.concurrent_updates(concurrency)
        if base_url:
            builder = builder.base_url(base_url).base_file_url(base_url.replace("/bot", "/file/bot", 1))
        if webhook_url:
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self._bot_username = ""

    async def start(self) -> None:
        await self.application.initialize()
        self._bot_username = self.application.bot.username or ""
        await self._register_menus()
        if self._webhook_url:
            assert self._web is not None
            self._web.add_post(urlparse(self._webhook_url).path or "/", self._webhook)
            await self.application.bot.set_webhook(
                self._webhook_url, secret_token=self._secret, allowed_updates=ALLOWED_UPDATES
            )
            await self.application.start()
            log.info("telegram adapter started mode=webhook")
        else:
            assert self.application.updater is not None
            await self.application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            await self.application.start()
            log.info("telegram adapter started mode=polling")

    @property
    def deep_link(self) -> str:
        """The link template that opens the bot with `/start {token}` (known once started)."""
        return f"https://t.me/{self._bot_username}?start={{token}}" if self._bot_username else ""

    async def stop(self) -> None:
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def healthy(self) -> bool:
        return bool(self.application.running)

    async def send(self, chat_id: str, reply: Reply) -> str:
        """Deliver `reply`; raises a neutral DeliveryError. Returns the last message id sent."""
        try:
            return await self._send(chat_id, reply)
        except TelegramError as error:
            raise neutral_error(error) from error

    async def _send(self, chat_id: str, reply: Reply, edit_message_id: str | None = None) -> str:
        bot = self.application.bot
        last = ""
        messages = await render(reply, self._payloads.shorten)
        for index, message in enumerate(messages):
            if edit_message_id is not None and index == 0:
                await bot.edit_message_text(
                    message.html,
                    chat_id=chat_id,
                    message_id=int(edit_message_id),
                    parse_mode="HTML",
                    reply_markup=message.keyboard,
                )
                last = edit_message_id
                continue
            sent = await bot.send_message(
                chat_id, message.html, parse_mode="HTML", reply_markup=message.keyboard
            )
            last = str(sent.message_id)
        for attachment in reply.attachments:
            sent = await bot.send_document(
                chat_id, InputFile(attachment.content, filename=attachment.filename)
            )
            last = str(sent.message_id)
        return last

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
        incoming = to_incoming(update, self._bot_username)
        if incoming is None:
            return
        if incoming.button is not None:
            payload = await self._payloads.resolve(incoming.button)
            incoming = _with_button(incoming, payload if payload is not None else "expired:")
        lock = self._chat_locks.get(incoming.chat_id)
        if lock is None:
            lock = self._chat_locks[incoming.chat_id] = _Lock()
        async with lock:
            replies = await self._handle(incoming)
            await self._deliver_direct(incoming, update, replies)

    async def _deliver_direct(self, incoming: Incoming, update: Update, replies: list[Reply]) -> None:
        query = update.callback_query
        notice = next((r.notice for r in replies if r.notice), None)
        if query is not None:
            try:
                await query.answer(text=notice[:200] if notice else None)
            except TelegramError as error:
                log.warning("answerCallbackQuery failed: %s", type(error).__name__)
        for reply in replies:
            edit_id = incoming.message_id if reply.edit and query is not None else None
            if reply.text == "" and not reply.attachments:
                continue
            await self._send_with_patience(incoming.chat_id, reply, edit_id)

    async def _send_with_patience(self, chat_id: str, reply: Reply, edit_message_id: str | None) -> None:
        """A direct reply waits out a short rate limit instead of being dropped."""
        for attempt in range(DIRECT_REPLY_ATTEMPTS):
            try:
                await self._send(chat_id, reply, edit_message_id)
                return
            except RetryAfter as error:
                wait = retry_seconds(error)
                if wait > MAX_DIRECT_WAIT_S or attempt == DIRECT_REPLY_ATTEMPTS - 1:
                    log.warning("direct reply dropped after rate limit retry_after=%.0f", wait)
                    return
                await asyncio.sleep(wait)
            except BadRequest as error:
                if edit_message_id is not None and "not modified" not in error.message.lower():
                    edit_message_id = None  # the message cannot be edited: send a new one instead
                    continue
                log.warning("direct reply refused: %s", error.message)
                return
            except TelegramError as error:
                log.warning("direct reply failed: %s", type(error).__name__)
                return

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed", exc_info=context.error)

    async def _register_menus(self) -> None:
        if self._menus is None:
            return
        try:
            for language, commands in self._menus().items():
                listed = [BotCommand(name, description[:256]) for name, description in commands]
                code = None if language == self._default_language else language
                await self.application.bot.set_my_commands(listed, language_code=code)
        except TelegramError as error:  # self-hosted servers and emulators may lack the method
            log.warning("command menus not registered (%s); serving on", type(error).__name__)

    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            log.warning("webhook request refused: wrong or missing secret token")
            return web.Response(status=403)
        try:
            body = await request.read()
            if json_nesting(body) > MAX_BODY_NESTING:
                log.warning("webhook body nested deeper than %d levels", MAX_BODY_NESTING)
                return web.Response(status=400)
            data = json.loads(body)
        except web.HTTPRequestEntityTooLarge:
            log.warning("webhook body over the size limit")
            return web.Response(status=413)
        except (ValueError, UnicodeDecodeError):
            log.warning("webhook body is not JSON (%d bytes)", request.content_length or 0)
            return web.Response(status=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            log.warning("webhook body is not a Telegram update")
            return web.Response(status=400)
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:  # any shape PTB cannot read ({"message": 5}): not an update, so no retry
            log.warning("webhook update could not be read")
            return web.Response(status=400)
        if not well_formed(update):
            log.warning("webhook update has fields of the wrong type")
            return web.Response(status=400)
        await self.application.update_queue.put(update)
        return web.Response(status=200)


class _Lock:
    """An asyncio.Lock that can live in a WeakValueDictionary (forgotten when no update holds it)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()


def _with_button(incoming: Incoming, payload: str) -> Incoming:
    return replace(incoming, button=payload)
