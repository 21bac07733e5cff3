"""The privacy registry: what `/mydata` exports and `/forget` erases, declared by each domain module.

Every module that keeps rows about a person registers a part: the columns that point at `person.id`
it is responsible for (`covers`), how to export them, and how to erase them. A test fails when a
table gains a foreign key to `person.id` that no part covers, so each new feature's data is in the
export and the erasure by construction.

Erasure runs every part in registration order, then deletes the person. Parts that hold other
people's work about this person (staff answers, announcements written by a staff member) keep the
work and forget who it was (`keeps_work`).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import ERASED_PAYLOAD, FINISHED, Outbox
from bot.i18n import Catalogs
from bot.messages import Reply
from bot.storage.delivery import Delivery, DeliveryStatus, Priority
from bot.storage.people import Person

# Modules that register parts; imported before any export or erasure so the registry is complete.
DOMAIN_MODULES = (
    "bot.domain.people", "bot.domain.questions", "bot.domain.announcements", "bot.domain.membership",
    "bot.domain.events", "bot.domain.profiles", "bot.domain.introductions", "bot.domain.matching",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasing part may use: the outbox (to scrub or edit messages) and the time."""

    outbox: Outbox
    catalogs: Catalogs
    now: datetime


Exporter: TypeAlias = Callable[[AsyncSession, Person], Awaitable[Any]]
Eraser: TypeAlias = Callable[[AsyncSession, Person, Erasure], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    covers: tuple[str, ...]  # "table.column" foreign keys to person.id
    export: Exporter | None
    erase: Eraser
    note: str = ""


_PARTS: dict[str, Part] = {}


def register(
    name: str, *, covers: tuple[str, ...], erase: Eraser, export: Exporter | None = None, note: str = ""
) -> None:
    if name in _PARTS:
        raise ValueError(f"privacy part {name!r} registered twice")
    _PARTS[name] = Part(name, covers, export, erase, note)


def keeps_work(note: str) -> Eraser:
    """An eraser for rows that are work done by the person for others: their foreign key is set to NULL
    by the database when the person is deleted (`ON DELETE SET NULL`); nothing else is removed."""

    async def erase(session: AsyncSession, person: Person, erasure: Erasure) -> None:
        return None

    return erase


def parts() -> list[Part]:
    for module in DOMAIN_MODULES:
        importlib.import_module(module)
    return list(_PARTS.values())


def covered_columns() -> set[str]:
    return {column for part in parts() for column in part.covers}


async def export(session: AsyncSession, person: Person) -> dict[str, Any]:
    """Everything stored about `person`, part by part, as JSON-ready data."""
    data: dict[str, Any] = {}
    for part in parts():
        if part.export is not None:
            value = await part.export(session, person)
            if value not in (None, [], {}):
                data[part.name] = value
    return data


async def scrub_staff_copies(
    session: AsyncSession,
    erasure: Erasure,
    key_prefix: str,
    left: str,
    in_language: str | None = None,
    **params: object,
) -> None:
    """Messages about the person that went to others (outbox keys starting `key_prefix`: staff cards,
    what a peer was sent): their text is removed from the outbox, and each one the reader can see is
    edited to `left` (a msgid, in `in_language`, else the default language); one not sent yet is never
    sent."""
    rows = (
        await session.execute(
            select(Delivery.key, Delivery.platform, Delivery.recipient, Delivery.status).where(
                Delivery.key.like(f"{key_prefix}%"), Delivery.replace_key.is_(None)
            )
        )
    ).all()
    for key, platform, chat, status in rows:
        shown = status == DeliveryStatus.SENT.value
        await session.execute(
            update(Delivery)
            .where(Delivery.key == key)
            .values(
                payload=ERASED_PAYLOAD,
                updated_at=erasure.now,
                status=status if shown or status in FINISHED else DeliveryStatus.SUPERSEDED.value,
            )
        )
        await session.execute(  # edits of it not sent yet would show the text again
            update(Delivery)
            .where(Delivery.replace_key == key, Delivery.status == DeliveryStatus.PENDING.value)
            .values(payload=ERASED_PAYLOAD, status=DeliveryStatus.SUPERSEDED.value, updated_at=erasure.now)
        )
        if shown:
            text = erasure.catalogs.translator(in_language).gettext(left, **params)
            await erasure.outbox.enqueue(
                session, key=f"{key}:erased", platform=platform, recipient=chat, reply=Reply(text),
                replace_key=key, priority=Priority.URGENT,
            )  # fmt: skip


async def erase(session: AsyncSession, person: Person, erasure: Erasure) -> None:
    """Erase `person` and everything registered about them, in one transaction."""
    for part in parts():
        await part.erase(session, person, erasure)
    await session.delete(person)
    await session.flush()
