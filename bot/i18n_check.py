"""Catalogue maintenance: extract message ids from the code, update catalogues, and check them.

`python run_bot.py i18n check` fails on a message id missing from a language, an empty or fuzzy
translation, a wrong number of plural forms, or a placeholder that differs from the source.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.config import PROJECT_ROOT
from bot.i18n import DOMAIN, SOURCE_LANGUAGE

SOURCE_DIRS = ("bot", "handlers", "scheduler")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "NP_": (1, 2)}
_FIELD = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)")


def extract_template(root: Path = PROJECT_ROOT) -> Catalog:
    """Every translatable string in the code, as a template catalogue."""
    template = Catalog(project="scn-bot", domain=DOMAIN, fuzzy=False)
    for directory in SOURCE_DIRS:
        path = root / directory
        if not path.is_dir():
            continue
        for filename, lineno, message, comments, context in extract_from_dir(
            str(path),
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True,
        ):
            template.add(
                message,
                None,
                [(f"{directory}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
                flags=("python-brace-format",) if _placeholders(message) else (),
            )
    return template


def _placeholders(message: str | tuple[str, ...] | list[str]) -> set[str]:
    texts = [message] if isinstance(message, str) else list(message)
    found: set[str] = set()
    for text in texts:
        try:
            found.update(name for _, name, _, _ in string.Formatter().parse(text) if name)
        except ValueError:
            found.update(_FIELD.findall(text))
    return found


def _catalog_paths(locales_dir: Path) -> list[Path]:
    return sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def check_catalogs(locales_dir: Path, root: Path = PROJECT_ROOT) -> list[str]:
    template = extract_template(root)
    problems: list[str] = []
    for path in _catalog_paths(locales_dir):
        language = path.parent.parent.name
        shown = path.relative_to(locales_dir.parent) if locales_dir.parent in path.parents else path
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=DOMAIN)
        expected_forms = catalog.num_plurals
        for source in template:
            if not source.id:
                continue
            problem = _check_message(source, catalog.get(source.id, context=source.context), expected_forms)
            if problem:
                problems.append(f"{shown}: {problem}: {_short(source.id)}")
    return problems


def _check_message(source: Message, translated: Message | None, plural_forms: int) -> str | None:
    if translated is None:
        return "missing translation"
    if translated.fuzzy:
        return "fuzzy translation needs review"
    source_fields = _placeholders(source.id)
    if isinstance(source.id, tuple | list):
        raw = translated.string
        forms = [str(form or "") for form in (raw if isinstance(raw, tuple | list) else [raw])]
        if len(forms) != plural_forms:
            return f"{len(forms)} plural forms instead of {plural_forms}"
        if any(not form.strip() for form in forms):
            return "empty plural form"
        for form in forms:
            fields = _placeholders(form)
            # A plural form may leave out the number ("one event"), never add or drop another name.
            if fields - source_fields or (source_fields - {"count"}) - fields:
                return f"placeholders {sorted(fields)} differ from the source's {sorted(source_fields)}"
        return None
    text = translated.string if isinstance(translated.string, str) else ""
    if not text.strip():
        return "empty translation"
    if _placeholders(text) != source_fields:
        return f"placeholders {sorted(_placeholders(text))} differ from the source's {sorted(source_fields)}"
    return None


def _short(message: str | tuple[str, ...] | list[str]) -> str:
    text = message if isinstance(message, str) else message[0]
    text = text.replace("\n", "\\n")
    return repr(text if len(text) <= 60 else text[:57] + "...")


def update_catalogs(locales_dir: Path, root: Path = PROJECT_ROOT) -> list[Path]:
    """Write `messages.pot` and merge it into every language's catalogue (new ids come in empty)."""
    template = extract_template(root)
    pot = locales_dir / f"{DOMAIN}.pot"
    with pot.open("wb") as handle:
        write_po(handle, template, width=100, omit_header=False, sort_output=True)
    written = [pot]
    for path in _catalog_paths(locales_dir):
        language = path.parent.parent.name
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True, ignore_obsolete=True)
        written.append(path)
    return written


def init_catalog(locales_dir: Path, language: str, root: Path = PROJECT_ROOT) -> Path:
    """Start a new language's catalogue from the template (every string empty, ready to translate)."""
    if language == SOURCE_LANGUAGE:
        raise ValueError("English is the source language: its strings live in the code")
    locale = Locale.parse(language)
    path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        raise FileExistsError(f"{path} exists; use `i18n extract` to update it")
    catalog = Catalog(locale=locale, domain=DOMAIN, project="scn-bot", fuzzy=False)
    catalog.update(extract_template(root), no_fuzzy_matching=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True)
    return path
