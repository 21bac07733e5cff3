"""Staff answers that teach the bot: /suggestions, live indexing on every instance, export to content/."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.app import BotApp
from bot.clock import FakeClock
from bot.config import Settings
from bot.content_check import check_content
from bot.domain import suggestions
from bot.storage.database import Database
from bot.storage.questions import KnowledgeSuggestion
from run_bot import build_app, main
from scheduler.jobs import refresh_knowledge
from tests.harness import ConsoleChat, StaffChat
from tests.people import add_focal_point

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Does the network publish a podcast series for mayors?"


async def suggested(app: BotApp, question: str = QUESTION, language: str = "en") -> StaffChat:
    """A focal point's question the bot could not answer, answered by staff and kept as a suggestion."""
    await add_focal_point(app, "marie", language, ("Lyon", "FR", "Europe"), platform="console")
    marie = ConsoleChat(app, "marie")
    [unsure] = await marie.send(question)
    forward = next(b.payload for b in unsure.buttons if b.payload and b.payload.startswith("ask:"))
    await marie.press(forward)
    staff = StaffChat(app)
    [sent] = await staff.submit(
        "answer", question="1", text="Our guides and recordings are in the Resource Hub."
    )
    await staff.press(next(b.payload for b in sent.buttons if b.payload and "suggest" in b.payload) or "")
    return staff


def answered_topic(app: BotApp, question: str, language: str = "en") -> str | None:
    assert app.services.knowledge is not None
    found = app.services.knowledge.answer(question, language)
    return found.topic.id if found.topic is not None else None


async def test_an_accepted_example_is_answered_at_once(app: BotApp) -> None:
    assert answered_topic(app, QUESTION) is None
    staff = await suggested(app)
    [head, card] = await staff.send("/suggestions")
    assert "1 suggestion waiting" in head.text
    assert "Suggestion #1 (English)" in card.text and "podcast series" in card.text
    assert "Resource Hub" in card.text
    [form] = await staff.press_label("Another topic")
    assert form.form is not None and form.form.id == "suggestion"
    assert form.form.values["question"] == QUESTION
    [added] = await staff.submit("suggestion", form.form.context, topic="resources", question=QUESTION)
    assert "as an example question in English" in added.text and "I answer it from now on" in added.text
    assert answered_topic(app, QUESTION) == "resources"
    # through the whole bot, for someone else
    [reply] = await ConsoleChat(app, "omar").send(QUESTION)
    assert "I am not sure" not in reply.text
    [none] = await staff.send("/suggestions")
    assert "No suggestion is waiting" in none.text
    [again] = await staff.submit("suggestion", {"suggestion": "1"}, topic="resources", question=QUESTION)
    assert "already been decided" in again.text


async def test_another_instance_learns_it_from_the_database(
    settings: Settings, sqlite_database: Database, app: BotApp
) -> None:
    other = build_app(settings, clock=FakeClock(), database=sqlite_database, flood_limit=False)
    staff = await suggested(app)
    await staff.send("/suggestions")
    await staff.press_label("Another topic")
    await staff.submit("suggestion", {"suggestion": "1"}, topic="resources", question=QUESTION)
    assert answered_topic(other, QUESTION) is None
    assert await refresh_knowledge(other.services) == 1  # the job every instance runs
    assert answered_topic(other, QUESTION) == "resources"
    assert await refresh_knowledge(other.services) == 0  # nothing new: the indexes are kept


