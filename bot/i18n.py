"""UI strings and locale-aware formatting.

Catalogues are gettext `.po` files under `locales/<lang>/LC_MESSAGES/messages.po`, read with Babel and
compiled in memory at start (no build step, no compiled files in git). English is the source language:
its strings are the message ids. A translator is chosen per message (no process-wide `_`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

SOURCE_LANGUAGE = "en"
DOMAIN = "messages"
_FSI, _PDI = "\u2068", "\u2069"  # first-strong isolate / pop directional isolate

log = logging.getLogger(__name__)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (translated later, per reader)."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural pair for extraction; translate it later with `Translator.ngettext(*pair, count)`."""
    return singular, plural


@dataclass(frozen=True)
class Translator:
    """One reader's language: translated strings, plural rules and Babel formatting."""

    language: str
    locale: Locale
    translations: NullTranslations

    @property
    def rtl(self) -> bool:
        return self.locale.character_order == "right-to-left"

    def gettext(self, message: str, **params: object) -> str:
        return self._format(self.translations.gettext(message), params)

    _ = gettext

    def ngettext(self, singular: str, plural: str, count: int, **params: object) -> str:
        """Plural-aware; `{count}` in the strings is the number formatted for the reader."""
        template = self.translations.ngettext(singular, plural, count)
        return self._format(template, {"count": count, **params})

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def date(self, value: date | datetime, fmt: str = "medium", tz: tzinfo | str | None = None) -> str:
        if isinstance(value, datetime) and tz is not None:
            value = value.astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz)
        return format_date(value, format=fmt, locale=self.locale)

    def time(self, value: datetime, fmt: str = "short", tz: tzinfo | str | None = None) -> str:
        return format_time(value, format=fmt, tzinfo=_zone(tz), locale=self.locale)

    def datetime(self, value: datetime, fmt: str = "medium", tz: tzinfo | str | None = None) -> str:
        return format_datetime(value, format=fmt, tzinfo=_zone(tz), locale=self.locale)

    def _format(self, template: str, params: Mapping[str, object]) -> str:
        if not params:
            return template
        values = {key: self._value(value) for key, value in params.items()}
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            log.error("translation placeholder mismatch", extra={"language": self.language})
            return template

    def _value(self, value: object) -> str:
        text = (
            self.number(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else str(value)
        )
        # Keep names, numbers and links the right way round inside right-to-left sentences.
        return f"{_FSI}{text}{_PDI}" if self.rtl else text


def _zone(tz: tzinfo | str | None) -> tzinfo | None:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


class Catalogs:
    """All languages found under `locales/`, plus English (the source)."""

    def __init__(self, locales_dir: Path, default_language: str = SOURCE_LANGUAGE) -> None:
        self.locales_dir = locales_dir
        self.default_language = default_language
        self._translators: dict[str, Translator] = {
            SOURCE_LANGUAGE: Translator(SOURCE_LANGUAGE, Locale.parse(SOURCE_LANGUAGE), NullTranslations())
        }
        for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            language = po_path.parent.parent.name
            self._translators[language] = Translator(
                language, Locale.parse(language), _compile(po_path, language)
            )
        if default_language not in self._translators:
            raise ValueError(f"no catalogue for the default language {default_language!r}")

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._translators))

    def __contains__(self, language: object) -> bool:
        return language in self._translators

    def translator(self, language: str | None) -> Translator:
        if language and language in self._translators:
            return self._translators[language]
        return self._translators[self.default_language]


def _compile(po_path: Path, language: str) -> NullTranslations:
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def language_name(language: str, in_language: str | None = None, *, capitalize: bool = True) -> str:
    """The language's name: its own name for itself ("العربية", "Français") for pickers, or its name
    in `in_language` ("German" in English). `capitalize=False` keeps CLDR's form for use inside a
    sentence ("en français", "en español"; English names stay capitalized)."""
    try:
        name = Locale.parse(language).get_display_name(in_language or language) or language
    except (ValueError, LookupError):
        return language
    return name[:1].upper() + name[1:] if capitalize else name
