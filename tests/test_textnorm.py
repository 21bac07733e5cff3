"""Folding and terms: what a person types and what staff wrote must meet in the middle."""

from __future__ import annotations

from bot.textnorm import STOPWORDS, Analyzer, fold, fold_light, strip_noise, tokenize


def test_latin_accents_and_case_fold_away() -> None:
    assert fold("Adhésion GRATUITE à l'Réseau") == "adhesion gratuite a l'reseau"
    assert fold("¿Cuánto cuesta?") == "¿cuanto cuesta?"
    assert fold("Çfarë") == "cfare"


def test_cyrillic_keeps_short_i_and_folds_yo() -> None:
    assert fold("Всё ЙОД") == "все йод"


def test_arabic_variants_fold_to_one_form() -> None:
    assert fold("أإآٱ") == "اااا"
    assert fold("مجانية") == fold("مجانيه")
    assert fold("مستشفى") == fold("مستشفي")
    assert fold("العَرَبِيَّة") == fold("العربيه")  # harakat
    assert fold("مـــدينة") == fold("مدينه")  # tatweel


def test_persian_and_urdu_letters_fold_to_arabic() -> None:
    assert fold("کیا") == fold("كيا")
    assert fold("ہے") == fold("هي")


def test_eastern_digits_become_ascii() -> None:
    assert fold("٢٠٢٦ و ۱۲۳") == "2026 و 123"


def test_light_fold_keeps_taa_marbuta_for_the_stemmer() -> None:
    assert "ة" in fold_light("مدينة")
    assert "ة" not in fold("مدينة")


def test_noise_is_removed_before_tokenising() -> None:
    text = "/start @scn_bot see https://example.org/x?y=1 or mail a.b@example.org now"
    assert tokenize(text) == ["see", "or", "mail", "now"]
    assert "example" not in strip_noise(text)


def test_snowball_stems_make_inflections_meet() -> None:
    english = Analyzer("en")
    assert english.terms("joining") == english.terms("join")
    french = Analyzer("fr")
    assert french.terms("réseaux") == french.terms("reseau")


def test_languages_without_stemmer_use_character_ngrams() -> None:
    swahili = Analyzer("sw")
    assert swahili.uses_ngrams
    shared = set(swahili.terms("kujiunga")) & set(swahili.terms("tunajiunga"))
    assert {"jiun", "iung", "unga"} <= shared


def test_function_words_are_dropped_from_terms() -> None:
    assert Analyzer("en").terms("is the membership free") == Analyzer("en").terms("membership free")
    assert "merci" in STOPWORDS["fr"]
