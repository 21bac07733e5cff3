"""The network's regions (its hubs and the rest of the world), read from `content/regions.yaml`.

Staff edit the file; each region lists the countries it covers, so a new member city's region can be
suggested from its country. A broken file is reported by `content check`; the bot then starts with
the regions it could read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.countries import is_country
from bot.textnorm import fold

log = logging.getLogger(__name__)
FILENAME = "regions.yaml"


@dataclass(frozen=True)
class Regions:
    names: tuple[str, ...] = ()
    by_country: dict[str, str] = field(default_factory=dict)

    def of(self, country: str) -> str:
        """The region a country is in ("" when none lists it)."""
        return self.by_country.get(country.upper(), "")

    def named(self, text: str) -> str | None:
        """The region `text` names (case and accents ignored), or None."""
        wanted = fold(text).strip()
        return next((name for name in self.names if fold(name) == wanted), None)


def read_regions(content_dir: Path) -> tuple[Regions, list[str]]:
    """The regions, and the problems found (each a sentence naming the file)."""
    path = content_dir / FILENAME
    shown = f"content/{FILENAME}"
    if not path.is_file():
        return Regions(), [f"{shown}: is missing (the network's regions)"]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as error:
        return Regions(), [f"{shown}: cannot be read: {error}"]
    if not isinstance(data, dict):
        return Regions(), [f"{shown}: must map each region to a list of country codes"]
    problems: list[str] = []
    names: list[str] = []
    by_country: dict[str, str] = {}
    for name, countries in data.items():
        if not isinstance(name, str) or not isinstance(countries, list):
            problems.append(f"{shown}: region {name!r} must have a list of country codes")
            continue
        names.append(name)
        for code in countries:
            code = str(code).upper()
            if not is_country(code):
                problems.append(f"{shown}: {code!r} in {name} is not an ISO 3166 country code")
            elif code in by_country:
                problems.append(f"{shown}: {code} is listed in both {by_country[code]} and {name}")
            else:
                by_country[code] = name
    return Regions(tuple(names), by_country), problems


def load_regions(content_dir: Path) -> Regions:
    regions, problems = read_regions(content_dir)
    for problem in problems:
        log.warning("%s (skipped)", problem)
    return regions
