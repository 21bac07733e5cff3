"""Retrieval on a small fixture knowledge base: right topic, honest confidence, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase
from tests.test_content import write_content

CONTENT = Path(__file__).resolve().parent.parent / "content"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """The real knowledge base: confidence is calibrated on a corpus of its size."""
    return KnowledgeBase.load(CONTENT)


@pytest.fixture(scope="module")
def small_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """Two topics in en/fr/es/ar: for the mechanics of fallback and lookup."""
    return KnowledgeBase.load(
        write_content(tmp_path_factory.mktemp("kb"), languages=("en", "fr", "es", "ar"))
    )


@pytest.mark.parametrize(
    ("question", "language", "topic"),
    [
        ("do we have to pay anything, is there a fee?", "en", "cost"),
        ("when is the next global summit", "en", "global_summits"),
        ("combien coute l'adhesion, c'est gratuit ?", "fr", "cost"),  # no accents
        ("cuando es la proxima cumbre mundial", "es", "global_summits"),
        ("هل العضويه مجانيه", "ar", "cost"),  # ه for ة, as typed
        ("is membrship fee anual", "en", "cost"),  # typos
        ("HOW DO WE APPLY TO JOIN", "en", "how_to_join"),
        ("je veux parler a un humain", "fr", "contact"),
    ],
)
def test_answers_the_right_topic(kb: KnowledgeBase, question: str, language: str, topic: str) -> None:
    found = kb.answer(question, language)
    assert found.confident and found.topic is not None, found
    assert found.topic.id == topic
    assert 0.5 <= found.score <= 1.0


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("what's the weather", "en"),
        ("tell me a joke", "en"),
        ("asdfgh", "en"),
        ("quel temps fait-il demain", "fr"),
        ("cuéntame un chiste", "es"),
        ("ما هو الطقس اليوم", "ar"),
        ("", "en"),
        ("👍👍", "en"),
        ("?!", "fr"),
    ],
)
def test_off_topic_is_not_confident(kb: KnowledgeBase, question: str, language: str) -> None:
    found = kb.answer(question, language)
    assert not found.confident and found.topic is None, found
    assert found.score < 0.5


def test_not_confident_offers_suggestions_best_first(kb: KnowledgeBase) -> None:
    # one known word among noise
    found = kb.answer("football summit for fans with hotel tickets and cheap food", "en")
    assert not found.confident
    assert found.suggestions[0] == kb.topic("global_summits")
    assert len(found.suggestions) <= 3


def test_language_without_index_falls_back_to_english(small_kb: KnowledgeBase) -> None:
    found = small_kb.answer("is membership free", "ru")
    assert found.suggestions[:1] == (small_kb.topic("fees"),) or found.topic == small_kb.topic("fees")
    assert found.index_language == "en"


def test_misdetected_language_still_finds_the_topic(small_kb: KnowledgeBase) -> None:
    found = small_kb.answer("cuánto cuesta la cuota", "en")
    assert found.topic is not None and found.topic.id == "fees"
    assert found.index_language == "es"


def test_topics_and_languages(small_kb: KnowledgeBase) -> None:
    assert set(small_kb.topics) == {"fees", "summit"}
    assert small_kb.languages == frozenset({"en", "fr", "es", "ar"})
    assert small_kb.topic("fees").id == "fees"
    with pytest.raises(KeyError):
        small_kb.topic("nowhere")


@pytest.mark.parametrize(
    "question",
    ["x" * 10_000, "\x00\x07\x1b[2J", "fee " * 3000, "summit قمة саммит 峰会 🙂", "\ufffd" * 50],
)
def test_odd_input_never_raises(kb: KnowledgeBase, question: str) -> None:
    for language in ("en", "ar", "xx"):
        found = kb.answer(question, language)
        assert 0.0 <= found.score <= 1.0
