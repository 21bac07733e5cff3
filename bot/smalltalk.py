"""Conversation that is not a question for the knowledge base: small talk and off-topic questions.

Greetings, thanks, goodbyes, "who are you?", "are you a bot?", "help", a bare link or a lone emoji
deserve a short reply in kind, not "I am not sure I understood" and not a question kept for staff;
a question about the weather or football deserves an honest "I cannot help with that", not a
confident membership topic. The phrases and replies are content (`content/smalltalk.yaml`), edited
by staff and checked by `content check`.

Recognition is a dictionary walk, not a regex per phrase: the message is folded (`textnorm.fold`:
case, accents, Arabic letter variants), split into words, repeated letters collapsed ("hiii",
"merciii" and "hi" are one key), and then covered left to right by the longest known phrase at each
position (one dict lookup per length) or skipped as a filler word. A message is small talk only when
every word is covered and at least one phrase was found: "hello, how do I apply?" leaves "how",
"apply" uncovered, so it goes on to the knowledge base. Off-topic cues are looked up the same way,
anywhere in the message.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from bot.content import CONTENT_LANGUAGES
from bot.knowledge import Answer
from bot.textnorm import STOPWORDS, fold, strip_noise, words

__all__ = [
    "INTENTS",
    "SMALLTALK_FILE",
    "SmallTalk",
    "load_smalltalk",
    "read_smalltalk",
]

log = logging.getLogger(__name__)

SMALLTALK_FILE = "smalltalk.yaml"
# Every intent the bot answers in kind; `link` and `emoji` are recognised by shape, not phrases.
INTENTS: tuple[str, ...] = (
    "greeting",
    "thanks",
    "goodbye",
    "who_are_you",
    "are_you_bot",
    "help",
    "link",
    "emoji",
)
SHAPED = frozenset({"link", "emoji"})
# When one message holds several ("hi, who are you?"), the most specific one is answered.
_PRIORITY = ("who_are_you", "help", "are_you_bot", "goodbye", "thanks", "greeting")
MAX_WORDS = 12  # longer than this is a question or a story, never small talk
MAX_PHRASE_WORDS = 8
NUMBER = "0"  # what digits and number words become, and what "<n>" in a cue stands for
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_REPEATS = re.compile(r"(.)\1+")
_PLACEHOLDER = re.compile(r"<n>", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
# A question of this many words none of which any topic knows is off-topic; fewer ("cuota?") may be a
# word the content lacks, so it keeps the "not sure" reply and the offer to ask the team.
UNKNOWN_MIN_WORDS = 2


def _collapse(token: str) -> str:
    return _REPEATS.sub(r"\1", token)


def _tokens(text: str, numbers: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Folded words with repeated letters collapsed; numbers (digits or number words) as NUMBER."""
    out = []
    for token in words(fold(text)):
        if token.isdigit() or token in numbers:
            out.append(NUMBER)
        else:
            out.append(_collapse(token))
    return out


def _is_emoji_only(text: str) -> bool:
    """Only symbols (emoji, their skin tones and joiners), no letter or digit, and at least one emoji."""
    seen = False
    for ch in text:
        if ch.isspace() or ch in "\u200d\ufe0f":
            continue
        category = unicodedata.category(ch)
        if category == "So" or category == "Sk" or 0x1F000 <= ord(ch) <= 0x1FAFF:
            seen = True
        elif category[0] in "LN":
            return False
    return seen


