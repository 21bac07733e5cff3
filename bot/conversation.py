"""Multi-step forms whose state lives in the database, so a restart in the middle loses nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.storage.conversation import ConversationState

DEFAULT_TTL = timedelta(days=7)


class Conversation:
    """The pending form step of one person: read once per message, written only when it changes."""

    def __init__(self, session: AsyncSession, person_id: int, clock: Clock) -> None:
        self._session = session
        self._person_id = person_id
        self._clock = clock
        self._state: ConversationState | None = None
        self._loaded = False
        self._preloaded = False

    def preload(self, state: ConversationState | None) -> None:
        """The state as read with the person (one query for both, `bot.identity`)."""
        if not self._loaded:
            self._state, self._loaded = state, False
            self._preloaded = True

    async def load(self) -> ConversationState | None:
        if not self._loaded:
            if self._preloaded:
                state = self._state
            else:
                state = await self._session.get(ConversationState, self._person_id)
            if state is not None and state.expires_at <= self._clock.now():
                await self._session.delete(state)
                state = None
            self._state = state
            self._loaded = True
        return self._state

    @property
    def flow(self) -> str | None:
        return self._state.flow if self._state else None

    @property
    def step(self) -> str | None:
        return self._state.step if self._state else None

    @property
    def data(self) -> dict[str, Any]:
        return dict(self._state.data) if self._state else {}

    async def start(
        self, flow: str, step: str, data: dict[str, Any] | None = None, ttl: timedelta = DEFAULT_TTL
    ) -> None:
        """Begin (or restart) a form, replacing any other pending one."""
        await self.load()
        now = self._clock.now()
        if self._state is None:
            self._state = ConversationState(
                person_id=self._person_id,
                flow=flow,
                step=step,
                data=dict(data or {}),
                updated_at=now,
                expires_at=now + ttl,
            )
            self._session.add(self._state)
        else:
            self._state.flow, self._state.step, self._state.data = flow, step, dict(data or {})
            self._state.updated_at, self._state.expires_at = now, now + ttl

    async def advance(self, step: str, **updates: Any) -> None:
        """Move to `step`, merging `updates` into the form's data."""
        state = await self.load()
        if state is None:
            raise RuntimeError("advance() without a pending form")
        state.step = step
        state.data = {**state.data, **updates}  # a new dict, so SQLAlchemy sees the change
        state.updated_at = self._clock.now()

    async def finish(self) -> None:
        state = await self.load()
        if state is not None:
            await self._session.delete(state)
            self._state = None
