"""Where staff read what the bot tells them: the staff channel of their platform, else their own chat.

A destination is also how a delivery batch names its owner (`"<platform>:<chat>"`), so the reports
of an announcement go back to where it was sent from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.people import Person, PlatformIdentity, Role


@dataclass(frozen=True, slots=True)
class Destination:
    platform: str
    chat: str
    language: str

    @property
    def owner(self) -> str:
        return f"{self.platform}:{self.chat}"


def parse_owner(owner: str) -> tuple[str, str] | None:
    """`"slack:C0STAFF"` -> `("slack", "C0STAFF")`; None when it names no chat."""
    platform, _, chat = owner.partition(":")
    return (platform, chat) if platform and chat else None


def report_destination(
    person: Person, identity: PlatformIdentity, staff_channels: Mapping[str, str], default_language: str
) -> Destination:
    """Where the reports of this staff member's work go: their platform's staff channel, else their chat."""
    channel = staff_channels.get(identity.platform)
    if channel:
        return Destination(identity.platform, channel, default_language)
    return Destination(identity.platform, identity.chat_id, person.language or default_language)


async def notice_destinations(
    session: AsyncSession, staff_channels: Mapping[str, str], default_language: str
) -> list[Destination]:
    """Where a notice for staff goes: every staff channel; with none, every reachable staff member."""
    if staff_channels:
        return [Destination(p, chat, default_language) for p, chat in sorted(staff_channels.items())]
    rows = await session.execute(
        select(PlatformIdentity.platform, PlatformIdentity.chat_id, Person.language)
        .join(Person, Person.id == PlatformIdentity.person_id)
        .where(Person.role == Role.STAFF.value, PlatformIdentity.unreachable_at.is_(None))
        .order_by(Person.id, PlatformIdentity.id)
    )
    return [Destination(p, chat, language or default_language) for p, chat, language in rows.all()]
