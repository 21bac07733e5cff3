"""The reply language: explicit choice > confident detection > stored > platform hint > default."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.app import BotApp
from bot.config import Settings
from bot.context import Context
from bot.messages import Reply
from bot.routing import Router
from bot.storage.database import Database
from handlers import language
from tests.harness import ConsoleChat


@dataclass(frozen=True)
class Verdict:
    language: str | None
    confident: bool


class ScriptedDetector:
    """Detects what the text says it is: "[fr] bonjour" is confidently French, "[fr?] ..." is a guess."""

    def detect(self, text: str, prior: str | None = None) -> Verdict:
        if text.startswith("[") and "]" in text:
            tag = text[1 : text.index("]")]
            return Verdict(tag.rstrip("?"), not tag.endswith("?"))
        return Verdict(None, False)

    def detect_first_contact(self, text: str) -> Verdict:
        return self.detect(text)


echo = Router("echo")


@echo.text
async def say_language(ctx: Context) -> Reply:
    return Reply(f"{ctx.language} offer={ctx.language_offer} unsupported={ctx.unsupported_language}")


@pytest.fixture
async def app(settings: Settings, sqlite_database: Database) -> AsyncIterator[BotApp]:
    routers = [echo, language.router]
    yield BotApp(settings, routers, database=sqlite_database, flood_limit=False, detector=ScriptedDetector())


async def said(chat: ConsoleChat, text: str) -> str:
    [reply] = await chat.send(text)
    return reply.text


async def test_default_then_hint(app: BotApp) -> None:
    assert await said(ConsoleChat(app, "a"), "hello") == "en offer=None unsupported=None"
    assert (
        await said(ConsoleChat(app, "b", language_hint="ar-EG"), "hello") == "ar offer=None unsupported=None"
    )


async def test_stored_language_beats_the_hint_and_guesses(app: BotApp) -> None:
    chat = ConsoleChat(app, "a", language_hint="fr")
    assert (await said(chat, "hello")).startswith("fr ")  # first contact stores the hint's language
    chat.language_hint = "es"
    assert (await said(chat, "[ru?] privet")).startswith("fr ")  # a guess and a new hint change nothing


async def test_confident_detection_answers_in_it_and_offers_the_switch(app: BotApp) -> None:
    chat = ConsoleChat(app, "a", language_hint="fr")
    await said(chat, "hello")
    assert await said(chat, "[es] hola que tal") == "es offer=es unsupported=None"
    assert (await said(chat, "hello")).startswith("fr ")  # the stored language is unchanged


async def test_explicit_choice_wins_over_detection(app: BotApp) -> None:
    chat = ConsoleChat(app, "a")
    await chat.press("lang:set:ar")
    assert await said(chat, "[es] hola que tal") == "ar offer=es unsupported=None"


async def test_unsupported_language_is_answered_in_english_with_a_note(app: BotApp) -> None:
    chat = ConsoleChat(app, "a", language_hint="fr")
    await said(chat, "hello")
    assert await said(chat, "[de] wie geht es") == "en offer=None unsupported=de"
    chosen = ConsoleChat(app, "b")
    await chosen.press("lang:set:ar")
    assert await said(chosen, "[de] wie geht es") == "ar offer=None unsupported=None"  # they read Arabic
