"""Announcements to focal points: who is in the audience, the preview count, and the delivery batch.

The audience is every focal point (`Person.role == "focal_point"`) with a Telegram identity not known to be
unreachable, optionally narrowed to one region, country, language or city. Each recipient gets the version
written in their language, else the original, under a heading in their language. Confirming is
idempotent: a draft becomes `sending` once, and every message has the key
`announcement:<id>:<platform>:<chat>`, so a retried confirmation or a re-run cannot send twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.batches import BatchProgress
from bot.delivery.outbox import Outbox, OutboxMessage
from bot.i18n import N_, Catalogs
from bot.messages import Markup, Reply
from bot.slack_markup import mrkdwn_to_html
from bot.storage.announcements import Announcement, AnnouncementStatus
from bot.storage.delivery import Delivery, DeliveryStatus
from bot.storage.people import City, Person, PlatformIdentity, Role

PLATFORM = "telegram"
MAX_TEXT_LENGTH = 3000  # what a Slack modal's text input holds; a Telegram message holds 4096
AUDIENCE_KINDS = ("all", "region", "country", "language", "city")
HEADING = N_("Announcement from the Strong Cities Network")


class AnnouncementRefused(ValueError):
    """The announcement cannot be sent as it is; the message says why, for staff."""


@dataclass(frozen=True, slots=True)
class Audience:
    """All focal points, or those of one region, country, language or city (`value` is the city's id)."""

    kind: str = "all"
    value: str = ""

    @classmethod
    def parse(cls, raw: str) -> Audience:
        """`"all"`, `"region:MENA"`, `"city:12"`; raises `AnnouncementRefused` for anything else."""
        kind, _, value = raw.partition(":")
        if kind == "all" and not value:
            return cls()
        if kind not in AUDIENCE_KINDS or not value or (kind == "city" and not value.isdigit()):
            raise AnnouncementRefused(f"unknown audience {raw!r}")
        return cls(kind, value)

    def encode(self) -> str:
        return "all" if self.kind == "all" else f"{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class Recipient:
    person_id: int
    chat_id: str
    language: str | None


@dataclass(frozen=True, slots=True)
class Preview:
    people: int
    by_language: dict[str, int]

    @property
    def can_confirm(self) -> bool:
        return self.people > 0


@dataclass(frozen=True, slots=True)
class AudienceChoices:
    """What the audience can be narrowed to, from the focal points we have."""

    regions: list[str]
    countries: list[str]
    languages: list[str]
    cities: list[tuple[int, str]]  # (id, "Lisbon, Portugal")


@dataclass(frozen=True, slots=True)
class CityFailures:
    city: str
    failed: int
    blocked: int


def text_problem(text: str) -> str | None:
    """Why `text` cannot be announced (staff-facing), or None."""
    if not text.strip():
        return "The announcement is empty: write the text to send."
    if len(text) > MAX_TEXT_LENGTH:
        return (
            f"The announcement is {len(text)} characters long; the limit is {MAX_TEXT_LENGTH}. "
            "Please shorten it or split it into two announcements."
        )
    return None


_FocalPoints = Select[int, str, str | None]  # person id, chat id, language


def _focal_points(platform: str) -> _FocalPoints:
    return (
        select(Person.id, PlatformIdentity.chat_id, Person.language)
        .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
        .outerjoin(City, City.id == Person.city_id)
        .where(
            Person.role == Role.FOCAL_POINT.value,
            PlatformIdentity.platform == platform,
            PlatformIdentity.unreachable_at.is_(None),
        )
    )


def _narrowed(query: _FocalPoints, audience: Audience, default_language: str) -> _FocalPoints:
    if audience.kind == "region":
        return query.where(City.region == audience.value)
    if audience.kind == "country":
        return query.where(City.country == audience.value)
    if audience.kind == "city":
        return query.where(Person.city_id == int(audience.value))
    if audience.kind == "language":
        if audience.value == default_language:  # people with no stored language read the default
            return query.where((Person.language == audience.value) | Person.language.is_(None))
        return query.where(Person.language == audience.value)
    return query


async def recipients(
    session: AsyncSession, audience: Audience, *, default_language: str = "en", platform: str = PLATFORM
) -> list[Recipient]:
    rows = await session.execute(
        _narrowed(_focal_points(platform), audience, default_language).order_by(Person.id)
    )
    return [Recipient(person_id, chat_id, language) for person_id, chat_id, language in rows.all()]


async def preview(session: AsyncSession, audience: Audience, *, default_language: str = "en") -> Preview:
    """How many people the audience reaches, and in which languages they will read it."""
    found = await recipients(session, audience, default_language=default_language)
    languages: dict[int, str] = {r.person_id: r.language or default_language for r in found}
    return Preview(len(languages), dict(sorted(Counter(languages.values()).items())))


async def audience_choices(session: AsyncSession, *, default_language: str = "en") -> AudienceChoices:
    rows = (await session.execute(
        _focal_points(PLATFORM).with_only_columns(
            Person.language, City.id, City.name, City.country, City.region
        ).distinct()
    )).all()  # fmt: skip
    regions = sorted({row.region for row in rows if row.region})
    countries = sorted({row.country for row in rows if row.country})
    languages = sorted({row.language or default_language for row in rows})
    cities = sorted(
        {(row.id, f"{row.name}, {row.country}" if row.country else row.name) for row in rows if row.id},
        key=lambda city: city[1],
    )
    return AudienceChoices(regions, countries, languages, cities)


async def describe(session: AsyncSession, audience: Audience) -> str:
    """Staff-facing words for an audience: "all focal points", "focal points in Lisbon, Portugal"."""
    if audience.kind == "all":
        return "all focal points"
    if audience.kind == "city":
        city = await session.get(City, int(audience.value))
        name = f"{city.name}, {city.country}" if city and city.country else (city.name if city else "?")
        return f"focal points in {name}"
    if audience.kind == "language":
        return f"focal points who read {audience.value}"
    return f"focal points in the {audience.kind} {audience.value}"


async def save_draft(
    session: AsyncSession,
    now: datetime,
    *,
    created_by: str,
    text: str,
    audience: Audience,
    versions: dict[str, str] | None = None,
    source: str = "command",
) -> Announcement:
    """Keep a previewed announcement; raises `AnnouncementRefused` when the text cannot be sent."""
    cleaned = {lang: body.strip() for lang, body in (versions or {}).items() if body and body.strip()}
    for body in (text, *cleaned.values()):
        problem = text_problem(body)
        if problem is not None:
            raise AnnouncementRefused(problem)
    draft = Announcement(
        created_by=created_by, created_at=now, source=source, text=text.strip(), versions=cleaned,
        audience_kind=audience.kind, audience_value=audience.value,
        status=AnnouncementStatus.DRAFT.value,
    )  # fmt: skip
    session.add(draft)
    await session.flush()
    return draft


async def claim(session: AsyncSession, announcement_id: int, now: datetime) -> Announcement | None:
    """Move a draft to `sending`; None when it is not a draft any more (confirmed twice)."""
    moved = await session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id, Announcement.status == AnnouncementStatus.DRAFT.value)
        .values(status=AnnouncementStatus.SENDING.value, confirmed_at=now)
        .returning(Announcement.id)
        .execution_options(synchronize_session=False)
    )
    if moved.first() is None:
        return None
    return await session.get(Announcement, announcement_id, populate_existing=True)


