"""/mydata exports what is stored about a person; /forget erases it after a confirmation."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.storage.database import Database
from bot.storage.models import AuditEntry, City, Person, PlatformIdentity, Question
from tests.harness import ConsoleChat


async def _count(database: Database, model: type) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_export_contains_profile_accounts_and_questions(chat: ConsoleChat) -> None:
    await chat.press("profile:start")
    await chat.send("Amina Yusuf")
    await chat.send("Mombasa")
    await chat.send("what is the weather like on mars")
    [reply] = await chat.send("/mydata")
    [attachment] = reply.attachments
    assert attachment.filename == "my-data.json" and attachment.mime_type == "application/json"
    data = json.loads(attachment.content)
    assert data["name"] == "Amina Yusuf" and data["city"]["name"] == "Mombasa"
    assert data["accounts"] == [{"platform": "console", "id": "amina"}]
    assert [q["text"] for q in data["questions"]] == ["what is the weather like on mars"]


async def test_forget_needs_confirmation_then_erases_everything(
    chat: ConsoleChat, sqlite_database: Database
) -> None:
    await chat.send("what is the weather like on mars")
    await ConsoleChat(chat.app, "omar").send("/start")
    [question] = await chat.send("/forget")
    assert [b.payload for b in question.buttons] == ["forget:confirm", "forget:cancel"]
    [kept] = await chat.press("forget:cancel")
    assert "Nothing was erased" in kept.text
    assert await _count(sqlite_database, Person) == 2
    [done] = await chat.press("forget:confirm")
    assert "erased" in done.text
    assert await _count(sqlite_database, Person) == 1  # omar stays
    assert await _count(sqlite_database, PlatformIdentity) == 1
    assert await _count(sqlite_database, Question) == 0
    async with sqlite_database.session() as session:
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "person_erased"))).one()
        assert entry.person_id is None and entry.detail == {}
        assert (await session.scalars(select(City))).all() == []


async def test_a_forgotten_person_starts_afresh(chat: ConsoleChat) -> None:
    await chat.press("lang:set:fr")
    await chat.send("/forget")
    await chat.press("forget:confirm")
    [reply] = await chat.send("/help")
    assert reply.text.startswith("Here is what I can do")  # no stored French any more
