"""The directory's vocabulary: the challenges focal points pick in their profile (`content/challenges.yaml`)
and the words of its free-text search (`content/directory.yaml`: ask phrases and region names).

Both files are edited by staff. A broken entry is reported by `content check` and left out; the bot
starts with what it could read. Matching of words is on folded text (case, accents, Arabic letter
variants), word by word (`textnorm.contains_phrase`): the words of the message's language tolerate
other endings ("Балканы" finds "Балканах"); English words, tried for every language, must be exact.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.textnorm import Words, contains_phrase, tokenize

log = logging.getLogger(__name__)
CHALLENGES = "challenges.yaml"
DIRECTORY = "directory.yaml"
MAX_LABEL = 40
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Challenge:
    id: str
    labels: Mapping[str, str]
    words: Mapping[str, tuple[str, ...]]
    questions: Mapping[str, str]

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.id

    def question(self, language: str) -> str:
        return self.questions.get(language) or self.questions.get("en") or ""


@dataclass(frozen=True)
class Taxonomy:
    challenges: Mapping[str, Challenge] = field(default_factory=dict)
    ask: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # language -> phrases
    region_names: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.challenges)

    def label(self, topic: str, language: str) -> str:
        found = self.challenges.get(topic)
        return found.label(language) if found else topic

    def region_label(self, region: str, language: str) -> str:
        names = self.region_names.get(region, {})
        shown = names.get(language) or names.get("en")
        return shown[0] if shown else region

    def is_ask(self, text: str, language: str) -> bool:
        """Whether `text` asks for peers ("who works on ...") in `language` or English."""
        return _mentions(Words(tokenize(text)), self.ask, language)

    def topics_in(self, text: str, language: str) -> list[str]:
        """The challenges `text` names (by its label or one of its words), in taxonomy order."""
        tokens = Words(tokenize(text))
        found = []
        for challenge in self.challenges.values():
            table = {k: (*challenge.words.get(k, ()), v) for k, v in challenge.labels.items()}
            if _mentions(tokens, table, language):
                found.append(challenge.id)
        return found

    def regions_in(self, text: str, language: str) -> list[str]:
        """The regions `text` names, in any of their names in `language` or English."""
        tokens = Words(tokenize(text))
        return [
            region
            for region, names in self.region_names.items()
            if _mentions(tokens, {**names, "en": (*names.get("en", ()), region)}, language)
        ]


@lru_cache(maxsize=8192)
def _words(phrase: str) -> list[str]:
    return tokenize(phrase)


def _mentions(tokens: Words, table: Mapping[str, tuple[str, ...]], language: str) -> bool:
    own = any(contains_phrase(tokens, _words(phrase)) for phrase in table.get(language, ()))
    if own or language == "en":
        return own
    return any(contains_phrase(tokens, _words(phrase), endings=False) for phrase in table.get("en", ()))


def _read(path: Path, problems: list[str]) -> dict[str, Any] | None:
    shown = f"content/{path.name}"
    if not path.is_file():
        problems.append(f"{shown}: is missing")
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as error:
        problems.append(f"{shown}: cannot be read: {error}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{shown}: must be a mapping")
        return None
    return data


def _texts(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    texts = {str(k): v.strip() for k, v in value.items() if isinstance(v, str) and v.strip()}
    return texts if len(texts) == len(value) else None


def _lists(value: object) -> dict[str, tuple[str, ...]] | None:
    if value is None:
        return {}
    if not isinstance(value, dict):
        return None
    out: dict[str, tuple[str, ...]] = {}
    for language, items in value.items():
        if not isinstance(items, list) or not all(isinstance(item, str) and item.strip() for item in items):
            return None
        out[str(language)] = tuple(item.strip() for item in items)
    return out


def read_taxonomy(content_dir: Path, languages: Iterable[str] = ("en",)) -> tuple[Taxonomy, list[str]]:
    """The vocabulary, and the problems found (sentences naming the file and the entry). `languages`
    are the ones every label and question must be written in."""
    problems: list[str] = []
    wanted = sorted(set(languages) | {"en"})
    challenges: dict[str, Challenge] = {}
    shown = f"content/{CHALLENGES}"
    for key, entry in (_read(content_dir / CHALLENGES, problems) or {}).items():
        topic = str(key)
        if not ID_PATTERN.match(topic):
            problems.append(f"{shown}: {topic!r} is not an id (lowercase letters, digits and _)")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{shown}: {topic}: must have a label, words and a question")
            continue
        labels, questions, words = (
            _texts(entry.get("label")),
            _texts(entry.get("question")),
            _lists(entry.get("words")),
        )
        if labels is None or "en" not in labels:
            problems.append(f"{shown}: {topic}: label must give a text per language, English at least")
            continue
        if questions is None or "en" not in questions:
            problems.append(f"{shown}: {topic}: question must give a text per language, English at least")
            continue
        if words is None:
            problems.append(f"{shown}: {topic}: words must give a list of words per language")
            words = {}
        for language in wanted:
            if language not in labels:
                problems.append(f"{shown}: {topic}: no label in {language}")
            if language not in questions:
                problems.append(f"{shown}: {topic}: no question in {language}")
        for language, label in labels.items():
            if len(label) > MAX_LABEL:
                problems.append(f"{shown}: {topic}: the {language} label is over {MAX_LABEL} characters")
        challenges[topic] = Challenge(topic, labels, words, questions)
    directory = _read(content_dir / DIRECTORY, problems) or {}
    shown = f"content/{DIRECTORY}"
    ask = _lists(directory.get("ask"))
    if ask is None:
        problems.append(f"{shown}: ask must give a list of phrases per language")
        ask = {}
    region_names: dict[str, Mapping[str, tuple[str, ...]]] = {}
    raw_regions = directory.get("regions") or {}
    if not isinstance(raw_regions, dict):
        problems.append(f"{shown}: regions must map each region to its names per language")
        raw_regions = {}
    for region, names in raw_regions.items():
        found = _lists(names)
        if found is None:
            problems.append(f"{shown}: region {region!r} must give a list of names per language")
            continue
        region_names[str(region)] = found
    return Taxonomy(challenges, ask, region_names), problems


def load_taxonomy(content_dir: Path, languages: Iterable[str] = ("en",)) -> Taxonomy:
    taxonomy, problems = read_taxonomy(content_dir, languages)
    for problem in problems:
        log.warning("%s (skipped)", problem)
    return taxonomy
