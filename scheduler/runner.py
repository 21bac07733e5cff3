"""The scheduler: APScheduler's AsyncIOScheduler holding the timers, rebuilt from the database at start.

Two kinds of work: periodic jobs (`scheduler.jobs.Job`: queue confirmed announcements, expire what
has expired) and timers from sources (`TimerSource`: one timer per reminder due, each with a stable
id). The database is the source of truth: at start every source is asked for its timers, and asked
again whenever its signal says something changed (an edited event), so APScheduler only ever holds a
copy. Timed runs happen on the leading instance (`scheduler.leader`); a job's signal runs it at once
wherever it was raised.

`VirtualScheduler` is the same book of jobs and timers on a simulated clock: nothing runs until
`advance_to` is told the time, and then everything due runs in time order, at its own instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import FakeClock
from bot.services import Services
from scheduler.jobs import Job
from scheduler.leader import Leadership

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timer:
    """Run `run` at `at`; `id` is stable (the same reminder always has the same id) and starts with
    its source's name and a colon."""

    id: str
    at: datetime
    run: Callable[[Services], Awaitable[int]]


class TimerSource(Protocol):
    name: str
    signal: str | None

    async def timers(self, services: Services) -> list[Timer]:
        """Every timer this source wants now, read from the database."""
        ...


class JobScheduler:
    """Real time: APScheduler's AsyncIOScheduler, led through `Leadership`."""

    def __init__(self, services: Services, jobs: Sequence[Job], sources: Sequence[TimerSource] = ()) -> None:
        self.services = services
        self.jobs = list(jobs)
        self.sources = list(sources)
        self.leadership = Leadership(services.database)
        self.aps = AsyncIOScheduler(timezone="UTC")
        self._tasks: list[asyncio.Task[None]] = []
        self._locks: dict[str, asyncio.Lock] = {}
        self._timer_ids: dict[str, set[str]] = {}

    async def start(self) -> None:
        await self.leadership.try_lead()
        self.aps.start()
        for job in self.jobs:
            self.aps.add_job(
                self.run_job, IntervalTrigger(seconds=job.every.total_seconds()), args=[job, True],
                id=f"job:{job.name}", coalesce=True, max_instances=1, replace_existing=True,
            )  # fmt: skip
            if job.signal:
                self._tasks.append(asyncio.create_task(self._on_signal(job.signal, self._job_runner(job))))
        for source in self.sources:
            if source.signal:
                self._tasks.append(
                    asyncio.create_task(self._on_signal(source.signal, self._rebuilder(source)))
                )
        if not self.services.database.is_sqlite:
            self._tasks.append(asyncio.create_task(self._follow_leadership()))
        await self.rebuild()
        for job in self.jobs:  # resume what a stop interrupted
            await self.run_job(job, True)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.aps.running:
            self.aps.shutdown(wait=False)  # runs on the event loop's next turn
            await asyncio.sleep(0)
        await self.leadership.release()

    async def rebuild(self) -> int:
        """Read every source's timers again; returns how many timers are held."""
        total = 0
        for source in self.sources:
            total += await self._rebuild_source(source)
        return total

    async def _rebuild_source(self, source: TimerSource) -> int:
        timers = await source.timers(self.services)
        wanted = {timer.id for timer in timers}
        for stale in self._timer_ids.get(source.name, set()) - wanted:
            with contextlib.suppress(Exception):
                self.aps.remove_job(stale)
        for timer in timers:
            self.aps.add_job(
                self._run_timer, DateTrigger(run_date=timer.at), args=[timer], id=timer.id,
                replace_existing=True, misfire_grace_time=None, coalesce=True,
            )  # fmt: skip
        self._timer_ids[source.name] = wanted
        return len(timers)

    async def run_job(self, job: Job, timed: bool = False) -> int:
        if timed and job.leader_only and not self.leadership.is_leader:
            return 0
        lock = self._locks.setdefault(job.name, asyncio.Lock())
        async with lock:
            try:
                return await job.run(self.services)
            except Exception:
                log.exception("job %s failed; it runs again at its next turn", job.name)
                return 0

    async def _run_timer(self, timer: Timer) -> None:
        if not self.leadership.is_leader:
            return
        try:
            await timer.run(self.services)
        except Exception:
            log.exception("timer %s failed", timer.id)

    def _job_runner(self, job: Job) -> Callable[[], Awaitable[object]]:
        return lambda: self.run_job(job)

    def _rebuilder(self, source: TimerSource) -> Callable[[], Awaitable[object]]:
        return lambda: self._rebuild_source(source)

    async def _on_signal(self, name: str, action: Callable[[], Awaitable[object]]) -> None:
        wakeup = self.services.signals.wakeup(name)
        while True:
            await wakeup.wait()
            wakeup.clear()
            try:
                await action()
            except Exception:
                log.exception("work for signal %s failed", name)

    async def _follow_leadership(self) -> None:
        was_leader = self.leadership.is_leader
        while True:
            await asyncio.sleep(self.leadership.retry_seconds)
            leads = await self.leadership.try_lead()
            if leads and not was_leader:  # took over from a leader that died: catch up
                await self.rebuild()
                for job in self.jobs:
                    await self.run_job(job, True)
            was_leader = leads


