"""The knowledge base as staff write it: `content/topics/<id>/{topic,<lang>}.yaml` (see content/README.md).

Staff edit these files without touching code, so every problem is reported as a sentence that
names the file and the key. `load_topics` is what the bot runs at start: a half-read file must not
be served, so a broken language file is left out of its topic and a topic whose `topic.yaml` or
English text is broken is left out altogether, each with a logged warning; the rest loads, and
only a knowledge base with no topic at all stops the bot. Smaller faults are repaired on the way
in and logged: a malformed link is dropped, a link without a title in some language shows the
English one, a related id that names no loaded topic is dropped. `bot.content_check` is what
`python run_bot.py content check` and the tests run: it lists every problem, including the rules
that span topics (every language written, links titled in each, unique titles, related ids) and
that each topic's example questions are answered by that topic. `unreviewed_files` lists the
language files no native speaker has reviewed yet: information for staff, not a problem.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.textnorm import fold

__all__ = [
    "COMPLETE_LANGUAGES",
    "CONTENT_LANGUAGES",
    "ContentError",
    "Link",
    "Topic",
    "TopicText",
    "load_topics",
    "read_content",
    "topic_file",
    "unreviewed_files",
]

log = logging.getLogger(__name__)

CONTENT_LANGUAGES: tuple[str, ...] = ("en", "ar", "fr", "es", "ru", "sw", "ur", "sq")
# Every topic is written in every language (the check reports a missing one; the bot falls back to
# English for it).
COMPLETE_LANGUAGES: tuple[str, ...] = CONTENT_LANGUAGES
MAX_TITLE_CHARS = 40
QUESTIONS_RANGE = (4, 10)
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 5x faster load
_TOPIC_ID = re.compile(r"^[a-z0-9_]+$")
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|\*\*|__|\[[^\]]+\]\([^)]+\)")


class ContentError(Exception):
    """A problem in content/; the message names the file and the problem."""


@dataclass(frozen=True)
class Link:
    """A link shown under an answer, titled per language."""

    url: str
    titles: Mapping[str, str] = field(hash=False)

    def title(self, lang: str) -> str:
        """The title in `lang`, else the English one."""
        return self.titles.get(lang) or self.titles["en"]


@dataclass(frozen=True)
class TopicText:
    """One topic written in one language.

    `reviewed` is true once a native speaker has checked this text (`reviewed_by` and
    `last_reviewed` record who and when, when given); a missing key means not reviewed.
    """

    title: str
    answer: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    reviewed: bool = False
    reviewed_by: str | None = None
    last_reviewed: date | None = None


@dataclass(frozen=True)
class Topic:
    """A topic with all its languages; `text` falls back to English, which every topic has."""

    id: str
    confirmed: bool
    last_reviewed: date
    links: tuple[Link, ...]
    related: tuple[str, ...]
    texts: Mapping[str, TopicText] = field(hash=False)

    def text(self, lang: str) -> TopicText:
        """The text in `lang`, else English."""
        return self.texts.get(lang) or self.texts["en"]

    def has_language(self, lang: str) -> bool:
        """True when the topic is written in `lang` (no fallback)."""
        return lang in self.texts


def _topics_dir(root: Path) -> Path:
    return root / "topics" if (root / "topics").is_dir() else root


def _shown(path: Path, root: Path) -> str:
    """The path as staff know it: relative to the folder holding content/."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