@dataclass(frozen=True)
class SmallTalk:
    """The phrases, filler words, off-topic cues and replies of `content/smalltalk.yaml`."""

    phrases: Mapping[str, str] = field(default_factory=dict)  # folded phrase -> intent
    replies: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # intent -> language -> text
    filler: frozenset[str] = frozenset()
    cues: frozenset[str] = frozenset()  # folded off-topic words and phrases, anywhere in a message
    whole_cues: frozenset[str] = frozenset()  # folded off-topic messages, matched whole
    numbers: frozenset[str] = frozenset()
    longest_cue: int = 1

    def intent(self, text: str) -> str | None:
        """The small-talk intent of a whole message, or None when it is (or holds) a real question."""
        if not text.strip():
            return None
        if _LINK.search(text) and not any(ch.isalnum() for ch in strip_noise(text)):
            return "link" if "link" in self.replies else None
        if _is_emoji_only(text):
            return "emoji" if "emoji" in self.replies else None
        tokens = _tokens(text)
        if not tokens or len(tokens) > MAX_WORDS or not self.phrases:
            return None
        found: set[str] = set()
        at = 0
        while at < len(tokens):
            for size in range(min(MAX_PHRASE_WORDS, len(tokens) - at), 0, -1):
                intent = self.phrases.get(" ".join(tokens[at : at + size]))
                if intent is not None:
                    found.add(intent)
                    at += size
                    break
            else:
                if tokens[at] not in self.filler:
                    return None
                at += 1
        return next((intent for intent in _PRIORITY if intent in found), None)

    def reply(self, intent: str, language: str) -> str:
        """The reply to `intent` in `language`, else in English."""
        texts = self.replies.get(intent, {})
        return texts.get(language) or texts.get("en") or ""

    def is_off_topic(self, text: str) -> bool:
        """Whether the message names something the network does not cover (weather, sport, recipes...)."""
        tokens = _tokens(strip_noise(text), self.numbers)
        if not tokens:
            return False
        if " ".join(tokens) in self.whole_cues:
            return True
        for at in range(len(tokens)):
            for size in range(1, min(self.longest_cue, len(tokens) - at) + 1):
                if " ".join(tokens[at : at + size]) in self.cues:
                    return True
        return False

    def off_topic(self, text: str, answer: Answer) -> bool:
        """Whether `text`, answered `answer` by the knowledge base, is a question the network does not
        cover: it names an off-topic cue, or none of its words (two or more) is in any topic's
        vocabulary in its language or English, so there is not even a closest topic to offer."""
        if self.is_off_topic(text):
            return True
        if answer.topic is not None or answer.suggestions:
            return False
        found = _WORD.findall(strip_noise(text))
        looks_like_a_name = all(word[0].isupper() for word in found)  # "John Smith": a signature
        return len(found) >= UNKNOWN_MIN_WORDS and not looks_like_a_name


# --- Reading content/smalltalk.yaml ---------------------------------------------------------------


