"""Accuracy on the evaluation data (tests/data): the figures the bot is judged by.

Two splits per language: `qa/<lang>.yaml` is the tuning split (content may be improved against it)
and `qa_heldout/<lang>.yaml` the held-out split (written before tuning and never tuned against), so
the held-out figure is the honest one. A question counts as right when
`answer(q, reply_language).topic.id == topic`, where the reply language is what the dispatcher would
use for a new person with no stored language and no platform hint: the detected language when
confident and supported, else English.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.content import CONTENT_LANGUAGES, load_topics
from bot.knowledge import KnowledgeBase
from bot.language import SUPPORTED, LanguageDetector
from bot.smalltalk import SmallTalk, read_smalltalk
from bot.textnorm import fold, strip_noise, words

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SPLITS = {"tuning": DATA / "qa", "heldout": DATA / "qa_heldout"}
LANGUAGE_EVAL = DATA / "language_eval.yaml"
OFFTOPIC = DATA / "offtopic.yaml"
MIN_TOPIC_ACCURACY = {"tuning": 0.90, "heldout": 0.85}
# The target is 90% on both splits. The held-out split is at 87.4% (2026-12-01) and must not be
# tuned against, so its floor sits below the target until the misses that content cannot reach are
# fixed elsewhere: one-word questions in other languages ("cuota?", "رسوم؟") that the language
# detector leaves to the English index, and long messages whose few key words are outweighed by
# many unknown ones, so the answer stays below the confidence threshold.
MIN_LANGUAGE_ACCURACY = 0.98
MIN_SHORT_LANGUAGE_ACCURACY = 0.80
SHORT_WORDS = 3  # a message of at most this many words is "short" for language detection
# Questions per language at least: the big four are asked most.
MIN_QUESTIONS = {"tuning": {"en": 25, "ar": 25, "fr": 25, "es": 25}, "heldout": {}}
MIN_QUESTIONS_DEFAULT = {"tuning": 15, "heldout": 10}
# Issue 13's goals, on tests/data/offtopic.yaml and every short first message of the evaluation files.
MAX_OFFTOPIC_ANSWERED = 0.05
MIN_SMALLTALK_OK = 0.95
MIN_FIRST_CONTACT_LANGUAGE = 0.88  # 0.90 on 2026-12-01 (0.86 before the first-contact rules)
FIRST_CONTACT_WORDS = 4
SMALLTALK_INTENTS = {"greeting", "thanks", "goodbye", "who_are_you", "are_you_bot", "help", "link", "emoji"}


def qa_items(split: str = "tuning") -> list[tuple[str, str, str]]:
    """(language, question, topic) from every <split dir>/<lang>.yaml."""
    items: list[tuple[str, str, str]] = []
    for path in sorted(SPLITS[split].glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text("utf-8")) or []:
            items.append((path.stem, str(entry["q"]), str(entry["topic"])))
    return items


def reply_language(detector: LanguageDetector, text: str) -> str:
    found = detector.detect_first_contact(text)
    if found.confident and found.language is not None:
        return found.language if found.language in SUPPORTED else "en"
    return "en"


def report(hits: dict[str, list[bool]]) -> str:
    return ", ".join(f"{lang} {sum(v) / len(v):.1%} ({sum(v)}/{len(v)})" for lang, v in sorted(hits.items()))


def _key(text: str) -> str:
    return " ".join(fold(text).strip(" ?!.¿¡؟").split())


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load(ROOT / "content")


@pytest.fixture(scope="module")
def detector(kb: KnowledgeBase) -> LanguageDetector:
    return LanguageDetector(english_words=kb.vocabulary("en"))


@pytest.mark.parametrize("split", list(SPLITS))
def test_topic_accuracy(split: str, kb: KnowledgeBase, detector: LanguageDetector) -> None:
    items = qa_items(split)
    if not items:
        pytest.skip(f"{SPLITS[split]} holds no evaluation questions yet")
    hits: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for lang, question, topic in items:
        found = kb.answer(question, reply_language(detector, question))
        right = found.topic is not None and found.topic.id == topic
        hits[lang].append(right)
        if not right:
            misses.append(
                f"{lang} {question!r}: want {topic}, got "
                f"{found.topic.id if found.topic else None} ({found.score:.2f})"
            )
    accuracy = sum(sum(v) for v in hits.values()) / len(items)
    assert accuracy >= MIN_TOPIC_ACCURACY[split], (
        f"{split}: top-1 topic accuracy {accuracy:.1%} < {MIN_TOPIC_ACCURACY[split]:.0%}; per language: "
        f"{report(hits)}\n" + "\n".join(misses)
    )


def _language_items() -> list[tuple[str, str, int]]:
    """(language, text, words) from both splits and language_eval.yaml."""
    items = [
        (lang, q, len(words(fold(strip_noise(q))))) for split in SPLITS for lang, q, _ in qa_items(split)
    ]
    if LANGUAGE_EVAL.is_file():
        for entry in yaml.safe_load(LANGUAGE_EVAL.read_text("utf-8")) or []:
            text = str(entry["text"])
            items.append(
                (str(entry["lang"]), text, max(SHORT_WORDS + 1, len(words(fold(strip_noise(text))))))
            )
    return items


def _language_hits(
    detector: LanguageDetector, labelled: list[tuple[str, str]]
) -> tuple[float, dict[str, list[bool]], list[str]]:
    hits: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for lang, text in labelled:
        expected = lang if lang in SUPPORTED else "en"
        got = reply_language(detector, text)
        hits[lang].append(got == expected)
        if got != expected:
            misses.append(f"{lang} {text!r}: replied in {got}")
    return sum(sum(v) for v in hits.values()) / len(labelled), hits, misses


def test_reply_language_accuracy(detector: LanguageDetector) -> None:
    """Questions of four words or more, and the curated language_eval.yaml texts."""
    labelled = [(lang, text) for lang, text, n in _language_items() if n > SHORT_WORDS]
    if not labelled:
        pytest.skip("tests/data holds no evaluation questions yet")
    accuracy, hits, misses = _language_hits(detector, labelled)
    assert accuracy >= MIN_LANGUAGE_ACCURACY, (
        f"reply-language accuracy {accuracy:.1%} < {MIN_LANGUAGE_ACCURACY:.0%}; per language: "
        f"{report(hits)}\n" + "\n".join(misses)
    )


def test_reply_language_accuracy_on_short_messages(detector: LanguageDetector) -> None:
    """Two- and three-word messages ("prochain webinaire", "a ka kosto"). The detector is much
    weaker here (a new person then gets the English index, which rarely has the answer); this floor
    only keeps it from getting worse. One-word messages are left out, as in language_eval.yaml."""
    labelled = [(lang, text) for lang, text, n in _language_items() if 1 < n <= SHORT_WORDS]
    if not labelled:
        pytest.skip("tests/data holds no short messages")
    accuracy, hits, misses = _language_hits(detector, labelled)
    assert accuracy >= MIN_SHORT_LANGUAGE_ACCURACY, (
        f"reply-language accuracy on short messages {accuracy:.1%} < {MIN_SHORT_LANGUAGE_ACCURACY:.0%}; "
        f"per language: {report(hits)}\n" + "\n".join(misses)
    )


# --- The data itself: enough of it, labelled with real topics, and the held-out split kept apart ---


@pytest.mark.parametrize("split", list(SPLITS))
def test_every_language_has_enough_questions_on_known_topics(split: str) -> None:
    topics = load_topics(ROOT / "content")
    items = qa_items(split)
    unknown = sorted({(lang, topic) for lang, _, topic in items if topic not in topics})
    assert unknown == []
    counts = {lang: sum(1 for item in items if item[0] == lang) for lang in CONTENT_LANGUAGES}
    short = {
        lang: n
        for lang, n in counts.items()
        if n < MIN_QUESTIONS[split].get(lang, MIN_QUESTIONS_DEFAULT[split])
    }
    assert short == {}, f"{split}: too few questions {short}"


def test_every_topic_is_asked_in_every_language() -> None:
    topics = set(load_topics(ROOT / "content"))
    asked: dict[str, set[str]] = defaultdict(set)
    for split in SPLITS:
        for lang, _, topic in qa_items(split):
            asked[lang].add(topic)
    missing = {lang: sorted(topics - asked[lang]) for lang in CONTENT_LANGUAGES if topics - asked[lang]}
    assert missing == {}


def test_heldout_questions_are_not_copied_into_content_or_tuning() -> None:
    seen: dict[str, str] = {}
    for topic in load_topics(ROOT / "content").values():
        for lang, text in topic.texts.items():
            for question in (*text.questions, text.title):
                seen[_key(question)] = f"content/topics/{topic.id}/{lang}.yaml"
    for lang, question, _ in qa_items("tuning"):
        seen.setdefault(_key(question), f"tests/data/qa/{lang}.yaml")
    copied = [
        f"{lang} {question!r} is also in {seen[_key(question)]}"
        for lang, question, _ in qa_items("heldout")
        if _key(question) in seen
    ]
    assert copied == []


def test_offtopic_data_is_well_formed() -> None:
    entries = yaml.safe_load(OFFTOPIC.read_text("utf-8"))
    assert len(entries) >= 80
    bad = []
    for entry in entries:
        kind, lang = entry.get("kind"), entry.get("lang")
        fields_ok = set(entry) <= {"text", "lang", "kind", "intent"} and isinstance(entry.get("text"), str)
        if kind == "smalltalk":
            fields_ok = fields_ok and entry.get("intent") in SMALLTALK_INTENTS
        elif kind == "offtopic":
            fields_ok = fields_ok and "intent" not in entry
        else:
            fields_ok = False
        if not fields_ok or lang not in CONTENT_LANGUAGES:
            bad.append(entry)
    assert bad == []
    languages = {entry["lang"] for entry in entries}
    intents = {entry["intent"] for entry in entries if entry["kind"] == "smalltalk"}
    assert languages == set(CONTENT_LANGUAGES) and intents == SMALLTALK_INTENTS


# --- Small talk, off-topic questions and the first message of someone new ---------------------------


@pytest.fixture(scope="module")
def talk() -> SmallTalk:
    return read_smalltalk(ROOT / "content", CONTENT_LANGUAGES)[0]


def _offtopic_lines(kind: str) -> list[dict[str, str]]:
    return [e for e in yaml.safe_load(OFFTOPIC.read_text("utf-8")) if e["kind"] == kind]


def test_offtopic_questions_are_not_answered_with_a_topic(
    kb: KnowledgeBase, detector: LanguageDetector, talk: SmallTalk
) -> None:
    answered = []
    for entry in _offtopic_lines("offtopic"):
        text = entry["text"]
        found = kb.answer(text, reply_language(detector, text))
        if talk.intent(text) is None and not talk.off_topic(text, found) and found.topic is not None:
            answered.append(f"{entry['lang']} {text!r}: answered with {found.topic.id}")
    rate = len(answered) / len(_offtopic_lines("offtopic"))
    assert rate <= MAX_OFFTOPIC_ANSWERED, f"off-topic answered {rate:.1%}\n" + "\n".join(answered)


def test_smalltalk_is_recognised_with_its_intent(talk: SmallTalk) -> None:
    lines = _offtopic_lines("smalltalk")
    misses = [
        f"{e['lang']} {e['text']!r}: {talk.intent(e['text'])}"
        for e in lines
        if talk.intent(e["text"]) != e["intent"]
    ]
    assert 1 - len(misses) / len(lines) >= MIN_SMALLTALK_OK, "\n".join(misses)


def _short_first_messages() -> list[tuple[str, str]]:
    items = [(lang, q) for split in SPLITS for lang, q, _ in qa_items(split)]
    for path in (LANGUAGE_EVAL, OFFTOPIC):
        items += [(str(e["lang"]), str(e["text"])) for e in yaml.safe_load(path.read_text("utf-8"))]
    counted = [
        (lang, text, [w for w in words(fold(strip_noise(text))) if not w.isdigit()]) for lang, text in items
    ]
    return [(lang, text) for lang, text, found in counted if 1 <= len(found) <= FIRST_CONTACT_WORDS]


def test_first_contact_language_on_short_messages(detector: LanguageDetector) -> None:
    """A new person with no platform hint: one Cyrillic or Arabic-script word is enough, and a short
    English message is never answered in another language."""
    labelled = _short_first_messages()
    accuracy, hits, misses = _language_hits(detector, labelled)
    assert accuracy >= MIN_FIRST_CONTACT_LANGUAGE, (
        f"first-contact language {accuracy:.1%}; per language: {report(hits)}\n" + "\n".join(misses)
    )
    for lang in ("en", "ru", "ar", "ur"):
        assert all(hits[lang]), f"{lang}: {report({lang: hits[lang]})}\n" + "\n".join(misses)