async def test_reject_and_draft_and_their_bad_input(app: BotApp, tmp_path: Path) -> None:
    staff = await suggested(app)
    await staff.send("/suggestions")
    [form] = await staff.press_label("New topic draft")
    assert form.form is not None and form.form.id == "topic_draft"
    assert "Resource Hub" in str(form.form.values["answer"])
    [bad] = await staff.submit(
        "topic_draft", form.form.context, topic_id="Pod Cast!", title="Podcasts", answer="x"
    )
    assert bad.form is not None and "lowercase" in bad.form.errors["topic_id"].lower()
    assert bad.form.values["title"] == "Podcasts"  # nothing typed is lost
    [taken] = await staff.submit(
        "topic_draft", form.form.context, topic_id="resources", title="Podcasts", answer="x"
    )
    assert taken.form is not None and "already" in taken.form.errors["topic_id"]
    [kept] = await staff.submit(
        "topic_draft",
        form.form.context,
        topic_id="podcasts",
        title="Podcasts",
        answer="Recordings are coming.",
    )
    assert "Kept as the draft of topic podcasts" in kept.text
    assert answered_topic(app, QUESTION) is None  # a draft is not answered before review
    [decided] = await staff.press("suggestion:reject:1")
    assert "already been decided" in decided.text
    async with app.database.session() as session:
        count, written = await suggestions.export(session, tmp_path)
    assert count == 0 and (tmp_path / "drafts" / "podcasts" / "en.yaml") in written
    draft = yaml.safe_load((tmp_path / "drafts" / "podcasts" / "en.yaml").read_text("utf-8"))
    assert draft["title"] == "Podcasts" and draft["questions"] == [QUESTION]
    assert draft["answer"].strip() == "Recordings are coming."
    topic = yaml.safe_load((tmp_path / "drafts" / "podcasts" / "topic.yaml").read_text("utf-8"))
    assert topic["confirmed"] is False


async def test_only_staff_review_suggestions(app: BotApp) -> None:
    await suggested(app)
    [refused] = await ConsoleChat(app, "marie").send("/suggestions")
    assert "only for the Strong Cities Network's Management Unit" in refused.text
    [refused] = await ConsoleChat(app, "marie").press("suggestion:reject:1")
    assert "only for" in refused.text
    async with app.database.session() as session:
        assert (await session.get(KnowledgeSuggestion, 1)).status == "pending"  # type: ignore[union-attr]


async def test_accepting_into_a_topic_that_no_longer_exists_is_refused(app: BotApp) -> None:
    staff = await suggested(app)
    [rejected] = await staff.submit(
        "suggestion", {"suggestion": "1"}, topic="no_such_topic", question=QUESTION
    )
    assert rejected.form is not None and "topic" in rejected.form.errors
    async with app.database.session() as session:
        staff_person = (await session.scalars(select(KnowledgeSuggestion))).one()
        assert staff_person.status == "pending"


async def test_export_writes_the_examples_and_drafts_which_the_bot_reads_at_start(
    app: BotApp, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = await suggested(app)
    await staff.submit("suggestion", {"suggestion": "1"}, topic="resources", question=QUESTION)
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    monkeypatch.setenv("BOT_CONTENT_DIR", str(content))
    monkeypatch.setenv("BOT_DATABASE_URL", app.database.url.render_as_string(hide_password=False))
    assert await asyncio.to_thread(main, ["content", "export-accepted"]) == 0  # the command line
    written = yaml.safe_load((content / "accepted" / "examples.yaml").read_text("utf-8"))
    assert written == [{"topic": "resources", "language": "en", "question": QUESTION}]
    assert await asyncio.to_thread(main, ["content", "export-accepted"]) == 0  # again: nothing doubled
    assert len(yaml.safe_load((content / "accepted" / "examples.yaml").read_text("utf-8"))) == 1
    assert check_content(content) == []
    fresh = build_app(Settings(bot_data_dir=tmp_path / "fresh", bot_content_dir=content, _env_file=None))  # type: ignore[call-arg]
    assert answered_topic(fresh, QUESTION) == "resources"  # read at start, with a fresh database


def test_the_content_check_names_an_example_of_a_missing_topic(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "accepted").mkdir(exist_ok=True)
    (content / "accepted" / "examples.yaml").write_text(
        "- {topic: gone_topic, language: en, question: is there a podcast}\n- {topic: resources}\n", "utf-8"
    )
    problems = check_content(content)
    assert any(
        "gone_topic" in p and "does not exist" in p and "accepted/examples.yaml" in p for p in problems
    )
    assert any("entry 2 must have a topic, a language and a question" in p for p in problems)
    examples, _ = suggestions.read_example_file(content)
    assert [e.topic for e in examples] == ["gone_topic"]
