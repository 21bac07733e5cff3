"""Wake-ups between the core and the scheduler: "there is work for job X", told when a transaction commits.

A handler that leaves work for a background job (a confirmed announcement to queue, a changed event to
re-time) calls `ctx.services.signals.notify_on_commit(session, JOBS_...)`; the scheduler waits on
`wakeup(name)` and runs the job at once instead of at its next tick. Nothing is lost if no scheduler
listens: the job also runs on its timer, and the database says what is due.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

JOBS_ANNOUNCEMENTS = "announcements"
JOBS_EVENTS = "events"
JOBS_MATCHING = "matching"
JOBS_INTRODUCTIONS = "introductions"
JOBS_KNOWLEDGE = "knowledge"


class Signals:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self._listeners: list[Callable[[str], None]] = []

    def wakeup(self, name: str) -> asyncio.Event:
        return self._events.setdefault(name, asyncio.Event())

    def listen(self, callback: Callable[[str], None]) -> None:
        """Also call `callback(name)` on every notification (the simulated clock's scheduler)."""
        self._listeners.append(callback)

    def notify(self, name: str) -> None:
        self.wakeup(name).set()
        for callback in self._listeners:
            callback(name)

    def notify_on_commit(self, session: AsyncSession, name: str) -> None:
        def committed(_session: Session) -> None:
            self.notify(name)

        event.listen(session.sync_session, "after_commit", committed, once=True)
