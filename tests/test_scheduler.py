"""The scheduler: APScheduler started by the composition root, jobs resumed at start and woken by
signals, one leader per PostgreSQL database, and the virtual scheduler of the simulated clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.storage.announcements import Announcement
from bot.storage.database import Database
from run_bot import build_scheduler
from scheduler.leader import Leadership
from scheduler.runner import JobScheduler
from tests.harness import StaffChat
from tests.people import add_focal_point


async def _status(app: BotApp) -> str | None:
    async with app.database.session() as session:
        return await session.scalar(select(Announcement.status))


async def test_apscheduler_resumes_at_start_and_runs_at_once_when_signalled(app: BotApp) -> None:
    await add_focal_point(app, "marie", "fr", ("Lisbon", "Portugal", "Europe"), platform="console")
    staff = StaffChat(app)
    await staff.submit("announce", text="Before the restart", audience="all")
    await staff.press(staff.buttons()["Send to 1"])  # confirmed; no scheduler ran
    assert await _status(app) == "sending"
    scheduler = build_scheduler(app)
    assert isinstance(scheduler, JobScheduler)
    await scheduler.start()
    try:
        assert scheduler.aps.running and scheduler.aps.get_job("job:announcements") is not None
        assert await _status(app) == "queued"  # resumed at start
        await staff.submit("announce", text="While running", audience="all")
        await staff.press(staff.buttons()["Send to 1"])
        for _ in range(100):  # the signal wakes the job: no need to wait for its minute
            async with app.database.session() as session:
                statuses = (
                    await session.scalars(select(Announcement.status).order_by(Announcement.id))
                ).all()
            if statuses == ["queued", "queued"]:
                break
            await asyncio.sleep(0.01)
        assert statuses == ["queued", "queued"]
    finally:
        await scheduler.stop()
    assert not scheduler.aps.running


async def test_a_failing_job_is_logged_and_the_scheduler_goes_on(
    app: BotApp, caplog: pytest.LogCaptureFixture
) -> None:
    from scheduler.jobs import Job

    calls: list[int] = []

    async def broken(services: object) -> int:
        calls.append(1)
        raise RuntimeError("job bug")

    scheduler = JobScheduler(app.services, [Job("broken", broken, timedelta(minutes=1))])
    await scheduler.start()
    await scheduler.stop()
    assert calls == [1] and any("job broken failed" in r.getMessage() for r in caplog.records)


@pytest.mark.postgres
async def test_one_leader_per_database_and_another_takes_over(database: Database) -> None:
    if database.is_sqlite:
        assert await Leadership(database).try_lead()  # one process: always the leader
        return
    first, second = Leadership(database), Leadership(database)
    assert await first.try_lead() is True
    assert await second.try_lead() is False and not second.is_leader
    assert await first.try_lead() is True  # still leads
    await first.release()  # the leader stops (or dies: the server drops its connection and lock)
    assert await second.try_lead() is True and second.is_leader
    await second.release()
