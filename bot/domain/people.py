"""People and roles: what each role may do, and the checks domain services make before they act.

Roles, from least to most: a guest (anyone who writes: the knowledge base, applying), an applicant
(a pending application: its status), a focal point (a member city's verified contact: profile,
directory, introductions, events), staff (the Management Unit). Staff powers are audited every time
they are used or refused (`Policy.audited`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Refused
from bot.delivery.outbox import forget_recipient
from bot.domain import privacy
from bot.i18n import N_
from bot.storage.audit import AuditEntry
from bot.storage.conversation import ConversationState
from bot.storage.people import City, Person, PlatformIdentity, Role


class Permission(StrEnum):
    # anyone
    ASK = "ask"
    # guests and applicants
    APPLY = "apply"
    # focal points
    PROFILE = "profile"
    DIRECTORY = "directory"
    INTRODUCE = "introduce"
    EVENTS = "events"
    # staff
    ANNOUNCE = "announce"
    ANSWER_QUESTIONS = "answer_questions"
    SEE_STATS = "see_stats"
    MANAGE_CITIES = "manage_cities"
    REVIEW_APPLICATIONS = "review_applications"
    INVITE = "invite"
    MANAGE_PEOPLE = "manage_people"
    MANAGE_EVENTS = "manage_events"
    RUN_MATCHING = "run_matching"
    REVIEW_SUGGESTIONS = "review_suggestions"


STAFF_POWERS = frozenset(
    {
        Permission.ANNOUNCE,
        Permission.ANSWER_QUESTIONS,
        Permission.SEE_STATS,
        Permission.MANAGE_CITIES,
        Permission.REVIEW_APPLICATIONS,
        Permission.INVITE,
        Permission.MANAGE_PEOPLE,
        Permission.MANAGE_EVENTS,
        Permission.RUN_MATCHING,
        Permission.REVIEW_SUGGESTIONS,
    }
)
FOCAL_POINT_POWERS = frozenset(
    {Permission.PROFILE, Permission.DIRECTORY, Permission.INTRODUCE, Permission.EVENTS}
)

ROLE_PERMISSIONS: Mapping[str, frozenset[Permission]] = {
    Role.GUEST.value: frozenset({Permission.ASK, Permission.APPLY}),
    Role.APPLICANT.value: frozenset({Permission.ASK, Permission.APPLY}),
    Role.FOCAL_POINT.value: frozenset({Permission.ASK}) | FOCAL_POINT_POWERS,
    Role.STAFF.value: frozenset({Permission.ASK}) | STAFF_POWERS,
}

STAFF_ONLY = N_("Sorry, that is only for the Strong Cities Network's Management Unit.")
FOCAL_POINTS_ONLY = N_(
    "That is for the verified focal points of member cities. If your city is a member, ask the "
    "Management Unit for an invitation link; if it is not yet, send /apply to apply."
)
NOT_FOR_MEMBERS = N_(
    "Applying is for cities that are not members yet: there is nothing for you to apply for. "
    "Send /help to see what you can do."
)


class Policy:
    """The access policy the dispatcher consults (`bot.access.AccessPolicy`)."""

    def allows(self, role: str, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS.get(role, frozenset())

    def audited(self, permission: str) -> bool:
        return permission in STAFF_POWERS

    def refusal(self, permission: str) -> str:
        if permission in STAFF_POWERS:
            return STAFF_ONLY
        if permission in FOCAL_POINT_POWERS:
            return FOCAL_POINTS_ONLY
        if permission == Permission.APPLY:
            return NOT_FOR_MEMBERS
        return STAFF_ONLY


POLICY = Policy()


def can(person: Person, permission: Permission) -> bool:
    return POLICY.allows(person.role, permission)


def require(person: Person | None, permission: Permission) -> Person:
    """`person`, if their role holds `permission`; else `Refused` (the dispatcher tells and audits)."""
    if person is None or not POLICY.allows(person.role, permission):
        raise Refused(POLICY.refusal(permission), permission.value)
    return person


async def reachable_identity(session: AsyncSession, person_id: int) -> PlatformIdentity | None:
    """Where to write to a person who is not writing to us now: their Telegram chat when they have one,
    else their other platforms in the order they came; None when every one of them is unreachable."""
    return await session.scalar(
        select(PlatformIdentity)
        .where(PlatformIdentity.person_id == person_id, PlatformIdentity.unreachable_at.is_(None))
        .order_by(PlatformIdentity.platform != "telegram", PlatformIdentity.id)
        .limit(1)
    )


def name_of(person: Person | None) -> str:
    """How staff see a person in notices: their name, else their number."""
    if person is None:
        return "a person who has left"
    return person.display_name or f"person {person.id}"


# ---- privacy: the person's own record, accounts, pending forms and audit trail ----------------------
async def _export_profile(session: AsyncSession, person: Person) -> dict[str, object]:
    city = await session.get(City, person.city_id) if person.city_id else None
    return {
        "name": person.display_name,
        "role": person.role,
        "language": person.language,
        "language_chosen_explicitly": person.language_explicit,
        "time_zone": person.time_zone,
        "city": {"name": city.name, "country": city.country, "region": city.region} if city else None,
        "first_contact": person.created_at.isoformat(),
        "last_seen": person.last_seen_at.isoformat(),
    }


async def _identities(session: AsyncSession, person: Person) -> list[PlatformIdentity]:
    return list(
        (await session.scalars(select(PlatformIdentity).where(PlatformIdentity.person_id == person.id))).all()
    )


async def _export_accounts(session: AsyncSession, person: Person) -> list[dict[str, str]]:
    return [{"platform": i.platform, "id": i.external_id} for i in await _identities(session, person)]


async def _erase_accounts(session: AsyncSession, person: Person, erasure: privacy.Erasure) -> None:
    """The messages queued for them are dropped and the text of those already sent is removed, on
    every platform they used; then their identities go."""
    for identity in await _identities(session, person):
        await forget_recipient(session, identity.platform, identity.chat_id, erasure.now)
    await session.execute(delete(PlatformIdentity).where(PlatformIdentity.person_id == person.id))


async def _export_form(session: AsyncSession, person: Person) -> dict[str, object] | None:
    state = await session.get(ConversationState, person.id)
    if state is None:
        return None
    return {
        "flow": state.flow,
        "step": state.step,
        "data": state.data,
        "expires": state.expires_at.isoformat(),
    }


async def _erase_form(session: AsyncSession, person: Person, erasure: privacy.Erasure) -> None:
    await session.execute(delete(ConversationState).where(ConversationState.person_id == person.id))


async def _export_audit(session: AsyncSession, person: Person) -> list[dict[str, object]]:
    rows = (
        await session.scalars(
            select(AuditEntry).where(AuditEntry.person_id == person.id).order_by(AuditEntry.id)
        )
    ).all()
    return [{"at": row.at.isoformat(), "action": row.action, "detail": row.detail} for row in rows]


async def _erase_audit(session: AsyncSession, person: Person, erasure: privacy.Erasure) -> None:
    """The log keeps that something was done, not by whom nor with what personal detail."""
    await session.execute(
        update(AuditEntry).where(AuditEntry.person_id == person.id).values(person_id=None, detail={})
    )


privacy.register("profile", covers=(), export=_export_profile, erase=privacy.keeps_work("deleted last"))
privacy.register(
    "accounts", covers=("platform_identity.person_id",), export=_export_accounts, erase=_erase_accounts
)
privacy.register(
    "pending_form", covers=("conversation_state.person_id",), export=_export_form, erase=_erase_form
)
privacy.register("audit_log", covers=("audit_entry.person_id",), export=_export_audit, erase=_erase_audit)
