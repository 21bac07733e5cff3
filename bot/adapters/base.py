"""The adapter protocol. Adding a platform means one new module in `bot/adapters/` implementing it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeAlias

from bot.messages import Incoming, Reply

Handle: TypeAlias = Callable[[Incoming], Awaitable[list[Reply]]]


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
