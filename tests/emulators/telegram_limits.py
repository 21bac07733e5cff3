"""Telegram's flood limits and the faults a test can inject into the emulator.

Rates follow Telegram's Bot FAQ: about 30 messages per second overall (1000 with
``allow_paid_broadcast``), one per second in a chat with short bursts tolerated, and 20 per
minute in a group. They read an injectable monotonic clock, so a test steps time instead of
sleeping. A chat's burst allowance is a token bucket; "N per second/minute" are sliding
windows. Only sending methods count (see :func:`is_sending_method`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from tests.emulators.telegram_spec import BotApiError, bad_request, render_plain

Clock = Callable[[], float]

_SENDING_PREFIXES = ("send", "edit", "copymessage", "forwardmessage", "stoppoll")


def is_sending_method(method: str) -> bool:
    """Methods that put something in a chat: the ones flood limits and unscoped faults hit."""
    lowered = method.lower()
    return lowered.startswith(_SENDING_PREFIXES) and lowered != "sendchataction"


@dataclass
class TelegramLimits:
    """Every limit the emulator enforces; ``enabled=False`` switches all of them off."""

    enabled: bool = True
    max_text_length: int = 4096
    max_caption_length: int = 1024
    max_callback_data_bytes: int = 64
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    overall_per_second: float = 30.0
    paid_broadcast_per_second: float = 1000.0
    group_per_minute: float = 20.0

    @classmethod
    def off(cls) -> TelegramLimits:
        return cls(enabled=False)


class _TokenBucket:
    def __init__(self, capacity: float, per_second: float, now: float) -> None:
        self.capacity = max(1.0, capacity)
        self.per_second = per_second
        self.tokens = self.capacity
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.per_second

    def take(self) -> None:
        self.tokens -= 1.0


class _SlidingWindow:
    """At most ``limit`` sends in any ``period`` seconds: how "20 per minute" reads."""

    def __init__(self, limit: float, period: float) -> None:
        self.limit = max(1, int(limit))
        self.period = period
        self.sent: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.sent and self.sent[0] <= now - self.period:
            self.sent.popleft()
        return 0.0 if len(self.sent) < self.limit else self.sent[0] + self.period - now

    def record(self, now: float) -> None:
        self.sent.append(now)


def retry_after_seconds(wait: float) -> int:
    """Telegram announces whole seconds, never zero."""
    return max(1, math.ceil(wait - 1e-9))


class RateLimiter:
    """Admits or refuses one send; a refused send consumes nothing, as on Telegram."""

    def __init__(self, limits: TelegramLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._chats: dict[int | str, _TokenBucket] = {}
        self._groups: dict[int | str, _SlidingWindow] = {}
        self._overall = _SlidingWindow(limits.overall_per_second, 1.0)
        self._paid = _SlidingWindow(limits.paid_broadcast_per_second, 1.0)

    def admit(self, chat_id: int | str, *, paid: bool = False) -> float:
        """0.0 when the send may go now (and it is counted), else the seconds to wait."""
        limits = self.limits
        if not limits.enabled:
            return 0.0
        now = self._clock()
        chat = self._chats.setdefault(
            chat_id, _TokenBucket(limits.per_chat_burst, limits.per_chat_per_second, now)
        )
        windows = [self._paid if paid else self._overall]
        if isinstance(chat_id, int) and chat_id < 0:
            windows.append(self._groups.setdefault(chat_id, _SlidingWindow(limits.group_per_minute, 60.0)))
        wait = max([chat.wait(now)] + [window.wait(now) for window in windows])
        if wait > 0:
            return wait
        chat.take()
        for window in windows:
            window.record(now)
        return 0.0


_BUTTON_ACTIONS = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                   "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                   "copy_text", "callback_game", "pay")  # fmt: skip


def check_reply_markup(markup: dict[str, Any], limits: TelegramLimits) -> None:
    """Inline buttons need an action, and callback_data is 1-64 bytes (BUTTON_DATA_INVALID)."""
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not any(key in button for key in _BUTTON_ACTIONS):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            size = len(str(data).encode("utf-8")) if data is not None else 1
            if size < 1 or (limits.enabled and size > limits.max_callback_data_bytes):
                raise bad_request("BUTTON_DATA_INVALID")


def checked_text(limits: TelegramLimits, text: str, parse_mode: str | None, *, caption: bool = False) -> str:
    """The plain text of a message or caption, refused when empty or longer than allowed."""
    plain = render_plain(text, parse_mode)
    if not caption and not plain.strip():
        raise bad_request("message text is empty")
    limit = limits.max_caption_length if caption else limits.max_text_length
    if limits.enabled and len(plain) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return plain


@dataclass
class Fault:
    """One injected misbehaviour, consumed ``remaining`` times by matching calls."""

    kind: str  # "error" answers ``error``; "drop" closes the connection unanswered
    remaining: int
    method: str | None  # lower-case method name; None means any sending method
    error: BotApiError | None = None

    def matches(self, method: str) -> bool:
        if self.method is None:
            return is_sending_method(method)
        return self.method == method.lower()


def _error_for(status: int, retry_after: int | None, description: str | None) -> BotApiError:
    if description is None:
        if status == 429:
            description = f"Too Many Requests: retry after {retry_after}"
        elif status == 403:
            description = "Forbidden: bot was blocked by the user"
        else:
            description = HTTPStatus(status).phrase
    return BotApiError(status, description, retry_after if status == 429 else None)


@dataclass
class FaultPlan:
    """Faults queued by test code. Faults without ``method`` hit sending methods only, so a
    background poller (getUpdates) or getMe never swallows them."""

    faults: list[Fault] = field(default_factory=list)
    blocked_chats: set[int | str] = field(default_factory=set)
    delays: dict[str | None, float] = field(default_factory=dict)

    def fail_next(
        self,
        n: int = 1,
        status: int = 429,
        retry_after: int = 2,
        *,
        method: str | None = None,
        description: str | None = None,
    ) -> None:
        error = _error_for(status, retry_after, description)
        self.faults.append(Fault("error", n, method and method.lower(), error))

    def server_error_next(self, n: int = 1, status: int = 502, *, method: str | None = None) -> None:
        self.faults.append(Fault("error", n, method and method.lower(), _error_for(status, None, None)))

    def drop_next(self, n: int = 1, *, method: str | None = None) -> None:
        self.faults.append(Fault("drop", n, method and method.lower()))

    def slow(self, seconds: float, *, method: str | None = None) -> None:
        self.delays[method and method.lower()] = seconds

    def delay_for(self, method: str) -> float:
        scoped = self.delays.get(method.lower())
        if scoped is not None:
            return scoped
        return self.delays.get(None, 0.0) if is_sending_method(method) else 0.0

    def take(self, method: str) -> Fault | None:
        """The fault this call suffers, if any, counting it down."""
        for fault in self.faults:
            if fault.matches(method):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()
        self.blocked_chats.clear()
        self.delays.clear()
