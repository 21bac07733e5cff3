"""Staff answers that teach the bot: suggested entries, reviewed by staff, kept in the database.

A staff answer to a handed-off question can be kept as a suggestion (`questions.suggest_entry`).
Staff then decide (`/suggestions`):
- accept it into an existing topic as a new example question in its language: the bot answers it
  from then on, without a restart (the indexes are rebuilt at once on this instance and within
  `REFRESH` on every other one, from the database);
- accept it as a new topic draft (an id, a title and an answer), which `content export-accepted`
  writes under `content/drafts/` for review in git;
- or reject it.

`content export-accepted` also writes every accepted example to `content/accepted/examples.yaml`,
which the bot reads at start like the rest of the content, so an export reviewed and committed keeps
the examples even on a fresh database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accepted import ACCEPTED_FILE, Example, read_example_file
from bot.domain.people import Permission, require
from bot.domain.problems import Problem
from bot.i18n import N_
from bot.knowledge import KnowledgeBase
from bot.markup import html_to_plain
from bot.services import Services
from bot.storage.people import Person
from bot.storage.questions import KnowledgeSuggestion, SuggestionStatus

REFRESH = timedelta(seconds=30)
DRAFTS_DIR = Path("drafts")
TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
MAX_EXAMPLE = 300

NO_SUCH_TOPIC = N_("There is no topic {topic} any more: choose another one.")
NOT_PENDING = N_("Suggestion #{id} has already been decided.")
BAD_TOPIC_ID = N_("A topic id is lowercase letters, digits and _, such as youth_councils.")
TOPIC_EXISTS = N_("There is a topic {topic} already: add the question to it, or choose another id.")
NO_TEXT = N_("Write the question as the bot should learn it.")


class SuggestionProblem(Problem):
    """Why a suggestion cannot be accepted or drafted (a msgid and its values)."""


async def pending(session: AsyncSession, limit: int = 20) -> list[KnowledgeSuggestion]:
    rows = await session.scalars(
        select(KnowledgeSuggestion)
        .where(KnowledgeSuggestion.status == SuggestionStatus.PENDING.value)
        .order_by(KnowledgeSuggestion.id)
        .limit(limit)
    )
    return list(rows.all())


async def _open(session: AsyncSession, suggestion_id: int) -> KnowledgeSuggestion:
    suggestion = await session.get(KnowledgeSuggestion, suggestion_id)
    if suggestion is None or suggestion.status != SuggestionStatus.PENDING.value:
        raise SuggestionProblem(NOT_PENDING, id=suggestion_id)
    return suggestion


def example_of(suggestion: KnowledgeSuggestion) -> str:
    """The question as the bot would learn it: plain text, on one line, not too long."""
    text = " ".join(html_to_plain(suggestion.question_text).split())
    return text[:MAX_EXAMPLE]


async def accept_example(
    session: AsyncSession,
    knowledge: KnowledgeBase,
    staff: Person,
    suggestion_id: int,
    topic_id: str,
    text: str,
    now: datetime,
) -> KnowledgeSuggestion:
    """Accept the suggestion as an example question of `topic_id`, in the suggestion's language."""
    require(staff, Permission.REVIEW_SUGGESTIONS)
    suggestion = await _open(session, suggestion_id)
    if topic_id not in knowledge.topics:
        raise SuggestionProblem(NO_SUCH_TOPIC, topic=topic_id)
    example = " ".join(text.split())[:MAX_EXAMPLE] or example_of(suggestion)
    if not example:  # the asker erased their data before staff decided
        raise SuggestionProblem(NO_TEXT)
    suggestion.status = SuggestionStatus.ACCEPTED.value
    suggestion.topic_id = topic_id
    suggestion.example_text = example
    suggestion.decided_by_id = staff.id
    suggestion.decided_at = now
    return suggestion


