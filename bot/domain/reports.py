"""Delivery reports: a batch's owner is told how it goes, through the outbox like any other message.

When an announcement is confirmed its post is made where staff work; under it (in a Slack thread, as a
reply elsewhere) the report message `batch:<id>:report` is posted once the batch exists, then edited
as counters move (each snapshot a new outbox row that replaces it; an edit overtaken by a newer one
before it went out is dropped), and one summary `batch:<id>:summary` ends it, with failures by city.
Keys make it exact across instances: every instance may publish the same snapshot, it is queued once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.batches import BatchProgress
from bot.delivery.outbox import Outbox
from bot.domain.staff import parse_owner
from bot.i18n import N_, Catalogs, Translator
from bot.markup import plain_to_html
from bot.messages import Markup, Reply
from bot.storage.database import Database
from bot.storage.delivery import Delivery, DeliveryStatus, Priority
from bot.storage.people import City, Person, PlatformIdentity

log = logging.getLogger(__name__)
REPORTED_KINDS = frozenset({"announcement", "invitation"})
BAR_WIDTH = 20
REPORT = N_("Delivery report ({state}) for {total} message(s)")
IN_PROGRESS = N_("in progress")
FINISHED = N_("finished")
COUNTS = N_("queued {pending} · sent {sent} · failed {failed} · blocked {gone}")
DONE = N_("Done: {sent} sent, {failed} failed, {gone} blocked (of {total}).")
BY_CITY = N_("Failures by city:")
CITY_LINE = N_("{city}: {failed} failed, {blocked} blocked")
NO_FAILURES = N_("No failures.")
NO_CITY = N_("no city")


@dataclass(frozen=True, slots=True)
class CityFailures:
    city: str
    failed: int
    blocked: int


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """`▓▓▓▓▓░░░░░ 50%`: how much of the batch is finished (sent, failed or blocked)."""
    share = 1.0 if total <= 0 else min(1.0, max(0.0, done / total))
    filled = round(share * width)
    return f"{'▓' * filled}{'░' * (width - filled)} {round(share * 100)}%"


def report_text(progress: BatchProgress, t: Translator) -> str:
    finished = progress.total - progress.pending
    state = t.gettext(FINISHED if progress.done else IN_PROGRESS)
    counts = t.gettext(
        COUNTS, pending=progress.pending, sent=progress.sent, failed=progress.failed, gone=progress.gone
    )
    title = t.gettext(REPORT, state=state, total=progress.total)
    bar = progress_bar(finished, progress.total)
    return f"<b>{plain_to_html(title)}</b>\n{plain_to_html(counts)}\n<code>{bar}</code>"


def summary_text(progress: BatchProgress, failures: Sequence[CityFailures], t: Translator) -> str:
    done = t.gettext(
        DONE, sent=progress.sent, failed=progress.failed, gone=progress.gone, total=progress.total
    )
    lines = [f"<b>{plain_to_html(done)}</b>"]
    if failures:
        lines.append(plain_to_html(t.gettext(BY_CITY)))
        for item in failures:
            line = t.gettext(CITY_LINE, city=item.city, failed=item.failed, blocked=item.blocked)
            lines.append("• " + plain_to_html(line))
    else:
        lines.append(plain_to_html(t.gettext(NO_FAILURES)))
    return "\n".join(lines)


async def failures_by_city(
    session: AsyncSession, batch_id: int, no_city: str = "no city"
) -> list[CityFailures]:
    """The batch's failed and blocked messages, counted per recipient's city (worst first)."""
    rows = await session.execute(
        select(City.name, City.country, Delivery.status)
        .select_from(Delivery)
        .join(PlatformIdentity, (PlatformIdentity.platform == Delivery.platform)
              & (PlatformIdentity.chat_id == Delivery.recipient), isouter=True)
        .join(Person, Person.id == PlatformIdentity.person_id, isouter=True)
        .join(City, City.id == Person.city_id, isouter=True)
        .where(Delivery.batch_id == batch_id,
               Delivery.status.in_((DeliveryStatus.FAILED.value, DeliveryStatus.GONE.value)))
    )  # fmt: skip
    counts: dict[str, list[int]] = {}
    for name, country, status in rows.all():
        city = (f"{name}, {country}" if country else name) if name else no_city
        pair = counts.setdefault(city, [0, 0])
        pair[0 if status == DeliveryStatus.FAILED.value else 1] += 1
    ranked = sorted(counts.items(), key=lambda item: (-sum(item[1]), item[0]))
    return [CityFailures(city, failed, blocked) for city, (failed, blocked) in ranked]


def report_key(batch_id: int) -> str:
    return f"batch:{batch_id}:report"


async def _owner_language(session: AsyncSession, platform: str, chat: str, default: str) -> str:
    language = await session.scalar(
        select(Person.language)
        .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
        .where(PlatformIdentity.platform == platform, PlatformIdentity.chat_id == chat)
    )
    return language or default


async def open_report(
    session: AsyncSession, outbox: Outbox, catalogs: Catalogs, progress: BatchProgress
) -> None:
    """Post the first report of a new batch under its thread (the caller's transaction)."""
    await _enqueue_report(
        session, outbox, catalogs, progress, key=report_key(progress.batch_id), replace=False
    )


async def _enqueue_report(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    progress: BatchProgress,
    *,
    key: str,
    replace: bool,
) -> None:
    place = parse_owner(progress.owner)
    if place is None:
        return
    platform, chat = place
    t = catalogs.translator(await _owner_language(session, platform, chat, catalogs.default_language))
    await outbox.enqueue(
        session, key=key, platform=platform, recipient=chat,
        reply=Reply(report_text(progress, t), markup=Markup.HTML), priority=Priority.URGENT,
        thread_key=progress.thread_key, replace_key=report_key(progress.batch_id) if replace else None,
    )  # fmt: skip
    if progress.done:
        failures = await failures_by_city(session, progress.batch_id, t.gettext(NO_CITY))
        await outbox.enqueue(
            session, key=f"batch:{progress.batch_id}:summary", platform=platform, recipient=chat,
            reply=Reply(summary_text(progress, failures, t), markup=Markup.HTML), priority=Priority.URGENT,
            thread_key=progress.thread_key,
        )  # fmt: skip


class BatchReporter:
    """A progress listener (`ProgressListeners.subscribe("", reporter)`) for reported batch kinds."""

    def __init__(self, database: Database, outbox: Outbox, catalogs: Catalogs) -> None:
        self._database = database
        self._outbox = outbox
        self._catalogs = catalogs

    async def __call__(self, progress: BatchProgress) -> None:
        if progress.kind not in REPORTED_KINDS or parse_owner(progress.owner) is None:
            return
        finished = progress.total - progress.pending
        key = f"{report_key(progress.batch_id)}:{'done' if progress.done else finished}"
        async with self._database.session() as session:
            await _enqueue_report(session, self._outbox, self._catalogs, progress, key=key, replace=True)
