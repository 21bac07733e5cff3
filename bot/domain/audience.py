"""Who a broadcast reaches: all focal points, or those of one region, country, language or city.

A focal point is reached on one platform: Telegram where they have it, else the first other identity
not known to be unreachable (the console, in a demo). Announcements and event invitations share this.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_, Translator, language_name
from bot.ids import record_id
from bot.storage.people import City, Person, PlatformIdentity, Role

KINDS = ("all", "region", "country", "language", "city")
PREFERRED_PLATFORMS = ("telegram",)  # then any other, by identity id
ALL = N_("all focal points")
IN_CITY = N_("focal points in {city}")
IN_REGION = N_("focal points in the region {region}")
IN_COUNTRY = N_("focal points in {country}")
READING = N_("focal points who read {language}")


class AudienceError(ValueError):
    """An audience that does not parse (staff-facing detail in the message)."""


@dataclass(frozen=True, slots=True)
class Audience:
    """All focal points, or those of one region, country, language or city (`value` is the city's id)."""

    kind: str = "all"
    value: str = ""

    @classmethod
    def parse(cls, raw: str) -> Audience:
        """`"all"`, `"region:MENA"`, `"city:12"`; raises `AudienceError` for anything else."""
        kind, _, value = raw.strip().partition(":")
        if kind == "all" and not value:
            return cls()
        if kind not in KINDS or kind == "all" or not value or (kind == "city" and record_id(value) is None):
            raise AudienceError(f"unknown audience {raw!r}")
        return cls(kind, value)

    def encode(self) -> str:
        return "all" if self.kind == "all" else f"{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class Recipient:
    person_id: int
    platform: str
    chat_id: str
    language: str | None


@dataclass(frozen=True, slots=True)
class Reach:
    people: int
    by_language: dict[str, int]


@dataclass(frozen=True, slots=True)
class AudienceChoices:
    """What an audience can be narrowed to, from the focal points we have."""

    regions: list[str]
    countries: list[str]
    languages: list[str]
    cities: list[tuple[int, str]]  # (id, "Lisbon, Portugal")


_Rows = Select[int, str, str, str | None]  # person id, platform, chat id, language


def _focal_points() -> _Rows:
    return (
        select(Person.id, PlatformIdentity.platform, PlatformIdentity.chat_id, Person.language)
        .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
        .outerjoin(City, City.id == Person.city_id)
        .where(Person.role == Role.FOCAL_POINT.value, PlatformIdentity.unreachable_at.is_(None))
    )


def _narrowed(query: _Rows, audience: Audience, default_language: str) -> _Rows:
    if audience.kind == "region":
        return query.where(City.region == audience.value)
    if audience.kind == "country":
        return query.where(City.country == audience.value)
    if audience.kind == "city":
        return query.where(Person.city_id == int(audience.value))
    if audience.kind == "language":
        if audience.value == default_language:  # people with no stored language read the default
            return query.where((Person.language == audience.value) | Person.language.is_(None))
        return query.where(Person.language == audience.value)
    return query


def _rank(platform: str) -> int:
    return (
        PREFERRED_PLATFORMS.index(platform) if platform in PREFERRED_PLATFORMS else len(PREFERRED_PLATFORMS)
    )


async def recipients(
    session: AsyncSession, audience: Audience, *, default_language: str = "en"
) -> list[Recipient]:
    """One reachable identity per focal point in the audience, in person order."""
    rows = await session.execute(
        _narrowed(_focal_points(), audience, default_language).order_by(Person.id, PlatformIdentity.id)
    )
    chosen: dict[int, Recipient] = {}
    for person_id, platform, chat_id, language in rows.all():
        found = chosen.get(person_id)
        if found is None or _rank(platform) < _rank(found.platform):
            chosen[person_id] = Recipient(person_id, platform, chat_id, language)
    return list(chosen.values())


async def reach(session: AsyncSession, audience: Audience, *, default_language: str = "en") -> Reach:
    """How many people the audience reaches, and in which languages they will read it."""
    found = await recipients(session, audience, default_language=default_language)
    counted = Counter(r.language or default_language for r in found)
    return Reach(len(found), dict(sorted(counted.items())))


async def choices(session: AsyncSession, *, default_language: str = "en") -> AudienceChoices:
    rows = (await session.execute(
        _focal_points().with_only_columns(Person.language, City.id, City.name, City.country, City.region)
        .distinct()
    )).all()  # fmt: skip
    regions = sorted({row.region for row in rows if row.region})
    countries = sorted({row.country for row in rows if row.country})
    languages = sorted({row.language or default_language for row in rows})
    cities = sorted(
        {(row.id, f"{row.name}, {row.country}" if row.country else row.name) for row in rows if row.id},
        key=lambda city: city[1],
    )
    return AudienceChoices(regions, countries, languages, cities)


def city_name(city: City | None) -> str:
    if city is None:
        return "?"
    return f"{city.name}, {city.country}" if city.country else city.name


async def describe(session: AsyncSession, audience: Audience, t: Translator) -> str:
    """Words for an audience, in the reader's language: "all focal points", "focal points in Lisbon"."""
    if audience.kind == "all":
        return t.gettext(ALL)
    if audience.kind == "city":
        return t.gettext(IN_CITY, city=city_name(await session.get(City, int(audience.value))))
    if audience.kind == "language":
        return t.gettext(READING, language=language_name(audience.value, t.language, capitalize=False))
    if audience.kind == "region":
        return t.gettext(IN_REGION, region=audience.value)
    return t.gettext(IN_COUNTRY, country=audience.value)
