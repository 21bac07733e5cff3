"""The directory of focal points (`/peers`): only those who agreed to be listed, filtered by challenge,
region, country and language, never with a contact handle.

A question in free text ("Who works on online hate in the Western Balkans?") is read by `from_text`
into the same filters, with the words of `content/directory.yaml` and `content/challenges.yaml`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.countries import countries_in
from bot.domain import profiles
from bot.domain.profiles import Peer
from bot.i18n import language_name
from bot.storage.peers import Block
from bot.taxonomy import Taxonomy
from bot.textnorm import Words, contains_phrase, tokenize

PAGE = 5


@dataclass(frozen=True, slots=True)
class Filters:
    topic: str = ""
    region: str = ""
    country: str = ""
    language: str = ""

    def without(self, name: str) -> Filters:
        return replace(self, **{name: ""})

    def having(self, name: str, value: str) -> Filters:
        return replace(self, **{name: value})

    @property
    def any(self) -> bool:
        return bool(self.topic or self.region or self.country or self.language)


async def search(session: AsyncSession, viewer_id: int, filters: Filters) -> list[Peer]:
    """Listed focal points matching `filters`, by name; never the viewer, never someone they blocked."""
    blocked = set(
        (await session.scalars(select(Block.blocked_id).where(Block.blocker_id == viewer_id))).all()
    )
    found = []
    for person, profile, city in await profiles.listed_profiles(session):
        if person.id == viewer_id or person.id in blocked:
            continue
        if filters.topic and filters.topic not in profile.topics:
            continue
        if filters.region and city.region != filters.region:
            continue
        if filters.country and city.country != filters.country:
            continue
        if filters.language and filters.language not in profile.languages:
            continue
        found.append(Peer(person, profile, city))
    return found


@dataclass(frozen=True, slots=True)
class Facets:
    """The values the filters can take among the people listed (with how many have each)."""

    topics: Counter[str]
    regions: Counter[str]
    countries: Counter[str]
    languages: Counter[str]


def facets(peers: list[Peer]) -> Facets:
    topics: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    for peer in peers:
        if peer.profile is not None:
            topics.update(peer.profile.topics)
            languages.update(peer.profile.languages)
        if peer.city is not None:
            if peer.city.region:
                regions[peer.city.region] += 1
            if peer.city.country:
                countries[peer.city.country] += 1
    return Facets(topics, regions, countries, languages)


def filters_in(
    text: str, language: str, taxonomy: Taxonomy, region_names: tuple[str, ...], languages: tuple[str, ...]
) -> Filters:
    """The challenge, region, country and language a text names (the first of each; a country only
    when no region is named, as "in the Balkans, Serbia..." is about the region)."""
    topics = taxonomy.topics_in(text, language)
    regions = [region for region in taxonomy.regions_in(text, language) if region in region_names]
    countries = countries_in(text, language)
    spoken = _languages_in(text, language, languages)
    return Filters(
        topic=topics[0] if topics else "",
        region=regions[0] if regions else "",
        country=countries[0] if countries and not regions else "",
        language=spoken[0] if spoken else "",
    )


def from_text(
    text: str, language: str, taxonomy: Taxonomy, region_names: tuple[str, ...], languages: tuple[str, ...]
) -> Filters | None:
    """The directory filters a free-text question asks for, or None when it is not asking for peers
    (no ask phrase, or nothing to filter by)."""
    if not taxonomy.is_ask(text, language):
        return None
    filters = filters_in(text, language, taxonomy, region_names, languages)
    return filters if filters.any else None


def _languages_in(text: str, language: str, codes: tuple[str, ...]) -> list[str]:
    """Languages a sentence names ("who speaks Arabic", "qui parle arabe"), in its language or English."""
    tokens = Words(tokenize(text))
    found = []
    for code in codes:
        names = {language_name(code, language, capitalize=False), language_name(code, "en")}
        if any(len(name) >= 4 and contains_phrase(tokens, tokenize(name), endings=False) for name in names):
            found.append(code)
    return found