class VirtualScheduler:
    """The same jobs and timers on a `FakeClock` that only moves when told (the simulated console, tests)."""

    def __init__(
        self, services: Services, clock: FakeClock, jobs: Sequence[Job], sources: Sequence[TimerSource] = ()
    ) -> None:
        self.services = services
        self.clock = clock
        self.jobs = list(jobs)
        self.sources = list(sources)
        self._next_run = {job.name: clock.now() for job in self.jobs}
        self._timers: dict[str, Timer] = {}
        self._kicked: set[str] = set()
        services.signals.listen(self._kick)

    def _kick(self, name: str) -> None:
        self._kicked.add(name)

    async def start(self) -> None:
        await self.rebuild()
        await self.settle()

    async def stop(self) -> None:
        return None

    async def rebuild(self) -> int:
        self._timers = {}
        for source in self.sources:
            for timer in await source.timers(self.services):
                self._timers[timer.id] = timer
        return len(self._timers)

    def next_timer(self) -> datetime | None:
        return min((timer.at for timer in self._timers.values()), default=None)

    async def settle(self) -> int:
        """Run what signals asked for and what is due now; returns how many runs there were."""
        runs = 0
        while True:
            kicked, self._kicked = self._kicked, set()
            for source in self.sources:
                if source.signal in kicked:
                    await self._refresh(source)
            now = self.clock.now()
            due_jobs = [j for j in self.jobs if j.signal in kicked or self._next_run[j.name] <= now]
            due_timers = sorted((t for t in self._timers.values() if t.at <= now), key=lambda t: (t.at, t.id))
            if not due_jobs and not due_timers:
                return runs
            for timer in due_timers:
                self._timers.pop(timer.id, None)
                await timer.run(self.services)
                runs += 1
            for job in due_jobs:
                self._next_run[job.name] = max(self._next_run[job.name], now) + job.every
                await job.run(self.services)
                runs += 1

    async def advance_to(
        self, moment: datetime, between: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Move the clock to `moment`, stopping at each timer's instant to run it there (and
        `between()`, the deliveries, after each stop). Periodic jobs run at most once a stop, as
        APScheduler coalesces the runs a sleeping process missed."""
        while True:
            due = self.next_timer()
            if due is None or due > moment:
                break
            if due > self.clock.now():
                self.clock.set(due)
            await self.settle()
            if between is not None:
                await between()
        if moment > self.clock.now():
            self.clock.set(moment)
        await self.settle()
        if between is not None:
            await between()

    async def _refresh(self, source: TimerSource) -> None:
        keep = {tid: t for tid, t in self._timers.items() if not tid.startswith(f"{source.name}:")}
        for timer in await source.timers(self.services):
            keep[timer.id] = timer
        self._timers = keep
