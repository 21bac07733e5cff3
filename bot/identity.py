"""Who is writing: the person behind a platform identity, found or created on first contact.

The adapter's word on staff (`Incoming.staff_vouched`) is applied here: True makes the person staff,
False (the platform checked) takes the staff role away again, None leaves the stored role alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.messages import Incoming
from bot.storage.conversation import ConversationState
from bot.storage.people import Person, PlatformIdentity, Role

SEEN_RESOLUTION = timedelta(
    hours=1
)  # last_seen_at is refreshed at most this often (one write saved per message)


async def find_identity(
    session: AsyncSession, platform: str, external_id: str
) -> tuple[Person, PlatformIdentity] | None:
    found = await _find(session, platform, external_id)
    return (found.person, found.identity) if found else None


@dataclass(frozen=True, slots=True)
class Identified:
    person: Person
    identity: PlatformIdentity
    created: bool
    conversation: ConversationState | None  # read in the same query (None: no pending form)


async def _find(session: AsyncSession, platform: str, external_id: str) -> Identified | None:
    """The person, their identity and their pending conversation state, in one query."""
    row = (
        await session.execute(
            select(Person, PlatformIdentity, ConversationState)
            .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
            .outerjoin(ConversationState, ConversationState.person_id == Person.id)
            .where(PlatformIdentity.platform == platform, PlatformIdentity.external_id == external_id)
        )
    ).first()
    return Identified(row[0], row[1], False, row[2]) if row else None


async def identify(
    session: AsyncSession, incoming: Incoming, clock: Clock
) -> tuple[Person, PlatformIdentity, bool]:
    """The person behind `incoming`, created the first time they write (a guest, or staff if vouched);
    the flag says whether this message created them."""
    found = await identify_with_state(session, incoming, clock)
    return found.person, found.identity, found.created


async def identify_with_state(session: AsyncSession, incoming: Incoming, clock: Clock) -> Identified:
    """`identify`, with the person's pending conversation state read in the same query."""
    now = clock.now()
    found = await _find(session, incoming.platform, incoming.user_id)
    if found is None:
        role = Role.STAFF if incoming.staff_vouched else Role.GUEST
        person = Person(
            display_name=incoming.display_name[:200], role=role.value, created_at=now, last_seen_at=now
        )
        identity = PlatformIdentity(
            platform=incoming.platform,
            external_id=incoming.user_id,
            chat_id=incoming.chat_id,
            username=incoming.username,
            person=person,
        )
        try:
            async with session.begin_nested():
                session.add_all([person, identity])
        except IntegrityError:
            # The same new person wrote twice at once; the other message created them.
            found = await _find(session, incoming.platform, incoming.user_id)
            if found is None:
                raise
        else:
            return Identified(person, identity, True, None)
    person, identity = found.person, found.identity
    if now - person.last_seen_at >= SEEN_RESOLUTION:
        person.last_seen_at = now
    if incoming.is_private and identity.chat_id != incoming.chat_id:
        identity.chat_id = incoming.chat_id
    if incoming.username != identity.username:
        identity.username = incoming.username  # a handle can change, or be removed
    if identity.unreachable_at is not None:
        identity.unreachable_at = None  # they wrote to us, so they can be reached again
    if incoming.display_name and not person.display_name:
        person.display_name = incoming.display_name[:200]
    return found


def vouched_role(person: Person, incoming: Incoming) -> str | None:
    """The role the adapter's word on staff gives `person`, when it changes the stored one."""
    if incoming.staff_vouched is True and person.role != Role.STAFF.value:
        return Role.STAFF.value
    if incoming.staff_vouched is False and person.role == Role.STAFF.value:
        return Role.GUEST.value
    return None