async def accept_draft(
    session: AsyncSession,
    knowledge: KnowledgeBase,
    staff: Person,
    suggestion_id: int,
    topic_id: str,
    title: str,
    answer: str,
    now: datetime,
) -> KnowledgeSuggestion:
    """Accept the suggestion as the draft of a new topic (exported for review, not answered yet)."""
    require(staff, Permission.REVIEW_SUGGESTIONS)
    suggestion = await _open(session, suggestion_id)
    if not TOPIC_ID.match(topic_id):
        raise SuggestionProblem(BAD_TOPIC_ID)
    if topic_id in knowledge.topics:
        raise SuggestionProblem(TOPIC_EXISTS, topic=topic_id)
    suggestion.status = SuggestionStatus.DRAFTED.value
    suggestion.topic_id = topic_id
    suggestion.example_text = example_of(suggestion)
    suggestion.draft = {"id": topic_id, "title": title.strip(), "answer": answer.strip()}
    suggestion.decided_by_id = staff.id
    suggestion.decided_at = now
    return suggestion


async def reject(
    session: AsyncSession, staff: Person, suggestion_id: int, now: datetime
) -> KnowledgeSuggestion:
    require(staff, Permission.REVIEW_SUGGESTIONS)
    suggestion = await _open(session, suggestion_id)
    suggestion.status = SuggestionStatus.REJECTED.value
    suggestion.decided_by_id = staff.id
    suggestion.decided_at = now
    return suggestion


async def accepted_examples(session: AsyncSession) -> list[Example]:
    rows = await session.execute(
        select(KnowledgeSuggestion.topic_id, KnowledgeSuggestion.language, KnowledgeSuggestion.example_text)
        .where(KnowledgeSuggestion.status == SuggestionStatus.ACCEPTED.value)
        .order_by(KnowledgeSuggestion.id)
    )
    return [Example(topic, language, text) for topic, language, text in rows.all() if topic and text]


def teach(knowledge: KnowledgeBase, examples: Iterable[Example]) -> KnowledgeBase:
    """The knowledge base with these examples indexed (unknown topics are left out)."""
    return knowledge.with_examples((e.topic, e.language, e.question) for e in examples)


async def refresh(session: AsyncSession, services: Services) -> bool:
    """Serve the content's knowledge base plus every example accepted in the database; True when
    that changed what is served."""
    examples = await accepted_examples(session)
    learned = tuple((e.topic, e.language, e.question) for e in examples)
    if learned == services.learned or services.content_knowledge is None:
        return False
    services.knowledge = teach(services.content_knowledge, examples)
    services.learned = learned
    return True


async def export(session: AsyncSession, content_dir: Path) -> tuple[int, list[Path]]:
    """Write the accepted examples (merged with those already exported) and one folder per topic
    draft; returns how many examples the file holds and the files written."""
    from_db = await accepted_examples(session)
    existing, _problems = read_example_file(content_dir)
    merged: dict[tuple[str, str, str], Example] = {}
    for example in [*existing, *from_db]:
        merged.setdefault((example.topic, example.language, example.question.casefold()), example)
    written: list[Path] = []
    path = content_dir / ACCEPTED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [
        {"topic": e.topic, "language": e.language, "question": e.question}
        for e in sorted(merged.values(), key=lambda e: (e.topic, e.language, e.question))
    ]
    header = (
        "# Example questions staff accepted from their answers (/suggestions), exported with\n"
        "# `python run_bot.py content export-accepted`. The bot reads this file at start: each question is\n"
        "# answered by its topic. Review in git; move a question into its topic's <lang>.yaml if you like.\n"
    )
    path.write_text(header + yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")
    written.append(path)
    drafts = await session.scalars(
        select(KnowledgeSuggestion).where(KnowledgeSuggestion.status == SuggestionStatus.DRAFTED.value)
    )
    for suggestion in drafts.all():
        draft: dict[str, Any] = suggestion.draft or {}
        folder = content_dir / DRAFTS_DIR / str(draft.get("id") or f"suggestion_{suggestion.id}")
        folder.mkdir(parents=True, exist_ok=True)
        topic = {"confirmed": False, "last_reviewed": (suggestion.decided_at or suggestion.created_at).date()}
        (folder / "topic.yaml").write_text(yaml.safe_dump(topic, sort_keys=False), encoding="utf-8")
        text = {
            "reviewed": suggestion.language == "en",
            "title": draft.get("title", ""),
            "answer": html_to_plain(str(draft.get("answer", ""))) + "\n",
            "questions": [suggestion.example_text] if suggestion.example_text else [],
            "keywords": [],
        }
        target = folder / f"{suggestion.language}.yaml"
        target.write_text(yaml.safe_dump(text, allow_unicode=True, sort_keys=False), encoding="utf-8")
        written += [folder / "topic.yaml", target]
    return len(entries), written
