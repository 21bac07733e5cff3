"""Countries as people name them: ISO 3166 codes shown and recognised in the reader's language.

Names come from Babel's CLDR territory names, never from a list of our own. Recognition ignores case,
accents and punctuation (so "cote d'ivoire" is Côte d’Ivoire), accepts the name in the reader's language,
in English or in any other language the bot speaks ("Kenia", "Кения", "كينيا"), and the code itself
("KE"); a near miss is matched fuzzily. A country's time zones come from CLDR too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale
from babel.core import get_global
from rapidfuzz import fuzz, process

from bot.textnorm import Words, contains_phrase, fold, tokenize

# Not countries: the European Union, the eurozone, the United Nations, "outlying Oceania", unknown,
# pseudo-locales. Kosovo (XK) is kept: it is a member authority's country.
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})
FUZZY_CUTOFF = 80.0
WORD_SCORE = 95.0
_PUNCTUATION = re.compile(r"[\s'’`´.,()\-‐–—]+")


@dataclass(frozen=True, slots=True)
class CountryMatch:
    code: str
    score: float  # 100: exact


def _key(text: str) -> str:
    return _PUNCTUATION.sub(" ", fold(text)).strip()


@lru_cache(maxsize=64)
def _names(language: str) -> dict[str, str]:
    """Code -> name in `language` (English where CLDR has no name there)."""
    english: Mapping[str, str] = Locale.parse("en").territories
    try:
        own: Mapping[str, str] = Locale.parse(language).territories
    except (ValueError, LookupError):
        own = english
    return {
        str(code): str(own.get(code) or english[code])
        for code in english
        if len(str(code)) == 2 and str(code).isalpha() and code not in NOT_COUNTRIES
    }


def codes() -> list[str]:
    return sorted(_names("en"))


def is_country(code: str) -> bool:
    return code.upper() in _names("en")


def country_name(code: str, language: str = "en") -> str:
    """ "KE" -> "Kenya" (en), "Kenia" (es), "كينيا" (ar); an unknown code is returned as it is."""
    return _names(language).get(code.upper(), code)


@lru_cache(maxsize=16)
def _index(languages: tuple[str, ...]) -> dict[str, str]:
    """Folded name -> code, for every name in these languages (earlier languages win a clash)."""
    found: dict[str, str] = {}
    for language in reversed(languages):
        for code, name in _names(language).items():
            found[_key(name)] = code
    for code in _names("en"):
        found.setdefault(code.lower(), code)
    return found


def find_country(text: str, language: str = "en", others: tuple[str, ...] = ()) -> list[CountryMatch]:
    """The countries `text` may name, best first: one exact match, else the fuzzy candidates."""
    wanted = _key(text)
    if not wanted:
        return []
    index = _index(tuple(dict.fromkeys((language, "en", *others))))
    if wanted in index:
        return [CountryMatch(index[wanted], 100.0)]
    if len(wanted) < 3:
        return []
    matches: dict[str, float] = {}
    if len(wanted) >= 4:  # the start of the name, or of a word in it: "Bosnia", "Macedonia"
        for key, code in index.items():
            if f" {key}".find(f" {wanted}") >= 0:
                matches[code] = max(matches.get(code, 0.0), WORD_SCORE)
    for key, score, _position in process.extract(
        wanted, list(index), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=8
    ):  # a typo: "Kenyaa", "Camerron"
        code = index[key]
        matches[code] = max(matches.get(code, 0.0), float(score))
    return [CountryMatch(code, score) for code, score in sorted(matches.items(), key=lambda item: -item[1])]


def recognise(text: str, language: str = "en", others: tuple[str, ...] = ()) -> str | None:
    """The one country `text` names, or None (nothing close, or several as close).

    The reader's language and English are asked first: "Congo" typed in English names two countries,
    though it is the Spanish name of one."""
    for languages in ((), others):
        found = find_country(text, language, languages)
        if not found:
            continue
        if len(found) == 1 or found[0].score == 100.0 or found[0].score - found[1].score >= 5:
            return found[0].code
        if not languages:
            return None  # several as close in the reader's own words: ask which
    return None


@lru_cache(maxsize=16)
def _phrases(languages: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], str, bool], ...]:
    """(folded words of a name, code, whether other endings count) for the names in these languages;
    names shorter than four letters ("Oman" is four) are left out: too easily a word."""
    found: dict[tuple[str, ...], tuple[str, bool]] = {}
    for position, language in enumerate(languages):
        for code, name in _names(language).items():
            words = tuple(tokenize(name))
            if words and sum(len(word) for word in words) >= 4:
                found.setdefault(words, (code, position == 0))
    return tuple((words, code, own) for words, (code, own) in found.items())


def countries_in(text: str, language: str = "en") -> list[str]:
    """The countries a sentence names, in `language` or English: exact names first; only when there are
    none, names in `language` with another ending ("в Кении")."""
    tokens = Words(tokenize(text))
    names = _phrases(tuple(dict.fromkeys((language, "en"))))
    exact = [code for words, code, _own in names if contains_phrase(tokens, list(words), endings=False)]
    if exact:
        return list(dict.fromkeys(exact))
    return list(
        dict.fromkeys(code for words, code, own in names if own and contains_phrase(tokens, list(words)))
    )


def time_zones(code: str) -> list[str]:
    """The IANA zones CLDR lists for a country (one for most; several for large ones)."""
    zones: Mapping[str, list[str]] = get_global("territory_zones")
    return list(zones.get(code.upper(), ()))
