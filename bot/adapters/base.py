"""The adapter protocol. Adding a platform means one new module in `bot/adapters/` implementing it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeAlias

from bot.messages import Incoming, Reply

Handle: TypeAlias = Callable[[Incoming], Awaitable[list[Reply]]]
MAX_BODY_NESTING = 64  # deeper than any real update or interaction payload; json would recurse on it


def json_nesting(text: str | bytes) -> int:
    """Bracket depth of a JSON text, read without parsing it (json.loads recurses and can overflow).
    Brackets inside strings do not count; in form-encoded bodies, %5B and %7B count as brackets."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if "%5B" in text or "%7B" in text or "%5b" in text or "%7b" in text:
        from urllib.parse import unquote_plus

        text = unquote_plus(text)
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


class Adapter(Protocol):
    """A platform connection. It receives `handle` (the dispatcher) when built, never the app object."""

    platform: str

    async def start(self) -> None:
        """Begin receiving events (returns once receiving is under way)."""
        ...

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, reply: Reply) -> str:
        """Deliver `reply` to `chat_id` outside a conversation turn; returns the platform message id.

        Raises the neutral errors of `bot.delivery.errors` so the outbox can retry or give up.
        """
        ...

    async def healthy(self) -> bool: ...
