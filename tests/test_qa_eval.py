"""Accuracy on the held-out evaluation data (tests/data): the figures the bot is judged by.

A question counts as right when `answer(q, reply_language).topic.id == topic`, where the reply
language is what the dispatcher would use for a new person with no stored language and no
platform hint: the detected language when confident and supported, else English.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.knowledge import KnowledgeBase
from bot.language import SUPPORTED, LanguageDetector

ROOT = Path(__file__).resolve().parent.parent
QA_DIR = ROOT / "tests" / "data" / "qa"
LANGUAGE_EVAL = ROOT / "tests" / "data" / "language_eval.yaml"
MIN_TOPIC_ACCURACY = 0.90
MIN_LANGUAGE_ACCURACY = 0.98


def qa_items() -> list[tuple[str, str, str]]:
    """(language, question, topic) from every tests/data/qa/<lang>.yaml."""
    items: list[tuple[str, str, str]] = []
    for path in sorted(QA_DIR.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text("utf-8")) or []:
            items.append((path.stem, str(entry["q"]), str(entry["topic"])))
    return items


def reply_language(detector: LanguageDetector, text: str) -> str:
    found = detector.detect(text)
    if found.confident and found.language is not None:
        return found.language if found.language in SUPPORTED else "en"
    return "en"


def report(hits: dict[str, list[bool]]) -> str:
    return ", ".join(f"{lang} {sum(v) / len(v):.1%} ({sum(v)}/{len(v)})" for lang, v in sorted(hits.items()))


@pytest.fixture(scope="module")
def items() -> list[tuple[str, str, str]]:
    found = qa_items()
    if not found:
        pytest.skip("tests/data/qa holds no evaluation questions yet")
    return found


def test_topic_accuracy(items: list[tuple[str, str, str]]) -> None:
    kb = KnowledgeBase.load(ROOT / "content")
    detector = LanguageDetector()
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
    assert accuracy >= MIN_TOPIC_ACCURACY, (
        f"top-1 topic accuracy {accuracy:.1%} < {MIN_TOPIC_ACCURACY:.0%}; per language: "
        f"{report(hits)}\n" + "\n".join(misses)
    )


def test_reply_language_accuracy(items: list[tuple[str, str, str]]) -> None:
    detector = LanguageDetector()
    labelled = [(lang, question) for lang, question, _ in items]
    if LANGUAGE_EVAL.is_file():
        labelled += [
            (str(e["lang"]), str(e["text"])) for e in yaml.safe_load(LANGUAGE_EVAL.read_text("utf-8")) or []
        ]
    hits: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for lang, text in labelled:
        expected = lang if lang in SUPPORTED else "en"
        got = reply_language(detector, text)
        hits[lang].append(got == expected)
        if got != expected:
            misses.append(f"{lang} {text!r}: replied in {got}")
    accuracy = sum(sum(v) for v in hits.values()) / len(labelled)
    assert accuracy >= MIN_LANGUAGE_ACCURACY, (
        f"reply-language accuracy {accuracy:.1%} < {MIN_LANGUAGE_ACCURACY:.0%}; per language: "
        f"{report(hits)}\n" + "\n".join(misses)
    )
