"""Questions handed to staff, and staff answers handed back, both through the outbox.

A forwarded question becomes one outbox message per staff destination (key `question:<id>:staff:...`);
the platform message id the deliverer records is what a staff reply answers (a Slack thread, a
Telegram reply). An answer becomes one outbox message to the person (key
`question:<id>:answer:<ref>`, where `ref` names the staff message or the answer's text, so a
platform's retried event or a double submission answers once), headed in the reader's language as
coming from the team. Nothing here knows a platform.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import Outbox
from bot.domain import privacy
from bot.domain.people import Permission, name_of, require
from bot.domain.staff import notice_destinations
from bot.i18n import N_, Catalogs, language_name
from bot.ids import row_by_id
from bot.markup import plain_to_html
from bot.messages import Markup, Reply
from bot.storage.delivery import Delivery, Priority
from bot.storage.people import City, Person, PlatformIdentity
from bot.storage.questions import KnowledgeSuggestion, Question, QuestionStatus, SuggestionStatus

_REFERENCE = re.compile(r"Question #(\d+)\b")
ANSWER_HEADING = N_("Answer from the Strong Cities Network team:")
POST_TITLE = N_("Question #{id} from a focal point")
POST_NOTE = N_("the knowledge base could not answer it")
FROM = N_("From:")
CITY = N_("City:")
LANGUAGE = N_("Language:")
HOW_TO_ANSWER = N_(
    "Reply to this message to answer: your reply goes to them, marked as coming from the team. "
    "Or send /answer {id}."
)
LEFT = N_("Question #{id}: the focal point who asked it has left and their data was erased.")
NOT_KNOWN = N_("not known")
STAFF_PLATFORMS_FIRST = ("telegram",)


@dataclass(frozen=True, slots=True)
class Answered:
    """Where an answer went: the person's name, city and platform, for the staff confirmation."""

    question_id: int
    person: str
    city: str
    platform: str
    new: bool = True  # False: this answer had already been sent (a repeated event or submission)


def staff_key(question_id: int, platform: str, chat: str) -> str:
    return f"question:{question_id}:staff:{platform}:{chat}"


async def notify_staff(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    question: Question,
    staff_channels: Mapping[str, str],
) -> int:
    """Post the question, with the person, city, language and text, where staff will see it."""
    person = await session.get(Person, question.person_id)
    city = await session.get(City, person.city_id) if person and person.city_id else None
    sent = 0
    for place in await notice_destinations(session, staff_channels, catalogs.default_language):
        t = catalogs.translator(place.language)
        lines = [
            f"<b>{plain_to_html(t.gettext(POST_TITLE, id=question.id))}</b> "
            f"({plain_to_html(t.gettext(POST_NOTE))})",
            f"<b>{plain_to_html(t.gettext(FROM))}</b> {plain_to_html(name_of(person))}",
            f"<b>{plain_to_html(t.gettext(CITY))}</b> {plain_to_html(city_name(city, t.gettext(NOT_KNOWN)))}",
            f"<b>{plain_to_html(t.gettext(LANGUAGE))}</b> "
            f"{plain_to_html(language_name(question.language, place.language))} ({question.language})",
            "",
            plain_to_html(question.text),
            "",
            f"<i>{plain_to_html(t.gettext(HOW_TO_ANSWER, id=question.id))}</i>",
        ]
        added = await outbox.enqueue(
            session, key=staff_key(question.id, place.platform, place.chat), platform=place.platform,
            recipient=place.chat, reply=Reply("\n".join(lines), markup=Markup.HTML), priority=Priority.URGENT,
        )  # fmt: skip
        sent += int(added)
    return sent


def referenced_question(text: str, catalogs: Catalogs | None) -> int | None:
    """The number in a question post's title, in English or any language the bot speaks."""
    patterns = [_REFERENCE]
    for language in () if catalogs is None else catalogs.languages:
        assert catalogs is not None
        head = catalogs.translator(language).translations.gettext(POST_TITLE).partition("{id}")[0].strip()
        if head:
            patterns.append(re.compile(re.escape(head) + r"\W*(\d+)"))
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            return int(found.group(1))
    return None


async def question_for_post(
    session: AsyncSession,
    platform: str,
    chat: str,
    message_id: str,
    text: str | None = None,
    catalogs: Catalogs | None = None,
) -> Question | None:
    """The question whose staff post is `message_id` in `chat`: known from the outbox's record of what
    it sent, else read from the post's own text (the adapter read it back and vouches it is the bot's)."""
    key = await session.scalar(
        select(Delivery.key).where(
            Delivery.platform == platform,
            Delivery.recipient == chat,
            Delivery.platform_message_id == message_id,
            Delivery.key.like("question:%:staff:%"),
        )
    )
    raw_id = key.split(":")[1] if key else ""
    if not raw_id and text:
        raw_id = str(referenced_question(text, catalogs) or "")
        if raw_id:  # only a question that was in fact posted to this chat
            posted = await session.scalar(
                select(Delivery.id).where(Delivery.key == staff_key(int(raw_id), platform, chat))
            )
            raw_id = raw_id if posted is not None else ""
    return await row_by_id(session, Question, raw_id)


