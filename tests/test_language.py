"""Language detection on short chat text: confident only when it is safe to switch."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.language import SUPPORTED, Detection, LanguageDetector


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(seed=0)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("how do we join the network", "en"),
        ("c'est gratuit l'adhesion ?", "fr"),
        ("donde esta la guia para alcaldes", "es"),
        ("как вступить в сеть", "ru"),
        ("هل العضويه مجانيه", "ar"),
        ("کیا رکنیت مفت ہے", "ur"),
        ("nani anaweza kuwa mwanachama", "sw"),
        ("kush mund te behet anetar", "sq"),
        ("wie können wir dem netzwerk beitreten", "de"),
        ("bagaimana cara bergabung dengan jaringan", "id"),
        ("이것은 무엇입니까", "ko"),
        ("नमस्ते आप कैसे हैं", "hi"),
        ("Ποιος μπορεί να γίνει μέλος", "el"),
        ("як приєднатися до мережі", "uk"),
    ],
)
def test_confident_on_ordinary_questions(detector: LanguageDetector, text: str, language: str) -> None:
    found = detector.detect(text)
    assert (found.language, found.confident) == (language, True), found


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "merci",
        "thanks",
        "👍",
        "John Smith",
        "Maria Garcia Lopez",
        "12345",
        "+44 20 7946 0958",
        "https://strongcitiesnetwork.org/about-us/",
        "someone@example.org",
        "@scn_bot",
        "/start",
        "",
        "   ",
        "?!",
        "spasibo",
        "شكرا",
    ],
)
def test_never_confident_on_words_names_numbers_links(detector: LanguageDetector, text: str) -> None:
    assert not detector.detect(text).confident


def test_links_mentions_and_commands_do_not_count(detector: LanguageDetector) -> None:
    text = "/help @someone https://example.org/english/words/here comment adherer au reseau"
    assert detector.detect(text).language == "fr"


def test_network_names_inside_other_languages_are_ignored(detector: LanguageDetector) -> None:
    assert detector.detect("strong cities network ni shirika gani hasa").language == "sw"
    assert detector.detect("чем занимается strong cities network").language == "ru"


def test_arabic_script_is_split_between_arabic_urdu_and_persian(detector: LanguageDetector) -> None:
    assert detector.detect("ہمارا شہر چھوٹا ہے کیا ہم اہل ہیں").language == "ur"
    assert detector.detect("كيف يمكن لمدينتنا الانضمام").language == "ar"
    assert detector.detect("عضویت رایگان است؟").language == "fa"


def test_prior_breaks_ties_on_short_text(detector: LanguageDetector) -> None:
    found = detector.detect("ok", prior="fr")
    assert found == Detection("fr", found.confidence, False)


def test_prior_never_overrules_a_confident_longer_message(detector: LanguageDetector) -> None:
    found = detector.detect("how do we join the network as a small city", prior="fr")
    assert (found.language, found.confident) == ("en", True)


def test_unsupported_languages_are_named(detector: LanguageDetector) -> None:
    found = detector.detect("ist die mitgliedschaft kostenlos für kleine städte?")
    assert found.language == "de" and found.language not in SUPPORTED


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "\x00\x01\x02\x1b[31m",
        "🙂" * 500,
        "hello مرحبا привет 你好 שלום",
        "a" + "\u0301" * 200,
        "\ud7ff\ufffd\U0010ffff",
        "long text " * 5000,
    ],
)
def test_odd_input_never_raises(detector: LanguageDetector, text: str) -> None:
    found = detector.detect(text)
    assert 0.0 <= found.confidence <= 1.0


def test_same_answer_every_time(detector: LanguageDetector) -> None:
    text = "combien ça coûte"
    assert {detector.detect(text) for _ in range(5)} == {detector.detect(text)}
    assert LanguageDetector(seed=0).detect(text) == detector.detect(text)


# --- First contact: no stored language, no platform hint ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("привет", "ru"),
        ("Взнос?", "ru"),
        ("شكرا", "ar"),
        ("رسوم؟", "ar"),
        ("مساعده", "ar"),
        ("فیس؟", "ur"),  # Farsi yeh: Urdu and Persian keyboards, not Arabic ones
        ("شکریہ", "ur"),
        ("ٹھیک ہے", "ur"),
        ("خدا حافظ", "ur"),
        ("bonjour", "fr"),
        ("hola", "es"),
        ("asante sana", "sw"),
        ("faleminderit", "sq"),
    ],
)
def test_first_contact_trusts_a_script_or_a_greeting(
    detector: LanguageDetector, text: str, language: str
) -> None:
    found = detector.detect_first_contact(text)
    assert (found.language, found.confident) == (language, True)


@pytest.mark.parametrize(
    "text",
    ["tell me a joke", "mayors guide", "global crises policy brief", "team contact details", "past summits"],
)
def test_first_contact_keeps_short_english_in_english(text: str) -> None:
    from bot.knowledge import KnowledgeBase

    kb = KnowledgeBase.load(Path(__file__).resolve().parent.parent / "content")
    found = LanguageDetector(english_words=kb.vocabulary("en")).detect_first_contact(text)
    assert found.language == "en" or not found.confident, found


def test_first_contact_leaves_the_ordinary_rules_alone(detector: LanguageDetector) -> None:
    assert not detector.detect("привет").confident  # an existing person is not switched on one word
    assert detector.detect_first_contact("how do i join the network").language == "en"
    assert not detector.detect_first_contact("👍").confident
