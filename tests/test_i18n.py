"""Catalogues, plural rules, formatting and right-to-left text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.config import PROJECT_ROOT
from bot.i18n import Catalogs, language_name
from bot.i18n_check import check_catalogs

LOCALES = PROJECT_ROOT / "locales"


def test_real_catalogues_are_complete() -> None:
    assert check_catalogs(LOCALES) == []


def test_all_eight_languages_are_loaded() -> None:
    assert set(Catalogs(LOCALES).languages) >= {"en", "ar", "fr", "es", "ru", "sw", "ur", "sq"}


def test_arabic_has_six_plural_forms_and_english_two() -> None:
    catalogs = Catalogs(LOCALES)
    arabic = catalogs.translator("ar")
    assert arabic.locale.plural_form.tags | {"other"} == {"zero", "one", "two", "few", "many", "other"}
    forms = {
        arabic.ngettext(
            "I can speak with you in {count} language.", "I can speak with you in {count} languages.", n
        )
        for n in (0, 1, 2, 3, 11, 100)
    }
    assert len(forms) == 6  # six different Arabic sentences, one per plural form
    english = catalogs.translator("en")
    assert english.ngettext("{count} day", "{count} days", 1) == "1 day"
    assert english.ngettext("{count} day", "{count} days", 1500) == "1,500 days"


def test_dates_and_numbers_in_the_readers_locale_and_zone() -> None:
    catalogs = Catalogs(LOCALES)
    moment = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
    assert catalogs.translator("fr").datetime(moment, "short", tz="Africa/Nairobi") == "03/12/2026 17:30"
    assert catalogs.translator("en").time(moment, tz="America/New_York") == "9:30\u202fAM"
    assert catalogs.translator("fr").number(12345.5) == "12\u202f345,5"
    assert catalogs.translator("ar").number(4096) in ("4,096", "4٬096")


def test_right_to_left_values_are_isolated() -> None:
    arabic = Catalogs(LOCALES).translator("ar")
    assert arabic.rtl
    text = arabic.gettext("Welcome, {name}!", name="Amina")
    assert "\u2068Amina\u2069" in text
    assert Catalogs(LOCALES).translator("en").gettext("Welcome, {name}!", name="Amina") == "Welcome, Amina!"


def test_unknown_language_falls_back_to_default() -> None:
    assert Catalogs(LOCALES).translator("xx").language == "en"
    assert language_name("ar") == "العربية"


def _write(path: Path, language: str, entries: dict[str, str]) -> None:
    catalog = Catalog(locale=language, domain="messages")
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)


def test_check_catches_missing_empty_and_placeholder_mismatch(tmp_path: Path) -> None:
    source = tmp_path / "project"
    (source / "handlers").mkdir(parents=True)
    (source / "handlers" / "x.py").write_text(
        'def f(ctx):\n    ctx._("Hello {name}")\n    ctx._("Bye")\n    ctx._("Third")\n'
        '    ctx.ngettext("{count} event", "{count} events", 2)\n'
    )
    po = tmp_path / "locales" / "fr" / "LC_MESSAGES" / "messages.po"
    _write(po, "fr", {"Hello {name}": "Bonjour {nom}", "Bye": ""})
    problems = check_catalogs(tmp_path / "locales", root=source)
    assert any("placeholders ['nom'] differ" in p and "Hello {name}" in p for p in problems)
    assert any("empty translation: 'Bye'" in p for p in problems)
    assert any("missing translation: 'Third'" in p for p in problems)
    assert any("missing translation: '{count} event'" in p for p in problems)
