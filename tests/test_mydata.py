"""/mydata exports what is stored about a person; /forget erases it after a confirmation."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.storage.audit import AuditEntry
from bot.storage.database import Database
from bot.storage.people import City, Person, PlatformIdentity
from bot.storage.questions import Question
from tests.harness import ConsoleChat


async def _count(database: Database, model: type) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_export_contains_profile_accounts_and_questions(chat: ConsoleChat) -> None:
    from tests.people import add_focal_point

    await add_focal_point(chat.app, "amina", "en", ("Mombasa", "KE", "Africa"), platform="console")
    await chat.submit("profile", display_name="Amina Yusuf", languages=["en"], topics=["youth_engagement"])
    await chat.send("is there a discount for printing the certificate")
    [reply] = await chat.send("/mydata")
    [attachment] = reply.attachments
    assert attachment.filename == "my-data.json" and attachment.mime_type == "application/json"
    data = json.loads(attachment.content)
    assert data["profile"]["name"] == "Amina Yusuf" and data["profile"]["city"]["name"] == "Mombasa"
    assert data["accounts"] == [{"platform": "console", "id": "amina"}]
    assert data["directory_profile"]["topics"] == ["youth_engagement"]
    assert data["directory_profile"]["listed_in_directory"] is False
    assert [q["text"] for q in data["questions"]] == ["is there a discount for printing the certificate"]


async def test_forget_needs_confirmation_then_erases_everything(
    chat: ConsoleChat, sqlite_database: Database
) -> None:
    await chat.send("is there a discount for printing the certificate")
    await ConsoleChat(chat.app, "omar").send("/start")
    [question] = await chat.send("/forget")
    confirm, cancel = (b.payload for b in question.buttons)
    assert confirm and confirm.startswith("forget:confirm:") and cancel == "forget:cancel"
    [kept] = await chat.press(cancel)
    assert "Nothing was erased" in kept.text
    assert await _count(sqlite_database, Person) == 2
    [stale] = await chat.press(confirm)  # the question was answered: its confirmation is spent
    assert "expired" in stale.text and await _count(sqlite_database, Person) == 2
    await chat.send("/forget")
    [done] = await chat.press_label("Yes, erase everything")
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
    await chat.press_label("Oui, tout effacer")
    [reply] = await chat.send("/help")
    assert reply.text.startswith("Here is what I can do")  # no stored French any more


async def test_forget_drops_queued_messages_and_scrubs_sent_ones(
    chat: ConsoleChat, sqlite_database: Database
) -> None:
    from bot.delivery.batches import batch_progress
    from bot.delivery.outbox import ERASED_PAYLOAD
    from bot.messages import Reply
    from bot.storage.delivery import Delivery

    app = chat.app
    await chat.send("/start")
    outbox = app.services.outbox
    async with sqlite_database.session() as session:
        batch = await outbox.create_batch(session, kind="announcement", title="summit")
        await outbox.enqueue(
            session,
            key="a:1:amina",
            platform="console",
            recipient="amina",
            reply=Reply("Summit in Cape Town"),
            batch=batch,
        )
        await outbox.enqueue(
            session,
            key="a:1:omar",
            platform="console",
            recipient="omar",
            reply=Reply("Summit in Cape Town"),
            batch=batch,
        )
        await outbox.enqueue(
            session,
            key="old:amina",
            platform="console",
            recipient="amina",
            reply=Reply("An old personal notice"),
        )
        batch_id = batch.id
    async with sqlite_database.session() as session:  # the old notice was sent long ago
        old = (await session.scalars(select(Delivery).where(Delivery.key == "old:amina"))).one()
        old.status = "sent"
    ids = {}
    async with sqlite_database.session() as session:
        ids = {d.key: d.id for d in (await session.scalars(select(Delivery))).all()}
    await chat.send("/forget")
    await chat.press_label("Yes, erase everything")
    async with sqlite_database.session() as session:
        rows = {d.id: d for d in (await session.scalars(select(Delivery))).all()}
        progress = await batch_progress(session, batch_id)
    queued, old, omar = rows[ids["a:1:amina"]], rows[ids["old:amina"]], rows[ids["a:1:omar"]]
    assert queued.status == "gone" and queued.payload == ERASED_PAYLOAD
    assert old.payload == ERASED_PAYLOAD
    for erased in (queued, old):  # nothing names them any more: not the chat, not the key
        assert (
            erased.recipient == "-"
            and erased.key == f"erased:{erased.id}"
            and erased.platform_message_id is None
        )
    assert omar.status == "pending" and omar.payload != ERASED_PAYLOAD and omar.recipient == "omar"
    assert progress is not None and (progress.pending, progress.gone) == (1, 1)
