"""Announcements to focal points: drafts, the preview count, confirmation, and the delivery batch.

Texts are safe HTML (`Markup.HTML`): adapters convert their own markup on the way in (Slack mrkdwn),
plain text is escaped. Each recipient gets the version written in their language, else the original,
under a heading in their language. Confirming is idempotent: a draft becomes `sending` once, and
every message has the key `announcement:<id>:<platform>:<chat>`, so a retried confirmation, a
second instance or a re-run of the queueing job cannot send twice.

What staff see: a post of the announcement where they work (the staff channel, else their own chat),
and under it a delivery report edited as the batch moves and a summary when it ends
(`bot.domain.reports`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.batches import BatchProgress
from bot.delivery.outbox import Outbox, OutboxMessage
from bot.domain import audience as audiences
from bot.domain import privacy, reports
from bot.domain.audience import Audience, AudienceError
from bot.domain.people import Permission, name_of, require
from bot.domain.staff import Destination
from bot.i18n import N_, Catalogs, Translator
from bot.markup import html_to_plain, plain_to_html, visible_length
from bot.messages import Markup, Reply
from bot.storage.announcements import Announcement, AnnouncementStatus
from bot.storage.delivery import Priority
from bot.storage.people import Person

MAX_TEXT_LENGTH = 3000  # what a Slack modal's text input holds; a Telegram message holds 4096
HEADING = N_("Announcement from the Strong Cities Network")
EMPTY = N_("The announcement is empty: write the text to send.")
TOO_LONG = N_(
    "The announcement is {length} characters long; the limit is {limit}. Please shorten it or split it."
)
POSTED = N_("Announcement #{id} from {staff} to {audience} ({count} people):")
RESUMED = N_("(resumed after a restart)")
# A confirmed announcement whose queueing job has not finished after this long is taken up again.
QUEUE_GRACE = timedelta(minutes=2)


class AnnouncementRefused(ValueError):
    """The announcement cannot be sent as it is; the message says why, in the staff member's language."""


@dataclass(frozen=True, slots=True)
class Preview:
    announcement_id: int
    people: int
    by_language: dict[str, int]
    audience_words: str

    @property
    def can_confirm(self) -> bool:
        return self.people > 0


def text_problem(text_html: str, t: Translator) -> str | None:
    """Why `text_html` cannot be announced (in the staff member's language), or None."""
    length = visible_length(text_html)
    if not html_to_plain(text_html).strip():
        return t.gettext(EMPTY)
    if length > MAX_TEXT_LENGTH:
        return t.gettext(TOO_LONG, length=length, limit=MAX_TEXT_LENGTH)
    return None


async def save_draft(
    session: AsyncSession,
    now: datetime,
    staff: Person,
    *,
    text_html: str,
    audience: Audience,
    versions: dict[str, str] | None = None,
    source: str = "command",
) -> Announcement:
    """Keep a previewed announcement (texts already checked with `text_problem`)."""
    require(staff, Permission.ANNOUNCE)
    cleaned = {lang: body.strip() for lang, body in (versions or {}).items() if body and body.strip()}
    draft = Announcement(
        created_by_id=staff.id, created_at=now, source=source, text=text_html.strip(), versions=cleaned,
        audience_kind=audience.kind, audience_value=audience.value, status=AnnouncementStatus.DRAFT.value,
    )  # fmt: skip
    session.add(draft)
    await session.flush()
    return draft


def audience_of(announcement: Announcement) -> Audience:
    return Audience(announcement.audience_kind, announcement.audience_value)


async def preview(
    session: AsyncSession, announcement: Announcement, t: Translator, default_language: str
) -> Preview:
    audience = audience_of(announcement)
    counted = await audiences.reach(session, audience, default_language=default_language)
    words = await audiences.describe(session, audience, t)
    return Preview(announcement.id, counted.people, counted.by_language, words)


async def confirm(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    staff: Person,
    announcement_id: int,
    now: datetime,
    report_to: Destination,
) -> Announcement | None:
    """Move a draft to `sending` and post it where staff will see its report; None when it is not a
    draft any more (confirmed twice, or cancelled). The batch itself is built by `queue_confirmed`."""
    require(staff, Permission.ANNOUNCE)
    moved = await session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id, Announcement.status == AnnouncementStatus.DRAFT.value)
        .values(status=AnnouncementStatus.SENDING.value, confirmed_at=now, report_to=report_to.owner)
        .returning(Announcement.id)
        .execution_options(synchronize_session=False)
    )
    if moved.first() is None:
        return None
    announcement = await session.get(Announcement, announcement_id, populate_existing=True)
    assert announcement is not None
    t = catalogs.translator(report_to.language)
    counted = await preview(session, announcement, t, catalogs.default_language)
    heading = t.gettext(
        POSTED,
        id=announcement.id,
        staff=name_of(staff),
        audience=counted.audience_words,
        count=counted.people,
    )
    quoted = "\n".join(f"» {line}" for line in announcement.text.split("\n"))
    await outbox.enqueue(
        session, key=post_key(announcement.id), platform=report_to.platform, recipient=report_to.chat,
        reply=Reply(f"<b>{plain_to_html(heading)}</b>\n{quoted}", markup=Markup.HTML),
        priority=Priority.URGENT,
    )  # fmt: skip
    return announcement


