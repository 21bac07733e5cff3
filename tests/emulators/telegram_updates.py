"""The Telegram emulator's update queue: updates wait here until the bot takes them, either by
long polling (getUpdates) or by the emulator POSTing them to the bot's webhook.

Why a module of its own: how updates reach the bot is a rule set separate from the methods the bot
calls. Promised, as on api.telegram.org: updates keep their order; a newer getUpdates ends an
older one with 409; getUpdates while a webhook is set is a 409; ``allowed_updates`` filters what
is handed out (by default without chat_member and reactions); a failed webhook delivery stays
queued and is reported by getWebhookInfo; webhooks are POSTed only to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.emulators.telegram_records import WebhookDelivery
from tests.emulators.telegram_spec import BotApiError, bad_request

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLLING_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_DEFAULT_EXCLUDED = {"chat_member", "message_reaction", "message_reaction_count"}
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class UpdateQueue:
    """Pending updates and the two ways out of the queue. ``activity`` is notified whenever a long
    poll parks or leaves, so the emulator's waiting helpers can see ``poller_waiting`` change."""

    def __init__(self, activity: asyncio.Condition) -> None:
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.post_listeners: list[Callable[[dict[str, Any]], None]] = []  # before each webhook POST
        self.webhook_url: str | None = None
        self.poller_waiting = False
        self._activity = activity
        self._webhook_secret: str | None = None
        self._pending: list[dict[str, Any]] = []
        self._next_update_id = 700_000_001
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._last_webhook_error: tuple[int, str] | None = None
        self._updates_changed = asyncio.Condition()
        self._delivery_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self._closing = False
        self._session: aiohttp.ClientSession | None = None

    @property
    def pending_update_count(self) -> int:
        return len(self._pending)

    def open(self) -> None:
        """Create the HTTP session webhook deliveries use; call from a running event loop."""
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Release parked long polls, finish deliveries in flight, then close the session."""
        self._closing = True
        async with self._updates_changed:
            self._updates_changed.notify_all()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a copy of ``update`` with the next update_id; in webhook mode it is POSTed before
        this returns. The returned copy is what the bot receives."""
        update = copy.deepcopy(update)
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        self._pending.append(update)
        async with self._updates_changed:
            self._updates_changed.notify_all()
        if self.webhook_url:
            await self._deliver_pending()
        return copy.deepcopy(update)

    # -- Bot API methods --------------------------------------------------------------------

    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
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

    async def set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        if not url:
            return await self.delete_webhook(params)
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

    async def delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = self._webhook_secret = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
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

    # -- delivery ---------------------------------------------------------------------------

    async def _set_poller_waiting(self, waiting: bool) -> None:
        self.poller_waiting = waiting
        async with self._activity:
            self._activity.notify_all()

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED
        return kind in self._allowed_updates

    async def _deliver_pending(self) -> None:
        """POST queued updates in order; a failed delivery stays queued for the next attempt."""
        async with self._delivery_lock:
            while self._pending and self.webhook_url and self._session and not self._closing:
                update = self._pending[0]
                if not self._allowed(update):
                    self._pending.pop(0)
                    continue
                for listener in self.post_listeners:
                    listener(update)
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
