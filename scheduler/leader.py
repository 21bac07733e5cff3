"""Which instance runs the timed jobs: one leader per database, chosen by PostgreSQL itself.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own; when its
process dies the server drops the connection and the lock, and another instance, trying every
`RETRY` seconds, takes over. On SQLite there is one process, always the leader. The database is the
only coordination engine: no other protocol, no clocks compared.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.database import Database

log = logging.getLogger(__name__)
LOCK_KEY = 0x5C_0001  # the advisory lock of the scheduler's leader
RETRY_SECONDS = 10.0


class Leadership:
    def __init__(self, database: Database, *, retry: float = RETRY_SECONDS) -> None:
        self._database = database
        self.retry_seconds = retry
        self._connection: AsyncConnection | None = None
        self.is_leader = database.is_sqlite

    async def try_lead(self) -> bool:
        """Take the lead if nobody holds it; True while this instance leads."""
        if self._database.is_sqlite:
            return True
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                return True
            except Exception:
                log.warning("the scheduler's lead was lost with its connection")
                await self._close()
        try:
            connection = await self._database.engine.connect()
            got = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
            await connection.commit()
        except Exception:
            log.warning("could not ask for the scheduler's lead; will try again")
            return False
        if got:
            self._connection = connection
            self.is_leader = True
            log.info("this instance leads the scheduler")
            return True
        await connection.close()
        self.is_leader = False
        return False

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        self.is_leader = False
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        await self._close()
