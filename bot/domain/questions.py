"""Questions handed to staff, and staff answers handed back, both through the outbox.

A forwarded question becomes one outbox message to the staff channel (key `question:<id>:staff`); the
platform message id the deliverer records is the thread staff answer in. An answer becomes one outbox
message to the focal point (key `question:<id>:answer:<staff message ts>`, so a platform's retried event
cannot answer twice), headed in the reader's language as coming from the team. Nothing here knows Slack:
the staff side is any platform whose adapter can post to a channel.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import Outbox
from bot.i18n import N_, Catalogs, language_name
from bot.messages import Markup, Reply
from bot.storage.delivery import Delivery, Priority
from bot.storage.people import City, Person, PlatformIdentity
from bot.storage.questions import KnowledgeSuggestion, Question, QuestionStatus, SuggestionStatus

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import StaffNotifier

STAFF_PLATFORM = "slack"
_REFERENCE = re.compile(r"Question #(\d+) from a focal point")
ANSWER_HEADING = N_("Answer from the Strong Cities Network team:")


@dataclass(frozen=True, slots=True)
class Answered:
    """Where an answer went: the person's name, city and platform, for the staff confirmation."""

    question_id: int
    person: str
    city: str
    platform: str
    new: bool = True  # False: this staff message had already been sent (a repeated event)


def staff_notifier(channel: str, platform: str = STAFF_PLATFORM) -> StaffNotifier:
    """The `Services.staff_notifier` that posts forwarded questions to `channel` on `platform`."""

    async def notify(ctx: Context, question: Question) -> None:
        await post_to_staff(ctx.session, ctx.services.outbox, question, channel, platform=platform)

    return notify


async def post_to_staff(
    session: AsyncSession, outbox: Outbox, question: Question, channel: str, *, platform: str = STAFF_PLATFORM
) -> None:
    """Enqueue the question for the staff channel with the person, city, language and original text."""
    person = await session.get(Person, question.person_id)
    city = await session.get(City, person.city_id) if person and person.city_id else None
    lines = [
        f"<b>Question #{question.id} from a focal point</b> (the knowledge base could not answer it)",
        f"<b>From:</b> {html.escape(person.display_name if person and person.display_name else 'unknown')}",
        f"<b>City:</b> {html.escape(_city_name(city))}",
        f"<b>Language:</b> {html.escape(language_name(question.language, 'en'))} ({question.language})",
        "",
        html.escape(question.text),
        "",
        "<i>Reply in this thread: your reply goes to them, marked as coming from the team.</i>",
    ]
    await outbox.enqueue(
        session, key=f"question:{question.id}:staff", platform=platform, recipient=channel,
        reply=Reply("\n".join(lines), markup=Markup.HTML), priority=Priority.URGENT,
    )  # fmt: skip
    question.staff_channel = channel


async def question_for_thread(
    session: AsyncSession, channel: str, thread_ts: str, *, platform: str = STAFF_PLATFORM
) -> Question | None:
    """The question whose staff post starts the thread `thread_ts`, learning the thread from the outbox."""
    question = await session.scalar(
        select(Question).where(Question.staff_channel == channel, Question.staff_ts == thread_ts)
    )
    if question is not None:
        return question
    key = await session.scalar(
        select(Delivery.key).where(
            Delivery.platform == platform,
            Delivery.recipient == channel,
            Delivery.platform_message_id == thread_ts,
            Delivery.key.like("question:%:staff"),
        )
    )
    raw_id = key.split(":")[1] if key else ""
    question = await session.get(Question, int(raw_id)) if raw_id.isdigit() else None
    if question is not None:
        question.staff_channel, question.staff_ts = channel, thread_ts
    return question


async def adopt_thread(session: AsyncSession, text: str, channel: str, thread_ts: str) -> Question | None:
    """The question named in a staff post's `text` (read back from the platform), now tied to its thread.

    For the thread the outbox has no record of: posted twice after a crash, or answered before the
    deliverer recorded the post. Callers must make sure the post is the bot's own.
    """
    found = _REFERENCE.search(text)
    question = await session.get(Question, int(found.group(1))) if found else None
    if question is None or question.staff_channel != channel:
        return None
    question.staff_ts = thread_ts
    return question


async def answer(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    question: Question,
    *,
    answer_html: str,
    answer_text: str,
    answered_by: str,
    message_ref: str,
    now: datetime,
) -> Answered | None:
    """Send `answer_html` (safe Telegram HTML) to the person who asked; None when they cannot be reached.

    `message_ref` names the staff message (its platform id), so the same message answers once.
    """
    person = await session.get(Person, question.person_id)
    if person is None:
        return None
    identities = (await session.scalars(
        select(PlatformIdentity).where(PlatformIdentity.person_id == person.id,
                                       PlatformIdentity.platform != STAFF_PLATFORM)
    )).all()  # fmt: skip
    reachable = sorted(
        (i for i in identities if i.unreachable_at is None), key=lambda i: (i.platform != "telegram", i.id)
    )
    if not reachable:
        return None
    identity = reachable[0]
    language = person.language if person.language in catalogs else catalogs.default_language
    heading = catalogs.translator(language).gettext(ANSWER_HEADING)
    added = await outbox.enqueue(
        session, key=f"question:{question.id}:answer:{message_ref}", platform=identity.platform,
        recipient=identity.chat_id, reply=Reply(f"<b>{heading}</b>\n\n{answer_html}", markup=Markup.HTML),
        priority=Priority.URGENT,
    )  # fmt: skip
    city = await session.get(City, person.city_id) if person.city_id else None
    answered = Answered(
        question.id,
        person.display_name or f"person {person.id}",
        _city_name(city),
        identity.platform,
        new=added,
    )
    if not added:
        return answered
    question.status = QuestionStatus.ANSWERED.value
    question.answer_text = answer_text
    question.answered_by = answered_by
    question.answered_at = now
    return answered


async def suggest_entry(
    session: AsyncSession, question_id: int, suggested_by: str, now: datetime
) -> KnowledgeSuggestion | None:
    """Keep the question and its latest answer as a knowledge-base entry to review (one per question)."""
    question = await session.get(Question, question_id)
    if question is None or not question.answer_text:
        return None
    suggestion = await session.scalar(
        select(KnowledgeSuggestion).where(KnowledgeSuggestion.question_id == question_id)
    )
    if suggestion is None:
        suggestion = KnowledgeSuggestion(question_id=question_id, created_at=now)
        session.add(suggestion)
    suggestion.language = question.language
    suggestion.question_text = question.text
    suggestion.answer_text = question.answer_text
    suggestion.suggested_by = suggested_by
    suggestion.status = SuggestionStatus.PENDING.value
    await session.flush()
    return suggestion


def _city_name(city: City | None) -> str:
    if city is None:
        return "not known"
    return f"{city.name}, {city.country}" if city.country else city.name
