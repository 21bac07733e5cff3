"""The live report of a delivery batch in its Slack thread, and the summary that ends it.

A batch owned by `"slack:<channel>:<thread_ts>"` reports there: the report message (made when the
announcement was confirmed) is edited as counters move, and when the batch finishes one summary is
posted in the thread, listing failures by city. Updates for one batch are applied in order and never go
backwards (a late, older snapshot is dropped); the summary is posted once even with several instances,
because the right to post it is taken in the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.delivery.batches import BatchProgress
from bot.domain import announcements
from bot.domain.announcements import CityFailures
from bot.storage.database import Database

log = logging.getLogger(__name__)
OWNER_PREFIX = "slack:"
BAR_WIDTH = 20


def owner_for(channel: str, thread_ts: str) -> str:
    return f"{OWNER_PREFIX}{channel}:{thread_ts}"


def parse_owner(owner: str) -> tuple[str, str] | None:
    """`"slack:C0STAFF:1712.0001"` -> `("C0STAFF", "1712.0001")`; None for another owner."""
    if not owner.startswith(OWNER_PREFIX):
        return None
    channel, _, thread_ts = owner.removeprefix(OWNER_PREFIX).partition(":")
    return (channel, thread_ts) if channel and thread_ts else None


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """`▓▓▓▓▓░░░░░ 50%`: how much of the batch is finished (sent, failed or blocked)."""
    share = 1.0 if total <= 0 else min(1.0, max(0.0, done / total))
    filled = round(share * width)
    return f"{'▓' * filled}{'░' * (width - filled)} {round(share * 100)}%"


def report_text(progress: BatchProgress) -> str:
    finished = progress.total - progress.pending
    state = "finished" if progress.done else "in progress"
    return (
        f"*Delivery report* ({state}) for {progress.total} message(s)\n"
        f"queued {progress.pending} · sent {progress.sent} · failed {progress.failed} · "
        f"blocked {progress.gone}\n`{progress_bar(finished, progress.total)}`"
    )


def summary_text(progress: BatchProgress, failures: Sequence[CityFailures]) -> str:
    lines = [
        f"*Done:* {progress.sent} sent, {progress.failed} failed, {progress.gone} blocked "
        f"(of {progress.total})."
    ]
    if failures:
        lines.append("*Failures by city:*")
        lines += [f"• {item.city}: {item.failed} failed, {item.blocked} blocked" for item in failures]
    else:
        lines.append("No failures.")
    return "\n".join(lines)


class ThreadReporter:
    """A `ProgressCallback` for batches owned by Slack threads (subscribe it to `"slack:"`)."""

    def __init__(self, client: AsyncWebClient, database: Database, clock: Clock) -> None:
        self._client = client
        self._database = database
        self._clock = clock
        self._locks: dict[int, asyncio.Lock] = {}
        self._shown: dict[int, int] = {}

    async def __call__(self, progress: BatchProgress) -> None:
        place = parse_owner(progress.owner)
        if place is None:
            return
        channel, thread_ts = place
        lock = self._locks.setdefault(progress.batch_id, asyncio.Lock())
        async with lock:
            finished = progress.total - progress.pending
            if finished < self._shown.get(progress.batch_id, -1):
                return  # an older snapshot overtaken by a newer one
            self._shown[progress.batch_id] = finished
            async with self._database.session() as session:
                announcement = await announcements.for_batch(session, progress.batch_id)
                report_ts = announcement.report_ts if announcement is not None else None
            if report_ts:
                await self._update(channel, report_ts, report_text(progress))
            if progress.done:
                await self._finish(channel, thread_ts, progress)
        if progress.done:
            self._locks.pop(progress.batch_id, None)
            self._shown.pop(progress.batch_id, None)

    async def _update(self, channel: str, ts: str, text: str) -> None:
        try:
            await self._client.chat_update(channel=channel, ts=ts, text=text)
        except SlackApiError as error:
            log.warning("report update failed: %s", error.response.get("error"))

    async def _finish(self, channel: str, thread_ts: str, progress: BatchProgress) -> None:
        async with self._database.session() as session:
            first = await announcements.mark_summary_posted(session, progress.batch_id, self._clock.now())
            known = await announcements.for_batch(session, progress.batch_id) is not None
            failures = await announcements.failures_by_city(session, progress.batch_id)
        if known and not first:
            return  # another instance, or an earlier call, posted it
        try:
            await self._client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=summary_text(progress, failures)
            )
        except SlackApiError as error:
            log.warning("batch %s summary not posted: %s", progress.batch_id, error.response.get("error"))