def post_key(announcement_id: int) -> str:
    """The outbox key of the staff-side post of an announcement (its report is threaded under it)."""
    return f"announcement:{announcement_id}:post"


async def cancel_draft(session: AsyncSession, staff: Person, announcement_id: int) -> bool:
    require(staff, Permission.ANNOUNCE)
    moved = await session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id, Announcement.status == AnnouncementStatus.DRAFT.value)
        .values(status=AnnouncementStatus.CANCELLED.value)
        .returning(Announcement.id)
        .execution_options(synchronize_session=False)
    )
    return moved.first() is not None


async def take_confirmed(session: AsyncSession, now: datetime, grace: timedelta = QUEUE_GRACE) -> list[int]:
    """Confirmed announcements to queue: never taken, or taken more than `grace` ago by a job that did
    not finish (a stop). Each is taken by a conditional update, so of several instances one gets it."""
    candidates = (
        await session.scalars(
            select(Announcement.id).where(
                Announcement.status == AnnouncementStatus.SENDING.value, Announcement.batch_id.is_(None)
            )
        )
    ).all()
    taken = []
    for announcement_id in candidates:
        moved = await session.execute(
            update(Announcement)
            .where(
                Announcement.id == announcement_id,
                Announcement.status == AnnouncementStatus.SENDING.value,
                (Announcement.queue_taken_at.is_(None)) | (Announcement.queue_taken_at < now - grace),
            )
            .values(queue_taken_at=now)
            .returning(Announcement.id)
            .execution_options(synchronize_session=False)
        )
        if moved.first() is not None:
            taken.append(announcement_id)
    return taken


def message_for(announcement: Announcement, language: str, catalogs: Catalogs) -> Reply:
    """The recipient's version (else the original) under a heading in their language."""
    versions: dict[str, str] = announcement.versions or {}
    body = versions.get(language) or announcement.text
    heading = catalogs.translator(language).gettext(HEADING)
    return Reply(f"<b>{plain_to_html(heading)}</b>\n\n{body}", markup=Markup.HTML)


async def queue(
    session: AsyncSession, outbox: Outbox, catalogs: Catalogs, announcement_id: int
) -> int | None:
    """Put one message per recipient in the outbox as one batch reported under the staff post; marks
    the announcement queued. Returns the batch id (None when it is not waiting to be queued)."""
    announcement = await session.get(Announcement, announcement_id, populate_existing=True)
    if announcement is None or announcement.status != AnnouncementStatus.SENDING.value:
        return None
    default = catalogs.default_language
    found = await audiences.recipients(session, audience_of(announcement), default_language=default)
    batch = await outbox.create_batch(
        session, kind="announcement", owner=announcement.report_to or "",
        title=f"announcement {announcement.id}", key=f"announcement:{announcement.id}",
        thread_key=post_key(announcement.id),
    )  # fmt: skip
    by_platform: dict[str, list[OutboxMessage]] = {}
    for r in found:
        language = r.language if r.language and r.language in catalogs else default
        by_platform.setdefault(r.platform, []).append(
            OutboxMessage(f"announcement:{announcement.id}:{r.platform}:{r.chat_id}", r.chat_id,
                          message_for(announcement, language, catalogs))
        )  # fmt: skip
    for platform, messages in sorted(by_platform.items()):
        await outbox.enqueue_many(session, platform, messages, batch=batch)
    announcement.status = AnnouncementStatus.QUEUED.value
    announcement.recipients = len(found)
    announcement.batch_id = batch.id
    await session.flush()
    await session.refresh(batch)
    await reports.open_report(session, outbox, catalogs, BatchProgress.of(batch))
    return batch.id


async def for_batch(session: AsyncSession, batch_id: int) -> Announcement | None:
    return await session.scalar(select(Announcement).where(Announcement.batch_id == batch_id))


def parse_audience(raw: str) -> Audience:
    try:
        return Audience.parse(raw)
    except AudienceError as error:
        raise AnnouncementRefused(str(error)) from None


async def _export(session: AsyncSession, person: Person) -> object:
    rows = (
        await session.scalars(
            select(Announcement).where(Announcement.created_by_id == person.id).order_by(Announcement.id)
        )
    ).all()
    return [
        {"id": a.id, "created_at": a.created_at.isoformat(), "status": a.status, "text": a.text} for a in rows
    ]


privacy.register(
    "announcements_sent",
    covers=("announcement.created_by_id",),
    export=_export,
    erase=privacy.keeps_work("the announcement stays, its author becomes unknown"),
)
