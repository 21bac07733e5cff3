"""Profiles: what other focal points see of a focal point, and the consents that say who may see it.

The name is `Person.display_name`, the city the registry's; the profile adds the role (job title),
languages spoken, challenges from the taxonomy (`bot.taxonomy`), and three separate consents, all off
until given: to be listed in the directory, to be asked for introductions, to take part in matching
rounds. A peer's card never holds a contact handle: that is only given when both sides agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import cities, privacy
from bot.i18n import N_, Translator, language_name
from bot.storage.peers import Profile
from bot.storage.people import City, CityStatus, Person, Role
from bot.taxonomy import Taxonomy

MAX_NAME = 100
MAX_JOB_TITLE = 200
# Languages offered in the profile beyond the bot's own: those most spoken in the network's cities.
OTHER_LANGUAGES = (
    "pt", "de", "it", "nl", "tr", "bs", "hr", "sr", "mk", "uk", "fa", "ps", "hi", "bn", "ta", "id", "ms",
    "tl", "so", "ha", "am", "yo", "zh", "ja", "ko",
)  # fmt: skip
LEFT = N_("a focal point who has left")


def spoken_languages(bot_languages: Sequence[str]) -> tuple[str, ...]:
    """The language codes a profile may list: the bot's languages first, then the others."""
    return tuple(dict.fromkeys((*bot_languages, *OTHER_LANGUAGES)))


@dataclass(frozen=True, slots=True)
class ProfileValues:
    display_name: str
    job_title: str
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    listed: bool
    introductions: bool
    matching: bool | None = None  # None: leave as it is


async def profile_of(session: AsyncSession, person_id: int) -> Profile | None:
    return await session.get(Profile, person_id)


async def save(session: AsyncSession, person: Person, values: ProfileValues, now: datetime) -> Profile:
    profile = await profile_of(session, person.id)
    if profile is None:
        profile = Profile(person_id=person.id, updated_at=now)
        session.add(profile)
    person.display_name = values.display_name[:MAX_NAME]
    profile.job_title = values.job_title[:MAX_JOB_TITLE]
    profile.languages = list(values.languages)
    profile.topics = list(values.topics)
    profile.listed = values.listed
    profile.introductions = values.introductions
    if values.matching is not None:
        profile.matching = values.matching
    profile.updated_at = now
    return profile


async def set_matching(session: AsyncSession, person: Person, taking_part: bool, now: datetime) -> Profile:
    """Join or leave matching rounds (a new profile speaks the person's language)."""
    profile = await profile_of(session, person.id)
    if profile is None:
        profile = Profile(person_id=person.id, languages=[person.language or "en"], updated_at=now)
        session.add(profile)
    profile.matching = taking_part
    profile.updated_at = now
    return profile


@dataclass(frozen=True, slots=True)
class Peer:
    """A focal point as another sees them (person, profile, city); None parts for one who has left."""

    person: Person | None
    profile: Profile | None
    city: City | None

    @property
    def id(self) -> int | None:
        return self.person.id if self.person is not None else None


async def peer(session: AsyncSession, person_id: int | None) -> Peer:
    if person_id is None:
        return Peer(None, None, None)
    person = await session.get(Person, person_id)
    if person is None:
        return Peer(None, None, None)
    city = await session.get(City, person.city_id) if person.city_id else None
    return Peer(person, await profile_of(session, person_id), city)


def name(peer: Peer, t: Translator) -> str:
    """ "Amina (Mombasa County, Kenya)"; "a focal point who has left"."""
    if peer.person is None:
        return t.gettext(LEFT)
    shown = peer.person.display_name or t.gettext("a focal point")
    return f"{shown} ({cities.label(peer.city, t.language)})" if peer.city else shown


def card(peer: Peer, t: Translator, taxonomy: Taxonomy) -> str:
    """The lines another focal point sees: name and role, city and region, challenges, languages."""
    if peer.person is None:
        return t.gettext(LEFT)
    profile = peer.profile
    head = peer.person.display_name or t.gettext("a focal point")
    if profile is not None and profile.job_title:
        head = f"{head}, {profile.job_title}"
    lines = [head]
    if peer.city is not None:
        where = cities.label(peer.city, t.language)
        if peer.city.region:
            where += f" · {taxonomy.region_label(peer.city.region, t.language)}"
        lines.append(where)
    if profile is not None and profile.topics:
        topics = ", ".join(taxonomy.label(topic, t.language) for topic in profile.topics)
        lines.append(t.gettext("Works on: {topics}", topics=topics))
    if profile is not None and profile.languages:
        spoken = ", ".join(language_name(code, t.language) for code in profile.languages)
        lines.append(t.gettext("Speaks: {languages}", languages=spoken))
    return "\n".join(lines)


# ---- privacy -----------------------------------------------------------------------------------------
async def _export(session: AsyncSession, person: Person) -> dict[str, object] | None:
    profile = await profile_of(session, person.id)
    if profile is None:
        return None
    return {
        "role": profile.job_title,
        "languages": list(profile.languages),
        "topics": list(profile.topics),
        "listed_in_directory": profile.listed,
        "accepts_introductions": profile.introductions,
        "matching_rounds": profile.matching,
        "updated_at": profile.updated_at.isoformat(),
    }


async def _erase(session: AsyncSession, person: Person, erasure: privacy.Erasure) -> None:
    await session.execute(delete(Profile).where(Profile.person_id == person.id))


privacy.register(
    "directory_profile",
    covers=("profile.person_id",),
    export=_export,
    erase=_erase,
    note="the profile other focal points see, and its consents",
)


async def listed_profiles(session: AsyncSession) -> list[tuple[Person, Profile, City]]:
    """Every focal point listed in the directory, with their profile and city."""
    rows = await session.execute(
        select(Person, Profile, City)
        .join(Profile, Profile.person_id == Person.id)
        .join(City, City.id == Person.city_id)
        .where(
            Profile.listed.is_(True),
            Person.role == Role.FOCAL_POINT.value,
            City.status == CityStatus.MEMBER.value,
        )
        .order_by(Person.display_name, Person.id)
    )
    return [(person, profile, city) for person, profile, city in rows.all()]