def _per_language(
    value: Any, where: str, languages: Iterable[str], problems: list[str]
) -> dict[str, list[str]]:
    """A mapping language -> list of texts; a malformed entry is reported and left out."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: must map each language to a list of phrases")
        return {}
    out: dict[str, list[str]] = {}
    known = set(languages)
    for language, items in value.items():
        if language not in known:
            problems.append(
                f"{where}.{language}: unknown language (expected one of {', '.join(sorted(known))})"
            )
            continue
        if not isinstance(items, list) or not all(isinstance(item, str) and item.strip() for item in items):
            problems.append(f"{where}.{language}: must be a list of non-empty texts")
            continue
        out[str(language)] = [str(item).strip() for item in items]
    return out


def read_smalltalk(content_dir: Path, languages: Iterable[str]) -> tuple[SmallTalk, list[str]]:
    """The small talk of `content_dir`, and the problems found, as sentences naming file and key.
    Every intent must have a reply in each of `languages`; a missing one falls back to English."""
    shown = f"content/{SMALLTALK_FILE}"
    wanted = sorted(set(languages) | {"en"})
    known = sorted(set(wanted) | set(CONTENT_LANGUAGES))
    problems: list[str] = []
    path = content_dir / SMALLTALK_FILE
    if not path.is_file():
        return SmallTalk(), [f"{shown}: is missing, so small talk and off-topic questions are not recognised"]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as error:
        return SmallTalk(), [f"{shown}: cannot be read: {error}"]
    if not isinstance(data, dict):
        return SmallTalk(), [f"{shown}: must be a mapping with intents, filler, offtopic and numbers"]
    for key in data:
        if key not in ("intents", "filler", "offtopic", "numbers"):
            problems.append(f"{shown}: unknown key '{key}'")
    raw_intents = data.get("intents")
    if not isinstance(raw_intents, dict):
        problems.append(f"{shown}: 'intents' must map each intent to its phrases and reply")
        raw_intents = {}
    phrases: dict[str, str] = {}
    replies: dict[str, Mapping[str, str]] = {}
    for intent in INTENTS:
        if intent not in raw_intents:
            problems.append(f"{shown}: intents.{intent}: is missing")
    for intent, entry in raw_intents.items():
        where = f"{shown}: intents.{intent}"
        if intent not in INTENTS:
            problems.append(f"{where}: unknown intent (expected one of {', '.join(INTENTS)})")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{where}: must have 'phrases' and 'reply'")
            continue
        reply = entry.get("reply")
        if not isinstance(reply, dict) or not all(isinstance(v, str) and v.strip() for v in reply.values()):
            problems.append(f"{where}.reply: must give a non-empty text per language")
            continue
        if "en" not in reply:
            problems.append(
                f"{where}.reply.en: is missing (English is the fallback), so the intent is skipped"
            )
            continue
        for language in wanted:
            if language not in reply:
                problems.append(f"{where}.reply.{language}: is missing (the English reply is shown)")
        replies[str(intent)] = MappingProxyType({str(k): str(v).strip() for k, v in reply.items()})
        if intent in SHAPED:
            continue
        found = _per_language(entry.get("phrases"), f"{where}.phrases", known, problems)
        if not found:
            problems.append(f"{where}.phrases: none given, so the intent is never recognised")
        for language, items in found.items():
            for phrase in items:
                key = " ".join(_tokens(phrase))
                if not key:
                    problems.append(f"{where}.phrases.{language}: {phrase!r} has no words")
                elif phrases.get(key, intent) != intent:
                    problems.append(
                        f"{where}.phrases.{language}: {phrase!r} is also a phrase of intents.{phrases[key]}"
                    )
                elif len(key.split()) > MAX_PHRASE_WORDS:
                    problems.append(
                        f"{where}.phrases.{language}: {phrase!r} has over {MAX_PHRASE_WORDS} words"
                    )
                else:
                    phrases[key] = str(intent)
    numbers = {
        " ".join(_tokens(word))
        for items in _per_language(data.get("numbers"), f"{shown}: numbers", known, problems).values()
        for word in items
    }
    filler = {fold(word) for stop in STOPWORDS.values() for word in stop}
    for items in _per_language(data.get("filler"), f"{shown}: filler", known, problems).values():
        filler.update(" ".join(_tokens(word)) for word in items)
    cues: set[str] = set()
    whole: set[str] = set()
    for language, items in _per_language(data.get("offtopic"), f"{shown}: offtopic", known, problems).items():
        for cue in items:
            target = whole if cue.startswith("=") else cues
            key = " ".join(_tokens(_PLACEHOLDER.sub(f" {NUMBER} ", cue.lstrip("=")), numbers))
            if not key or key == NUMBER:
                problems.append(f"{shown}: offtopic.{language}: {cue!r} has no words")
                continue
            target.add(key)
    talk = SmallTalk(
        phrases=MappingProxyType(phrases),
        replies=MappingProxyType(replies),
        filler=frozenset(filler),
        cues=frozenset(cues),
        whole_cues=frozenset(whole),
        numbers=frozenset(numbers),
        longest_cue=max((len(c.split()) for c in cues), default=1),
    )
    return talk, problems


def load_smalltalk(content_dir: Path, languages: Iterable[str]) -> SmallTalk:
    """What the bot runs with: every readable intent; each problem logged (the bot still starts)."""
    talk, problems = read_smalltalk(content_dir, languages)
    for problem in problems:
        log.warning("%s (skipped)", problem)
    return talk