async def take_interrupted(session: AsyncSession, now: datetime, grace: timedelta) -> list[Announcement]:
    """Announcements confirmed more than `grace` ago whose batch was never queued (the process stopped
    between the confirmation and the queueing). Each is re-claimed by moving its `confirmed_at`, so of
    several instances starting at once only one resumes it; queueing again is safe (idempotent keys)."""
    stuck = (
        await session.scalars(
            select(Announcement.id).where(
                Announcement.status == AnnouncementStatus.SENDING.value,
                Announcement.batch_id.is_(None),
                Announcement.confirmed_at < now - grace,
            )
        )
    ).all()
    taken: list[Announcement] = []
    for announcement_id in stuck:
        moved = await session.execute(
            update(Announcement)
            .where(
                Announcement.id == announcement_id,
                Announcement.status == AnnouncementStatus.SENDING.value,
                Announcement.confirmed_at < now - grace,
            )
            .values(confirmed_at=now)
            .returning(Announcement.id)
            .execution_options(synchronize_session=False)
        )
        if moved.first() is not None:
            found = await session.get(Announcement, announcement_id, populate_existing=True)
            if found is not None:
                taken.append(found)
    return taken


async def release(session: AsyncSession, announcement_id: int) -> None:
    """Give a claimed announcement back as a draft (its thread could not be opened)."""
    await session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id, Announcement.status == AnnouncementStatus.SENDING.value)
        .values(status=AnnouncementStatus.DRAFT.value, confirmed_at=None)
        .execution_options(synchronize_session=False)
    )


