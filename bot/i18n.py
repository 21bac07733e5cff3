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
from functools import lru_cache
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


OFFERED_AT = 0.9  # share of a catalogue translated before /language offers it


class Catalogs:
    """All languages found under `locales/`, plus English (the source)."""

    def __init__(self, locales_dir: Path, default_language: str = SOURCE_LANGUAGE) -> None:
        self.locales_dir = locales_dir
        self.default_language = default_language
        self._translators: dict[str, Translator] = {
            SOURCE_LANGUAGE: Translator(SOURCE_LANGUAGE, Locale.parse(SOURCE_LANGUAGE), NullTranslations())
        }
        self.completeness: dict[str, float] = {SOURCE_LANGUAGE: 1.0}
        pot = locales_dir / f"{DOMAIN}.pot"
        wanted = _template_ids(pot, _stamp(pot))
        for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            language = po_path.parent.parent.name
            translations, share = _compile(po_path, _stamp(po_path), language, wanted)
            self._translators[language] = Translator(language, Locale.parse(language), translations)
            self.completeness[language] = share
        if default_language not in self._translators:
            raise ValueError(f"no catalogue for the default language {default_language!r}")

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._translators))

    @property
    def offered(self) -> tuple[str, ...]:
        """The languages a person may choose: those translated far enough (`OFFERED_AT`), and the
        default language. A catalogue still being translated speaks only where it is complete."""
        return tuple(
            language
            for language in self.languages
            if self.completeness.get(language, 0.0) >= OFFERED_AT or language == self.default_language
        )

    def __contains__(self, language: object) -> bool:
        return language in self._translators

    def translator(self, language: str | None) -> Translator:
        if language and language in self._translators:
            return self._translators[language]
        return self._translators[self.default_language]


def _stamp(path: Path) -> tuple[int, int]:
    """What identifies a file's content for the caches below: its size and modification time."""
    try:
        found = path.stat()
    except OSError:
        return (0, 0)
    return (found.st_size, found.st_mtime_ns)


@lru_cache(maxsize=64)
def _template_ids(pot_path: Path, stamp: tuple[int, int]) -> frozenset[str] | None:
    """The msgids the code uses (`messages.pot`, refreshed by `i18n extract`), when there is one."""
    if not pot_path.is_file():
        return None
    with pot_path.open("rb") as handle:
        template = read_po(handle, domain=DOMAIN)
    return frozenset(_key(message.id) for message in template if message.id)


def _key(message_id: str | tuple[str, ...] | list[str]) -> str:
    return message_id if isinstance(message_id, str) else str(message_id[0])


@lru_cache(maxsize=64)
def _compile(
    po_path: Path, stamp: tuple[int, int], language: str, wanted: frozenset[str] | None = None
) -> tuple[NullTranslations, float]:
    """The catalogue's translations, and the share of the code's messages (`wanted`; else the
    catalogue's own) it translates; a fuzzy entry is not a translation."""
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    done = {
        _key(message.id)
        for message in catalog
        if message.id
        and not message.fuzzy
        and (all(message.string) if isinstance(message.string, (list, tuple)) else bool(message.string))
    }
    total = wanted if wanted is not None else frozenset(_key(m.id) for m in catalog if m.id)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN), (len(done & total) / len(total) if total else 1.0)


def language_name(language: str, in_language: str | None = None, *, capitalize: bool = True) -> str:
    """The language's name: its own name for itself ("العربية", "Français") for pickers, or its name
    in `in_language` ("German" in English). `capitalize=False` keeps CLDR's form for use inside a
    sentence ("en français", "en español"; English names stay capitalized)."""
    try:
        name = Locale.parse(language).get_display_name(in_language or language) or language
    except (ValueError, LookupError):
        return language
    return name[:1].upper() + name[1:] if capitalize else name
