"""Storage on SQLite and PostgreSQL: migrations match the models, people are identified once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.clock import FakeClock
from bot.identity import identify
from bot.messages import Incoming
from bot.storage.database import Database
from bot.storage.models import Base
from bot.storage.people import Person, PlatformIdentity


async def test_migrations_match_the_models(database: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_identify_creates_once_and_updates_chat(database: Database) -> None:
    clock = FakeClock()
    incoming = Incoming("telegram", "42", "42", text="hi", display_name="Amina")
    async with database.session() as session:
        person, identity, _created = await identify(session, incoming, clock)
        assert person.role == "guest" and identity.chat_id == "42"
    clock.advance(hours=2)
    async with database.session() as session:
        again, identity, _created = await identify(
            session, Incoming("telegram", "42", "4242", text="hi"), clock
        )
        assert again.id == person.id and identity.chat_id == "4242"
        assert again.last_seen_at == clock.now()
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1


async def test_identity_is_unique_per_platform(database: Database) -> None:
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            for _ in range(2):
                person = Person(created_at=now, last_seen_at=now)
                session.add(
                    PlatformIdentity(platform="telegram", external_id="7", chat_id="7", person=person)
                )
            await session.flush()


async def test_times_come_back_as_utc(database: Database) -> None:
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=3)))
    async with database.session() as session:
        session.add(Person(created_at=moment, last_seen_at=moment))
    async with database.session() as session:
        person = (await session.scalars(select(Person))).one()
        assert person.created_at == moment and person.created_at.tzinfo is not None
        assert person.created_at.utcoffset() == timedelta(0)


async def test_upgrade_is_idempotent(database: Database) -> None:
    from alembic.script import ScriptDirectory

    from bot.storage.database import alembic_config

    await database.upgrade()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert await database.current_revision() == head
