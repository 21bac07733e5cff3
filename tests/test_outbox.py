"""The outbox on SQLite and PostgreSQL: idempotent enqueue, claims under a lease, recorded outcomes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import FakeClock
from bot.delivery.outbox import Outbox, OutboxMessage, Outcome, claim, open_count, record
from bot.delivery.payload import reply_from_json, reply_to_json
from bot.messages import Attachment, Button, Markup, Reply
from bot.storage.database import Database
from bot.storage.delivery import Delivery, DeliveryBatch, Priority
from bot.storage.people import Person, PlatformIdentity

LEASE = timedelta(seconds=60)


def messages(count: int, prefix: str = "a1") -> list[OutboxMessage]:
    return [OutboxMessage(f"{prefix}:{n}", str(1000 + n), Reply(f"hello {n}")) for n in range(count)]


def test_payload_round_trip_keeps_buttons_markup_and_files() -> None:
    reply = Reply(
        "<b>Event</b>",
        buttons=(Button("Yes", payload="rsvp:1:yes"), Button("Site", url="https://example.org")),
        attachments=(Attachment("event.ics", b"\x00BEGIN:VCALENDAR", "text/calendar"),),
        markup=Markup.HTML,
    )
    assert reply_from_json(reply_to_json(reply)) == reply


async def test_enqueue_is_idempotent_on_the_key(database: Database, clock: FakeClock) -> None:
    outbox = Outbox(clock)
    async with database.session() as session:
        batch = await outbox.create_batch(session, kind="announcement", owner="console:staff", key="ann:1")
        assert await outbox.enqueue_many(session, "telegram", messages(5), batch=batch) == 5
    async with database.session() as session:
        again = await outbox.create_batch(session, kind="announcement", key="ann:1")
        assert again.id == batch.id
        assert await outbox.enqueue_many(session, "telegram", messages(7), batch=again) == 2
        assert not await outbox.enqueue(
            session, key="a1:0", platform="telegram", recipient="1000", reply=Reply("other")
        )
    async with database.session() as session:
        stored = await session.get(DeliveryBatch, batch.id, populate_existing=True)
        assert stored is not None and (stored.total, stored.pending) == (7, 7)
        assert await open_count(session, "telegram") == 7


async def test_claims_never_overlap_and_expired_leases_return(database: Database, clock: FakeClock) -> None:
    outbox = Outbox(clock)
    async with database.session() as session:
        await outbox.enqueue_many(session, "telegram", messages(5))
        await outbox.enqueue(
            session, key="intro:1", platform="telegram", recipient="7", reply=Reply("hi"),
            priority=Priority.URGENT,
        )  # fmt: skip
    async with database.session() as session:
        first = await claim(session, "telegram", "a", clock.now(), lease=LEASE, limit=3)
    async with database.session() as session:
        second = await claim(session, "telegram", "b", clock.now(), lease=LEASE, limit=10)
    assert first[0].key == "intro:1"  # urgent before bulk
    assert len(first) == 3 and len(second) == 3
    assert not {row.id for row in first} & {row.id for row in second}
    clock.advance(seconds=61)  # "a" died holding its three rows
    async with database.session() as session:
        third = await claim(session, "telegram", "c", clock.now(), lease=LEASE, limit=10)
    assert sorted(row.id for row in third) == sorted(row.id for row in first + second)
    assert {row.attempts for row in third if row.id in {r.id for r in first}} == {2}


async def test_a_stale_owner_cannot_record(database: Database, clock: FakeClock) -> None:
    outbox = Outbox(clock)
    async with database.session() as session:
        await outbox.enqueue_many(session, "telegram", messages(1))
    async with database.session() as session:
        (row,) = await claim(session, "telegram", "a", clock.now(), lease=LEASE, limit=1)
    clock.advance(seconds=61)
    async with database.session() as session:
        (again,) = await claim(session, "telegram", "b", clock.now(), lease=LEASE, limit=1)
    async with database.session() as session:
        await record(session, "a", [Outcome(row, "failed", error="late")], clock.now())
        await record(session, "b", [Outcome(again, "sent", message_id="m1")], clock.now())
    async with database.session() as session:
        stored = await session.get(Delivery, row.id)
        assert stored is not None and stored.status == "sent" and stored.last_error is None


async def test_gone_recipient_takes_pending_messages_along(database: Database, clock: FakeClock) -> None:
    outbox = Outbox(clock)
    async with database.session() as session:
        session.add(
            PlatformIdentity(
                platform="telegram", external_id="1000", chat_id="1000",
                person=Person(created_at=clock.now(), last_seen_at=clock.now()),
            )
        )  # fmt: skip
        batch = await outbox.create_batch(session, kind="reminder", owner="console:staff")
        await outbox.enqueue_many(session, "telegram", messages(2), batch=batch)
        await outbox.enqueue_many(session, "telegram", messages(1, prefix="later"), batch=batch)
    async with database.session() as session:
        rows = await claim(session, "telegram", "a", clock.now(), lease=LEASE, limit=1)
        assert rows[0].recipient == "1000"
    async with database.session() as session:
        progress = await record(session, "a", [Outcome(rows[0], "gone", error="blocked")], clock.now())
    assert [(p.gone, p.pending, p.total) for p in progress] == [(2, 1, 3)]
    async with database.session() as session:
        identity = (await session.scalars(select(PlatformIdentity))).one()
        assert identity.unreachable_at == clock.now()
        assert await outbox.enqueue_many(session, "telegram", messages(1, prefix="third"), batch=batch) == 1
    async with database.session() as session:
        stored = await session.get(DeliveryBatch, batch.id, populate_existing=True)
        assert stored is not None and (stored.gone, stored.pending, stored.total) == (3, 1, 4)
