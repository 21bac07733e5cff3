"""Small talk and off-topic questions: recognised from content/smalltalk.yaml, answered in kind with the
main menu, never kept as a question for staff; a greeting with a question still gets the answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.content import CONTENT_LANGUAGES
from bot.content_check import check_content
from bot.messages import Incoming, Reply
from bot.smalltalk import INTENTS, SMALLTALK_FILE, SmallTalk, load_smalltalk, read_smalltalk
from bot.storage.database import Database
from bot.storage.questions import Question
from handlers.questions import OFF_TOPIC

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"


@pytest.fixture(scope="module")
def talk() -> SmallTalk:
    found, problems = read_smalltalk(CONTENT, CONTENT_LANGUAGES)
    assert problems == []
    return found


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hello", "greeting"),
        ("Hiiii!!! 👋", "greeting"),
        ("HELLOOO", "greeting"),
        ("Bonjour à tous", "greeting"),
        ("¡Hola!", "greeting"),
        ("السلام عليكم", "greeting"),
        ("السلام علیکم", "greeting"),
        ("Привет", "greeting"),
        ("habari yako", "greeting"),
        ("Përshëndetje", "greeting"),
        ("thanks a lot, very helpful", "thanks"),
        ("merciii 🙏", "thanks"),
        ("شكرا جزيلا", "thanks"),
        ("asante sana", "thanks"),
        ("bye", "goodbye"),
        ("до свидания", "goodbye"),
        ("who are you?", "who_are_you"),
        ("hi, who are you?", "who_are_you"),
        ("wewe ni nani", "who_are_you"),
        ("am i talking to a real person or a bot", "are_you_bot"),
        ("¿eres un bot?", "are_you_bot"),
        ("help", "help"),
        ("مدد چاہیے", "help"),
        ("https://strongcitiesnetwork.org/resources/", "link"),
        ("www.strongcitiesnetwork.org  https://example.org", "link"),
        ("👍", "emoji"),
        ("🙏🏾", "emoji"),
        ("❤️❤️", "emoji"),
    ],
)
def test_small_talk_is_recognised_in_every_form(talk: SmallTalk, text: str, intent: str) -> None:
    assert talk.intent(text) == intent


@pytest.mark.parametrize(
    "text",
    [
        "hello, how do I apply?",
        "hi, is membership free?",
        "bonjour, comment adhérer au réseau ?",
        "thanks, and when is the next event?",
        "привет, а скока стоит членство?",
        "info on scn",
        "ok",
        "???",
        "see https://strongcitiesnetwork.org, is my city listed?",
        "",
    ],
)
def test_a_question_is_never_small_talk(talk: SmallTalk, text: str) -> None:
    assert talk.intent(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather in nairobi tomorrow",
        "who won the champions league",
        "what time is it",
        "what is 17 times 23",
        "combien font douze fois huit",
        "il est quelle heure ?",
        "receta de empanadas",
        "какая погода в ташкенте",
        "kush fitoi ndeshjen e djeshme",
    ],
)
def test_off_topic_cues(talk: SmallTalk, text: str) -> None:
    assert talk.is_off_topic(text)


@pytest.mark.parametrize(
    "text",
    [
        "a quelle heure commence le webinaire ?",
        "what time is the next webinar",
        "сколько времени занимает вступление",
        "how many cities are members",
        "academia de prevencion con la liga nacional de ciudades",
    ],
)
def test_on_topic_questions_have_no_off_topic_cue(talk: SmallTalk, text: str) -> None:
    assert not talk.is_off_topic(text)


def test_every_intent_replies_in_every_language(talk: SmallTalk) -> None:
    assert set(talk.replies) == set(INTENTS)
    for intent in INTENTS:
        assert {lang for lang in CONTENT_LANGUAGES if talk.replies[intent].get(lang)} == set(
            CONTENT_LANGUAGES
        )


def test_recognition_is_a_lookup_not_a_scan(talk: SmallTalk) -> None:
    """The cost does not grow with the number of phrases: a few hundred lookups per message at most."""
    assert len(talk.phrases) > 300
    import time

    started = time.perf_counter()
    for _ in range(200):
        talk.intent("hello, thanks a lot, bye, how do I apply to join the network this year")
        talk.is_off_topic("what is the weather like in nairobi tomorrow and who won the match")
    assert (time.perf_counter() - started) / 200 < 0.005


# --- Bad content: each problem names the file and the key; what reads is still served ---------------


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / SMALLTALK_FILE).write_text(text, encoding="utf-8")
    return tmp_path


def test_problems_name_file_and_key_and_the_rest_still_loads(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        """
intents:
  greeting:
    phrases: {en: [hello], fr: [bonjour]}
    reply: {en: "Hello!", fr: "Bonjour !"}
  thanks:
    phrases: {en: thanks}
    reply: {en: "You are welcome."}
  goodbye:
    phrases: {en: [bye], xx: [ciao]}
    reply: {fr: "Au revoir"}
  chitchat:
    reply: {en: "?"}