async def answer(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    question: Question,
    staff: Person,
    *,
    answer_html: str,
    now: datetime,
    ref: str | None = None,
) -> Answered | None:
    """Send `answer_html` (safe HTML) to the person who asked; None when they cannot be reached.

    `ref` names the staff message (its platform id); without one, the answer's text does.
    """
    require(staff, Permission.ANSWER_QUESTIONS)
    person = await session.get(Person, question.person_id)
    if person is None:
        return None
    identities = (
        await session.scalars(select(PlatformIdentity).where(PlatformIdentity.person_id == person.id))
    ).all()
    reachable = sorted(
        (i for i in identities if i.unreachable_at is None),
        key=lambda i: (i.platform not in STAFF_PLATFORMS_FIRST, i.id),
    )
    if not reachable:
        return None
    identity = reachable[0]
    language = person.language if person.language in catalogs else catalogs.default_language
    heading = catalogs.translator(language).gettext(ANSWER_HEADING)
    ref = ref or "text-" + hashlib.sha256(answer_html.encode("utf-8")).hexdigest()[:16]
    message = Reply(f"<b>{plain_to_html(heading)}</b>\n\n{answer_html}", markup=Markup.HTML)
    added = await outbox.enqueue(
        session, key=f"question:{question.id}:answer:{ref}", platform=identity.platform,
        recipient=identity.chat_id, reply=message, priority=Priority.URGENT,
    )  # fmt: skip
    city = await session.get(City, person.city_id) if person.city_id else None
    answered = Answered(question.id, name_of(person), city_name(city, "-"), identity.platform, new=added)
    if added:
        question.status = QuestionStatus.ANSWERED.value
        question.answer_text = answer_html
        question.answered_by_id = staff.id
        question.answered_at = now
    return answered


async def suggest_entry(
    session: AsyncSession, question_id: int, staff: Person, now: datetime
) -> KnowledgeSuggestion | None:
    """Keep the question and its latest answer as a knowledge-base entry to review (one per question)."""
    require(staff, Permission.ANSWER_QUESTIONS)
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
    suggestion.suggested_by_id = staff.id
    suggestion.status = SuggestionStatus.PENDING.value
    await session.flush()
    return suggestion


async def waiting(
    session: AsyncSession, limit: int = 50, *, answered_too: bool = False
) -> list[tuple[Question, Person | None, City | None]]:
    """Questions sent to the team and not answered yet, oldest first; with `answered_too`, then the
    most recently answered ones (a follow-up answer is allowed)."""
    statuses = [QuestionStatus.FORWARDED.value] + ([QuestionStatus.ANSWERED.value] if answered_too else [])
    answered_last = Question.status == QuestionStatus.ANSWERED.value
    rows = await session.execute(
        select(Question, Person, City)
        .join(Person, Person.id == Question.person_id, isouter=True)
        .join(City, City.id == Person.city_id, isouter=True)
        .where(Question.status.in_(statuses))
        .order_by(answered_last, Question.forwarded_at, Question.answered_at.desc(), Question.id)
        .limit(limit)
    )
    return [(q, p, c) for q, p, c in rows.all()]


def city_name(city: City | None, unknown: str) -> str:
    if city is None:
        return unknown
    return f"{city.name}, {city.country}" if city.country else city.name


# ---- privacy -----------------------------------------------------------------------------------------
async def _export_questions(session: AsyncSession, person: Person) -> list[dict[str, object]]:
    rows = (
        await session.scalars(select(Question).where(Question.person_id == person.id).order_by(Question.id))
    ).all()
    return [
        {"asked_at": q.created_at.isoformat(), "text": q.text, "status": q.status, "answer": q.answer_text}
        for q in rows
    ]


async def _erase_questions(session: AsyncSession, person: Person, erasure: privacy.Erasure) -> None:
    """Their questions go, with every copy: the staff posts are scrubbed in the outbox and edited where
    staff see them to say the person has left; suggestions made from them lose the question."""
    ids = list((await session.scalars(select(Question.id).where(Question.person_id == person.id))).all())
    if not ids:
        return
    for question_id in ids:
        await privacy.scrub_staff_copies(
            session, erasure, f"question:{question_id}:staff:", LEFT, id=question_id
        )
    await session.execute(
        update(KnowledgeSuggestion)
        .where(KnowledgeSuggestion.question_id.in_(ids))
        .values(question_text="", answer_text="", question_id=None)
    )
    await session.execute(delete(Question).where(Question.person_id == person.id))


async def _export_answers(session: AsyncSession, person: Person) -> list[dict[str, object]]:
    rows = (await session.scalars(select(Question.id).where(Question.answered_by_id == person.id))).all()
    return [{"question": question_id} for question_id in rows]


privacy.register(
    "questions", covers=("question.person_id",), export=_export_questions, erase=_erase_questions
)
privacy.register(
    "answers_given",
    covers=(
        "question.answered_by_id",
        "knowledge_suggestion.suggested_by_id",
        "knowledge_suggestion.decided_by_id",
    ),
    export=_export_answers,
    erase=privacy.keeps_work("answers and suggestions stay, their author becomes unknown"),
)