def message_for(announcement: Announcement, language: str, catalogs: Catalogs) -> Reply:
    """The recipient's version (else the original), as safe Telegram HTML under a translated heading."""
    versions: dict[str, str] = announcement.versions or {}
    body = versions.get(language) or announcement.text
    heading = catalogs.translator(language).gettext(HEADING)
    return Reply(f"<b>{heading}</b>\n\n{mrkdwn_to_html(body)}", markup=Markup.HTML)


async def enqueue(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    announcement: Announcement,
    *,
    owner: str,
    staff_channel: str,
    staff_ts: str,
    report_ts: str,
) -> BatchProgress:
    """Put one message per recipient in the outbox as one batch reported to `owner`; marks it queued."""
    audience = Audience(announcement.audience_kind, announcement.audience_value)
    default = catalogs.default_language
    found = await recipients(session, audience, default_language=default)
    batch = await outbox.create_batch(
        session, kind="announcement", owner=owner, title=f"announcement {announcement.id}",
        key=f"announcement:{announcement.id}",
    )  # fmt: skip
    messages = [
        OutboxMessage(
            f"announcement:{announcement.id}:{PLATFORM}:{r.chat_id}",
            r.chat_id,
            message_for(
                announcement, r.language if r.language and r.language in catalogs else default, catalogs
            ),
        )
        for r in found
    ]
    await outbox.enqueue_many(session, PLATFORM, messages, batch=batch)
    announcement.status = AnnouncementStatus.QUEUED.value
    announcement.recipients = len({r.person_id for r in found})
    announcement.batch_id = batch.id
    announcement.staff_channel, announcement.staff_ts = staff_channel, staff_ts
    announcement.report_ts = report_ts
    await session.flush()
    await session.refresh(batch)
    return BatchProgress.of(batch)


async def for_batch(session: AsyncSession, batch_id: int) -> Announcement | None:
    return await session.scalar(select(Announcement).where(Announcement.batch_id == batch_id))


async def mark_summary_posted(session: AsyncSession, batch_id: int, now: datetime) -> bool:
    """True for exactly one caller per batch: the one that is to post the final summary."""
    moved = await session.execute(
        update(Announcement)
        .where(Announcement.batch_id == batch_id, Announcement.summary_posted_at.is_(None))
        .values(summary_posted_at=now)
        .returning(Announcement.id)
        .execution_options(synchronize_session=False)
    )
    return moved.first() is not None


async def failures_by_city(session: AsyncSession, batch_id: int) -> list[CityFailures]:
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
        city = (f"{name}, {country}" if country else name) if name else "no city"
        pair = counts.setdefault(city, [0, 0])
        pair[0 if status == DeliveryStatus.FAILED.value else 1] += 1
    ranked = sorted(counts.items(), key=lambda item: (-sum(item[1]), item[0]))
    return [CityFailures(city, failed, blocked) for city, (failed, blocked) in ranked]
