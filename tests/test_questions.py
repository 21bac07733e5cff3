"""Free-text questions answered in the person's language, or honestly not, through the whole app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.clock import FakeClock
from bot.config import Settings
from bot.storage.database import Database
from bot.storage.people import Person
from bot.storage.questions import Question
from handlers.questions import TOO_SHORT
from run_bot import build_app
from tests.harness import ConsoleChat


def buttons(chat: ConsoleChat) -> list[tuple[str, str | None]]:
    return [(b.label, b.payload) for reply in chat.last for b in reply.buttons]


async def start_menu(chat: ConsoleChat) -> list[str | None]:
    """The buttons /start shows this person: the main menu."""
    [reply] = await chat.send("/start")
    return [b.payload for b in reply.buttons]


@pytest.mark.parametrize(
    ("text", "language", "topic_words"),
    [
        ("is membership free?", "en", "free"),
        ("كيف تنضم مدينتي؟", "ar", "الانضمام"),
        ("¿hay recursos sobre jóvenes?", "es", "juventud"),
        ("qui dirige le réseau ?", "fr", "Institute for Strategic Dialogue"),
    ],
)
async def test_answers_in_the_language_of_the_question(
    app: BotApp, text: str, language: str, topic_words: str
) -> None:
    chat = ConsoleChat(app, f"person-{language}")
    [reply] = await chat.send(text)
    assert topic_words in reply.text
    async with app.database.session() as session:
        person = (await session.scalars(select(Person))).one()
        assert person.language == language  # the first message set the stored language


async def test_unconfirmed_topic_is_hedged_and_links_are_listed(chat: ConsoleChat) -> None:
    [reply] = await chat.send("what does a focal point have to do?")
    assert "please check it with the Management Unit" in reply.text
    [reply] = await chat.send("who runs the strong cities network?")
    assert "https://" in reply.text


async def test_unsure_answer_offers_topics_stores_question_and_forwards(
    chat: ConsoleChat, sqlite_database: Database
) -> None:
    [reply] = await chat.send("can our deputy mayor bring a spouse to the dinner")
    assert "not sure" in reply.text
    offered = buttons(chat)
    assert 2 <= len(offered) <= 4 and offered[-1][0] == "Send my question to the team"
    assert all(payload and payload.startswith("topic:") for _, payload in offered[:-1])
    [topic] = await chat.press(offered[0][1] or "")
    assert topic.text
    await chat.send("can our deputy mayor bring a spouse to the dinner")
    [thanks] = await chat.press_label("Send my question to the team")
    assert "with the team" in thanks.text and thanks.edit
    async with sqlite_database.session() as session:
        statuses = (await session.scalars(select(Question.status).order_by(Question.id))).all()
    assert statuses == ["open", "forwarded"]


async def test_someone_elses_question_cannot_be_forwarded(app: BotApp) -> None:
    amina, omar = ConsoleChat(app, "amina"), ConsoleChat(app, "omar")
    await amina.send("is there a discount for printing the certificate")
    payload = next(p for _, p in buttons(amina) if p and p.startswith("ask:"))
    [reply] = await omar.press(payload)
    assert "can no longer be sent" in reply.text


async def test_another_language_offers_to_switch(chat: ConsoleChat) -> None:
    await chat.send("is membership free?")
    [reply] = await chat.send("¿cuánto cuesta ser miembro de la red?")
    assert "no cuesta nada" in reply.text
    switch = [(label, payload) for label, payload in buttons(chat) if payload == "lang:set:es"]
    assert switch and "español" in switch[0][0]  # lower case inside a sentence
    await chat.press("lang:set:es")
    [reply] = await chat.send("ok")  # "ok" does not switch anyone back to English
    assert reply.text == chat.app.services.catalogs.translator("es").gettext(TOO_SHORT)


async def test_unsupported_language_gets_english_with_a_note(chat: ConsoleChat) -> None:
    [reply] = await chat.send("ist die mitgliedschaft für unsere stadt kostenlos?")
    assert reply.text.startswith("I do not speak German yet")


async def test_topic_not_written_in_the_language_comes_in_english_with_a_note(
    settings: Settings, sqlite_database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    # Every real topic is written in every language, so take one away (the loader tolerates it;
    # the content check would report it).
    content = tmp_path / "content"
    shutil.copytree(settings.bot_content_dir, content)
    (content / "topics" / "global_summits" / "ru.yaml").unlink()
    settings = settings.model_copy(update={"bot_content_dir": content})
    app = build_app(settings, clock=clock, database=sqlite_database, flood_limit=False)
    chat = ConsoleChat(app, "ivan", language_hint="ru")
    [reply] = await chat.press("topic:global_summits")
    english = app.services.knowledge.topic("global_summits").text("en").answer.strip()  # type: ignore[union-attr]
    assert reply.text.startswith(english)
    note = app.services.catalogs.translator("ru").gettext(
        "This answer is not yet written in {language}, so it is in English.", language="русский"
    )
    assert reply.text.endswith(note)


@pytest.mark.parametrize("text", ["👍", "ok", "???", "12345", "😀😀😀"])
async def test_tiny_messages_get_a_hint_not_a_stored_question(
    chat: ConsoleChat, sqlite_database: Database, text: str
) -> None:
    """A word too short to be a question gets a hint; an emoji alone is small talk, with the menu."""
    [reply] = await chat.send(text)
    assert "/help" in reply.text or "menu:help" in [b.payload for b in reply.buttons]
    async with sqlite_database.session() as session:
        assert (await session.scalars(select(Question))).all() == []


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "\x07\x1b[31mred\x1b[0m is membership free?",
        "هل العضوية free للمدن الصغيرة؟ 🙏",
        "<script>alert(1)</script> & **bold** _it_ [link](http://x)",
        "🏙️🌍🤝",
    ],
)
async def test_odd_messages_get_a_clear_reply(chat: ConsoleChat, text: str) -> None:
    replies = await chat.send(text)
    assert len(replies) == 1 and replies[0].text
    assert "went wrong" not in replies[0].text


@pytest.mark.parametrize(
    "text", ["how do i cook rice", "what is the weather on mars", "who won the football match yesterday"]
)
async def test_off_topic_questions_get_an_honest_reply_and_the_menu(
    chat: ConsoleChat, sqlite_database: Database, text: str
) -> None:
    [reply] = await chat.send(text)
    assert reply.text.startswith("I can't help with that")
    assert [b.payload for b in reply.buttons] == await start_menu(chat)
    async with sqlite_database.session() as session:
        assert (await session.scalars(select(Question))).all() == []


@pytest.mark.parametrize("text", ["Amina", "Rabat", "John Smith"])
async def test_names_are_not_answered_confidently(chat: ConsoleChat, text: str) -> None:
    [reply] = await chat.send(text)
    assert (
        reply.buttons and reply.buttons[-1].payload and reply.buttons[-1].payload.startswith("ask:forward:")
    ) or "/help" in reply.text
