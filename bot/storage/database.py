"""The database handle: engine, sessions and migrations, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
CONNECT_TIMEOUT = 10.0  # seconds to wait for PostgreSQL to accept a connection
COMMAND_TIMEOUT = 30.0  # seconds a statement may take before asyncpg gives up on it
POOL_TIMEOUT = 10.0  # seconds to wait for a free connection from the pool
# Connections kept open: at least as many as work at once in one process (16 Telegram updates, the
# delivery workers of each platform, the scheduler), so none is opened and closed per message.
POOL_SIZE = 24
POOL_OVERFLOW = 8


_SQLITE_OUTAGES = ("database is locked", "unable to open", "disk i/o", "readonly", "database is busy")
_DRIVER_OUTAGES = frozenset(
    {
        "ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError",
        "InterfaceError", "InternalClientError", "AdminShutdownError", "CrashShutdownError",
        "TooManyConnectionsError", "ConnectionRefusedError", "TimeoutError",
    }
)  # fmt: skip


def is_outage(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached now (down, restarting, a dropped
    connection, a timeout, a locked SQLite file), as opposed to a wrong statement."""
    if isinstance(error, (OSError, TimeoutError, PoolTimeout, InterfaceError)):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    original = getattr(error, "orig", None) or error
    if type(original).__name__ in _DRIVER_OUTAGES or isinstance(original, (OSError, TimeoutError)):
        return True
    if isinstance(error, OperationalError):
        message = str(original).lower()
        return type(original).__module__.startswith("sqlite3") is False or any(
            part in message for part in _SQLITE_OUTAGES
        )
    return False


class DatabaseUnreachable(Exception):
    """The database refused the connection (down, wrong host, role or password, no such database).
    The message is one line naming BOT_DATABASE_URL, without the password."""


class Database:
    """One engine and session factory. `schema` isolates a PostgreSQL run (tests use a fresh one)."""

    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False) -> None:
        self.url = make_url(url)
        self.schema = schema
        connect_args: dict[str, Any] = {}
        engine_args: dict[str, Any] = {}
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            connect_args["timeout"] = 30
            if database and database != ":memory:":
                # No rollback when a connection goes back to the pool: every session and connection here
                # ends its transaction itself (commit, rollback, or Connection.close), and on aiosqlite
                # each call is a hop to the connection's thread (one of seven a message).
                engine_args.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_reset_on_return=None)
        else:
            engine_args.update(
                pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_pre_ping=True, pool_timeout=POOL_TIMEOUT
            )
            connect_args["timeout"] = CONNECT_TIMEOUT
            connect_args["command_timeout"] = COMMAND_TIMEOUT
            if schema:
                connect_args["server_settings"] = {"search_path": schema}
        self.engine: AsyncEngine = create_async_engine(
            self.url, echo=echo, connect_args=connect_args, **engine_args
        )
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends normally and rolls back otherwise."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to `revision` with Alembic (run on start for SQLite, and by `db upgrade`)."""
        if self.is_sqlite:
            await self._upgrade_sqlite(revision)
            return
        async with self.engine.begin() as connection:
            if self.schema:
                await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            await connection.run_sync(_run_alembic, "upgrade", revision)

    async def _upgrade_sqlite(self, revision: str) -> None:
        """The whole upgrade in one SQLite transaction, DDL included: Python's sqlite3 begins a
        transaction only before INSERT/UPDATE/DELETE, so without an explicit BEGIN each CREATE and each
        batch table copy commits on its own, and an upgrade stopped halfway (Ctrl-C, a crash) leaves a
        schema that no later start can bring up to date."""
        async with self.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                await autocommit.run_sync(_run_alembic, "upgrade", revision)
            except BaseException as error:
                with suppress(Exception):
                    await asyncio.shield(autocommit.exec_driver_sql("ROLLBACK"))
                task = asyncio.current_task()
                if task is not None and task.cancelling() and not isinstance(error, asyncio.CancelledError):
                    # Ctrl-C cancelled the upgrade mid-statement; what Alembic's clean-up then raised
                    # (an invalidated connection) is part of that cancellation, not a second error.
                    raise asyncio.CancelledError from None
                raise
            raw = await autocommit.get_raw_connection()
            if getattr(raw.driver_connection, "in_transaction", True):  # Alembic's end may have committed
                await autocommit.exec_driver_sql("COMMIT")

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as connection:
            return await connection.run_sync(_current_revision)

    async def check(self) -> None:
        """Connect once; `DatabaseUnreachable` with the reason when the database refuses."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:  # asyncpg, sqlite3 and OS errors all mean "cannot use it"
            reason = " ".join(str(getattr(error, "orig", None) or error).split()) or type(error).__name__
            shown = self.url.render_as_string(hide_password=True)
            raise DatabaseUnreachable(
                f"BOT_DATABASE_URL: cannot connect to {shown}: {reason[:300]}"
            ) from None

    async def ping(self, within: float = 1.0) -> bool:
        """Whether the database answers within `within` seconds."""
        try:
            async with asyncio.timeout(within):
                async with self.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _run_alembic(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config(connection)
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