offtopic: {en: [weather]}
""",
    )
    talk, problems = read_smalltalk(root, ["en", "fr"])
    text = "\n".join(problems)
    assert "content/smalltalk.yaml: intents.thanks.phrases.en: must be a list of non-empty texts" in text
    assert "content/smalltalk.yaml: intents.thanks.reply.fr: is missing" in text
    assert "content/smalltalk.yaml: intents.goodbye.reply.en: is missing" in text
    assert "content/smalltalk.yaml: intents.chitchat: unknown intent" in text
    assert "content/smalltalk.yaml: intents.help: is missing" in text
    assert talk.intent("bonjour") == "greeting" and talk.reply("greeting", "fr") == "Bonjour !"
    assert talk.reply("thanks", "fr") == "You are welcome."  # English where the language is missing
    assert talk.intent("bye") is None  # skipped: no English reply
    assert talk.is_off_topic("nice weather today")


def test_a_missing_or_broken_file_leaves_the_bot_without_small_talk(tmp_path: Path) -> None:
    talk, problems = read_smalltalk(tmp_path, ["en"])
    assert talk.intent("hello") is None and problems == [
        "content/smalltalk.yaml: is missing, so small talk and off-topic questions are not recognised"
    ]
    root = _write(tmp_path, "intents: [unclosed")
    assert load_smalltalk(root, ["en"]).intent("hello") is None
    assert read_smalltalk(root, ["en"])[1][0].startswith("content/smalltalk.yaml: cannot be read")


def test_the_content_check_reports_small_talk_problems(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(CONTENT, tmp_path / "content")
    path = tmp_path / "content" / SMALLTALK_FILE
    path.write_text(path.read_text("utf-8").replace('      sw: "Karibu!', '      xx: "Karibu!'), "utf-8")
    problems = check_content(tmp_path / "content")
    assert (
        "content/smalltalk.yaml: intents.thanks.reply.sw: is missing (the English reply is shown)" in problems
    )


# --- Through the whole bot --------------------------------------------------------------------------


async def _send(app: BotApp, text: str, user: str = "amina") -> list[Reply]:
    return await app.handle(Incoming.from_text("console", user, user, text))


async def _menu(app: BotApp, user: str) -> list[str | None]:
    [reply] = await _send(app, "/start", user)
    return [b.payload for b in reply.buttons]


async def _questions(database: Database) -> list[Question]:
    async with database.session() as session:
        return list((await session.scalars(select(Question))).all())


async def test_a_greeting_gets_a_reply_and_the_menu_and_is_not_kept(
    app: BotApp, sqlite_database: Database
) -> None:
    [reply] = await _send(app, "Hello!!")
    assert reply.text == app.services.smalltalk.reply("greeting", "en")
    assert [b.payload for b in reply.buttons] == await _menu(app, "amina")
    assert not any((b.payload or "").startswith("ask:") for b in reply.buttons)
    assert "not sure" not in reply.text
    assert await _questions(sqlite_database) == []


async def test_small_talk_is_answered_in_the_persons_language(app: BotApp, sqlite_database: Database) -> None:
    for user, text, language in [
        ("ivan", "привет", "ru"),
        ("salma", "شكرا", "ar"),
        ("bilal", "بہت شکریہ", "ur"),
        ("claire", "bonjour", "fr"),
        ("baraka", "asante sana", "sw"),
        ("arta", "faleminderit", "sq"),
    ]:
        [reply] = await _send(app, text, user)
        intent = app.services.smalltalk.intent(text)
        assert intent is not None
        assert reply.text == app.services.smalltalk.reply(intent, language), (text, reply.text)
    assert await _questions(sqlite_database) == []


async def test_an_off_topic_question_gets_the_honest_reply(app: BotApp, sqlite_database: Database) -> None:
    [reply] = await _send(app, "what's the weather in Nairobi tomorrow?")
    assert reply.text.startswith("I can't help with that")
    assert [b.payload for b in reply.buttons] == await _menu(app, "amina")
    [reply] = await _send(app, "какая погода в Ташкенте?", "ivan")
    assert reply.text == app.services.catalogs.translator("ru").gettext(OFF_TOPIC)
    assert await _questions(sqlite_database) == []


async def test_a_greeting_with_a_question_gets_the_answer(app: BotApp) -> None:
    knowledge = app.services.knowledge
    assert knowledge is not None
    [reply] = await _send(app, "hello, how do I apply?")
    assert reply.text.startswith(knowledge.topic("how_to_join").text("en").answer.strip()[:60])