class _Reader:
    """Parses topic folders, collecting problems instead of stopping, for both entry points."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[str] = []
        self.skipped: list[str] = []  # what a load leaves out: topics and language files, as shown

    def problem(self, path: Path, message: str) -> None:
        self.problems.append(f"{_shown(path, self.root)}: {message}")

    def read_yaml(self, path: Path) -> dict[str, Any] | None:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            self.problem(path, f"is not valid YAML{where}: {getattr(exc, 'problem', exc)}")
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(path, f"cannot be read: {exc}")
            return None
        if not isinstance(data, dict):
            self.problem(path, f"must be a mapping of fields (key: value), found {type(data).__name__}")
            return None
        return data

    def string(self, path: Path, data: dict[str, Any], key: str) -> str | None:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"'{key}' is missing or not a non-empty text")
            return None
        return value.strip()

    def strings(self, path: Path, data: dict[str, Any], key: str) -> tuple[str, ...] | None:
        value = data.get(key, [] if key in ("related", "keywords") else None)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem(path, f"'{key}' must be a list of non-empty texts")
            return None
        return tuple(v.strip() for v in value)

    def iso_date(self, path: Path, data: dict[str, Any], key: str) -> date | None:
        """An ISO date (YAML reads 2026-11-20 as a date already); None with a problem otherwise."""
        value = data.get(key)
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                value = None
        if not isinstance(value, date):
            self.problem(path, f"'{key}' must be an ISO date such as 2026-11-20")
            return None
        return value

    def link(self, path: Path, raw: Any) -> Link | None:
        if not isinstance(raw, dict):
            self.problem(path, f"each link must have 'url' and 'title', found {raw!r}")
            return None
        url, titles = raw.get("url"), raw.get("title")
        parts = urlsplit(url) if isinstance(url, str) else None
        if (
            parts is None
            or parts.scheme != "https"
            or "." not in parts.netloc
            or any(ch.isspace() for ch in str(url))
        ):
            self.problem(path, f"link {url!r} is not a well-formed https URL")
            return None
        if (
            not isinstance(titles, dict)
            or not all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in titles.items())
            or "en" not in titles
        ):
            self.problem(path, f"link {url} needs 'title' per language, with en")
            return None
        for lang in titles:
            if lang not in CONTENT_LANGUAGES:
                self.problem(path, f"link {url} has a title in unknown language '{lang}'")
        return Link(url=str(url), titles=MappingProxyType(dict(titles)))

    def topic_facts(self, path: Path) -> dict[str, Any] | None:
        data = self.read_yaml(path)
        if data is None:
            return None
        before = len(self.problems)
        confirmed = data.get("confirmed")
        if not isinstance(confirmed, bool):
            self.problem(path, "'confirmed' must be true or false")
        reviewed = self.iso_date(path, data, "last_reviewed")
        raw_links = data.get("links", [])
        if not isinstance(raw_links, list):
            self.problem(path, "'links' must be a list")
            raw_links = []
        related = self.strings(path, data, "related")
        if len(self.problems) > before:
            return None
        # A malformed link is dropped (and reported); the topic is still worth serving without it.
        links = tuple(lk for raw in raw_links if (lk := self.link(path, raw)) is not None)
        return {"confirmed": confirmed, "last_reviewed": reviewed, "links": links, "related": related}

    def review(self, path: Path, data: dict[str, Any]) -> dict[str, Any]:
        """The review fields of a language file. A wrong value is reported but does not break the
        file: the text is fine, and it counts as not reviewed."""
        reviewed = data.get("reviewed", False)
        if not isinstance(reviewed, bool):
            self.problem(path, f"'reviewed' must be true or false, found {reviewed!r}")
            reviewed = False
        by = data.get("reviewed_by")
        if by is not None and not (isinstance(by, str) and by.strip()):
            self.problem(path, "'reviewed_by' must be a non-empty text (the reviewer's name) or left out")
            by = None
        when = self.iso_date(path, data, "last_reviewed") if "last_reviewed" in data else None
        return {
            "reviewed": reviewed,
            "reviewed_by": by.strip() if isinstance(by, str) else None,
            "last_reviewed": when,
        }

    def text(self, path: Path) -> TopicText | None:
        data = self.read_yaml(path)
        if data is None:
            return None
        before = len(self.problems)
        title = self.string(path, data, "title")
        if title is not None and len(title) > MAX_TITLE_CHARS:
            self.problem(
                path, f"'title' has {len(title)} characters; at most {MAX_TITLE_CHARS} fit on a button"
            )
        answer = self.string(path, data, "answer")
        if answer is not None and _MARKUP.search(answer):
            self.problem(path, "'answer' must be plain text (no HTML or Markdown)")
        questions = self.strings(path, data, "questions")
        low, high = QUESTIONS_RANGE
        if questions is not None and not low <= len(questions) <= high:
            self.problem(path, f"'questions' has {len(questions)} entries; write {low}-{high}")
        keywords = self.strings(path, data, "keywords")
        broken = len(self.problems) > before or None in (title, answer, questions, keywords)
        review = self.review(path, data)
        if broken:
            return None
        assert title and answer and questions is not None and keywords is not None
        return TopicText(title=title, answer=answer, questions=questions, keywords=keywords, **review)

    def topic(self, folder: Path) -> Topic | None:
        shown = f"topic '{folder.name}'"
        if not _TOPIC_ID.match(folder.name):
            self.problem(folder, "topic folder names use lowercase letters, digits and _ only")
            self.skipped.append(shown)
            return None
        facts_path = folder / "topic.yaml"
        if not facts_path.is_file():
            self.problem(facts_path, "is missing (every topic needs topic.yaml)")
            self.skipped.append(shown)
            return None
        if not (folder / "en.yaml").is_file():
            self.problem(folder / "en.yaml", "is missing (English is the fallback, so it is required)")
            self.skipped.append(shown)
            return None
        facts = self.topic_facts(facts_path)
        texts: dict[str, TopicText] = {}
        broken: list[str] = []
        for path in sorted(folder.glob("*.yaml")):
            if path.name == "topic.yaml":
                continue
            if path.stem not in CONTENT_LANGUAGES:
                self.problem(path, f"unknown language file; expected one of {', '.join(CONTENT_LANGUAGES)}")
                continue
            text = self.text(path)
            if text is not None:
                texts[path.stem] = text
            else:
                broken.append(_shown(path, self.root))
        if facts is None or "en" not in texts:
            self.skipped.append(shown)
            return None
        self.skipped += broken
        return Topic(id=folder.name, texts=MappingProxyType(texts), **facts)

    def topics(self) -> dict[str, Topic]:
        base = _topics_dir(self.root)
        if not base.is_dir():
            self.problem(base, "is missing: no topics folder")
            return {}
        topics: dict[str, Topic] = {}
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            topic = self.topic(folder)
            if topic is not None:
                topics[topic.id] = topic
        if not topics and not self.problems:
            self.problem(base, "holds no topics")
        return topics


def _repaired(topic: Topic, topics: Mapping[str, Topic], facts_shown: str) -> Topic:
    """`topic` ready to serve: related ids that name no loaded topic dropped (logged), and every
    link titled in every language the topic is written in (the English title where one is
    missing; the check reports it)."""
    related = tuple(other for other in topic.related if other in topics)
    for other in topic.related:
        if other not in topics:
            log.warning("content: %s: related topic '%s' is not loaded, so not offered", facts_shown, other)
    links = tuple(
        replace(
            link, titles=MappingProxyType({lang: link.title(lang) for lang in (*link.titles, *topic.texts)})
        )
        for link in topic.links
    )
    if related == topic.related and links == topic.links:
        return topic
    return replace(topic, related=related, links=links)


def load_topics(root: Path) -> dict[str, Topic]:
    """Read every topic under `root` (content/ or content/topics/) for the bot to serve.

    A broken topic or language file is left out with a warning naming the file and the problem,
    and the rest loads (see the module docstring). Raises ContentError, naming the first problem,
    only when no topic at all could be loaded.
    """
    reader = _Reader(root)
    topics = reader.topics()
    for problem in reader.problems:
        log.warning("content problem: %s", problem)
    if not topics:
        raise ContentError(reader.problems[0])  # there is one: "holds no topics" at least
    if reader.skipped:
        log.warning(
            "content: skipped %s; serving the other %d topic(s) (run `python run_bot.py content check`)",
            ", ".join(reader.skipped),
            len(topics),
        )
    base = _topics_dir(root)
    return {
        topic_id: _repaired(topic, topics, _shown(base / topic_id / "topic.yaml", root))
        for topic_id, topic in topics.items()
    }


def _cross_topic_problems(root: Path, topics: dict[str, Topic]) -> list[str]:
    base = _topics_dir(root)
    problems: list[str] = []
    for topic in topics.values():
        folder = base / topic.id
        facts = _shown(folder / "topic.yaml", root)
        for lang in COMPLETE_LANGUAGES:
            if not topic.has_language(lang) and not (folder / f"{lang}.yaml").exists():
                problems.append(
                    f"{_shown(folder / f'{lang}.yaml', root)}: is missing "
                    f"(every topic is written in all of {', '.join(COMPLETE_LANGUAGES)})"
                )
        for link in topic.links:
            for lang in CONTENT_LANGUAGES:
                if topic.has_language(lang) and lang not in link.titles:
                    problems.append(f"{facts}: link {link.url} has no title in {lang}")
        for other in topic.related:
            if other not in topics and not (base / other).is_dir():  # broken: reported already
                problems.append(f"{facts}: related topic '{other}' does not exist")
    for lang in CONTENT_LANGUAGES:
        seen: dict[str, str] = {}
        for topic in topics.values():
            if not topic.has_language(lang):
                continue
            key = fold(topic.texts[lang].title).strip(" ?!.¿¡؟")
            if key in seen:
                problems.append(
                    f"{_shown(base / topic.id / f'{lang}.yaml', root)}: title "
                    f"{topic.texts[lang].title!r} is also the title of topic "
                    f"'{seen[key]}' in {lang}"
                )
            else:
                seen[key] = topic.id
    return problems


def read_content(root: Path) -> tuple[dict[str, Topic], list[str]]:
    """Every topic that reads, and every problem found in the files and across topics (the checks
    that need the retriever are in `bot.content_check`)."""
    reader = _Reader(root)
    topics = reader.topics()
    problems = list(reader.problems)
    if topics:
        problems += _cross_topic_problems(root, topics)
    return topics, problems


def topic_file(root: Path, topic_id: str, language: str) -> str:
    """A topic's language file as the check names it."""
    return _shown(_topics_dir(root) / topic_id / f"{language}.yaml", root)


def unreviewed_files(root: Path) -> list[str]:
    """The language files no native speaker has reviewed yet (`reviewed` missing or false), as
    the check shows paths. Files too broken to read are the check's business, not listed here."""
    reader = _Reader(root)
    base = _topics_dir(root)
    return [
        _shown(base / topic.id / f"{lang}.yaml", root)
        for topic in reader.topics().values()
        for lang in CONTENT_LANGUAGES
        if lang in topic.texts and not topic.texts[lang].reviewed
    ]
