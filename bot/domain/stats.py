"""Numbers for staff: focal points by status and language, this week's questions, deliveries, events.

"This week" is the seven days up to now; upcoming events are the published ones still to start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.delivery import Delivery
from bot.storage.events import Event, EventStatus
from bot.storage.people import Person, PlatformIdentity, Role
from bot.storage.questions import Question

WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Stats:
    focal_points_by_status: dict[str, int]  # reachable / unreachable
    focal_points_by_language: dict[str, int]
    questions_unanswered_by_kb: int  # asked this week, not answered by the knowledge base
    questions_handed_off: int  # forwarded to staff this week
    questions_answered_by_staff: int  # answered by staff this week
    deliveries_by_status: dict[str, int]  # messages created this week
    upcoming_events: int
    events_known: bool


async def gather(session: AsyncSession, now: datetime, *, default_language: str = "en") -> Stats:
    """This week's numbers (the caller checks the reader may see them: `Permission.SEE_STATS`)."""
    since = now - WEEK
    reachable = (
        select(PlatformIdentity.person_id).where(PlatformIdentity.unreachable_at.is_(None)).scalar_subquery()
    )
    focal = Person.role == Role.FOCAL_POINT.value
    reached = await _count(session, select(func.count()).where(focal, Person.id.in_(reachable)))
    total = await _count(session, select(func.count()).select_from(Person).where(focal))
    language = func.coalesce(Person.language, default_language)
    languages = await session.execute(select(language, func.count()).where(focal).group_by(language))
    deliveries = await session.execute(
        select(Delivery.status, func.count()).where(Delivery.created_at >= since).group_by(Delivery.status)
    )
    asked = select(func.count()).select_from(Question)
    upcoming, known = await _upcoming_events(session, now)
    return Stats(
        focal_points_by_status={"reachable": reached, "unreachable": total - reached},
        focal_points_by_language=dict(sorted((str(k), int(v)) for k, v in languages.all())),
        questions_unanswered_by_kb=await _count(session, asked.where(Question.created_at >= since)),
        questions_handed_off=await _count(session, asked.where(Question.forwarded_at >= since)),
        questions_answered_by_staff=await _count(session, asked.where(Question.answered_at >= since)),
        deliveries_by_status=dict(sorted((str(k), int(v)) for k, v in deliveries.all())),
        upcoming_events=upcoming,
        events_known=known,
    )


async def _count(session: AsyncSession, query: object) -> int:
    return int(await session.scalar(query) or 0)  # type: ignore[call-overload]


async def _upcoming_events(session: AsyncSession, now: datetime) -> tuple[int, bool]:
    """Published events starting from now on."""
    found = await session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.status == EventStatus.PUBLISHED.value, Event.starts_at >= now)
    )
    return int(found or 0), True
