"""Row ids that come back from outside (a form's context, a typed `/answer 12`, a button): read safely.

`str.isdigit` is true for "²" and "١٢" and for numbers no database column holds, so `int(raw)` after it
can raise (ValueError, or OverflowError in the driver); `record_id` answers None for all of those.
"""

from __future__ import annotations

import re
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
MAX_ID = 2**63 - 1  # the largest BIGINT (PostgreSQL) and SQLite INTEGER
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def record_id(raw: str | None) -> int | None:
    """`raw` as a row id (ASCII digits, 1 to 2**63 - 1), else None."""
    if raw is None or not _ASCII_DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


async def row_by_id(session: AsyncSession, model: type[T], raw: str | None) -> T | None:
    """The `model` row whose id `raw` names, or None (no such row, or `raw` is no row id)."""
    found = record_id(raw)
    return None if found is None else await session.get(model, found)
