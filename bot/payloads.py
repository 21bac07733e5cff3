"""Button payloads longer than a platform allows, kept in the database behind a short, stable key.

The key is derived from the payload itself, so the same payload always gets the same key and any
instance (or the same one after a restart) can resolve it.
"""

from __future__ import annotations

import base64
import hashlib
from collections import OrderedDict

from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.storage.buttons import ButtonPayload
from bot.storage.database import Database

MARK = "#"
CACHE_SIZE = 4096


class PayloadStore:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._cache: OrderedDict[str, str] = OrderedDict()

    async def shorten(self, payload: str, limit_bytes: int) -> str:
        """`payload` itself when it fits (and cannot be mistaken for a key), else `#<key>`."""
        if len(payload.encode("utf-8")) <= limit_bytes and not payload.startswith(MARK):
            return payload
        key = base64.urlsafe_b64encode(hashlib.sha256(payload.encode("utf-8")).digest()).decode()[:22]
        if key not in self._cache:
            async with self._database.session() as session:
                if await session.get(ButtonPayload, key) is None:
                    try:
                        async with session.begin_nested():
                            session.add(ButtonPayload(key=key, payload=payload, created_at=self._clock.now()))
                    except IntegrityError:
                        pass  # stored meanwhile by another message or instance: same key, same payload
            self._remember(key, payload)
        return MARK + key

    async def resolve(self, data: str) -> str | None:
        """The original payload for `data`; None for a key nobody stored (a forged or purged button)."""
        if not data.startswith(MARK):
            return data
        key = data[len(MARK) :]
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        async with self._database.session() as session:
            row = await session.get(ButtonPayload, key)
        if row is None:
            return None
        self._remember(key, row.payload)
        return row.payload

    def _remember(self, key: str, payload: str) -> None:
        self._cache[key] = payload
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
