"""The member registry: cities (member authorities), added and edited by staff or imported from CSV.

A city is named once per country. Its region is suggested from its country (`content/regions.yaml`)
and its time zone too (CLDR's zones for the country; where there are several, staff choose). A CSV
import checks every row before writing any: one bad cell names its line and column and nothing is
imported; importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.countries import country_name, is_country, time_zones
from bot.domain.people import Permission, require
from bot.i18n import N_
from bot.regions import Regions
from bot.storage.people import City, CityLevel, CityStatus, Person, Role

CSV_COLUMNS = ("name", "country", "level", "region", "time_zone", "member_since")
LEVEL_LABELS = {
    CityLevel.CAPITAL.value: N_("Capital city"),
    CityLevel.CITY.value: N_("City or town"),
    CityLevel.MUNICIPALITY.value: N_("Municipality"),
    CityLevel.COUNTY.value: N_("County or district"),
    CityLevel.PROVINCE.value: N_("Province or state"),
    CityLevel.REGION.value: N_("Region"),
    CityLevel.OTHER.value: N_("Other local authority"),
}
# Where a country has several zones, those on the region's continent come first.
REGION_CONTINENTS = {
    "Africa": ("Africa",),
    "MENA": ("Asia", "Africa"),
    "Western Balkans": ("Europe",),
    "Europe": ("Europe",),
    "South Asia": ("Asia",),
    "Central Asia": ("Asia",),
    "North America": ("America",),
    "Latin America": ("America",),
    "Asia-Pacific": ("Asia", "Australia", "Pacific"),
}
LEVELS = tuple(level.value for level in CityLevel)
FIRST_YEAR = 1990  # the network began in 2015; older years are typos


class CityProblem(ValueError):
    """A city's data is wrong; `field` names it and the message says why (English, for staff)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class CityData:
    name: str
    country: str
    level: str = CityLevel.CITY.value
    region: str = ""
    time_zone: str = ""
    member_since: int | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int


def valid_zone(name: str) -> bool:
    if not name or name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def suggested_zone(country: str) -> str | None:
    """The country's zone when it has only one."""
    zones = time_zones(country)
    return zones[0] if len(zones) == 1 else None


def zones_for(country: str, region: str = "") -> list[str]:
    """The country's zones, those on its region's continent first (Europe/Lisbon before Atlantic/Azores)."""
    continents = REGION_CONTINENTS.get(region, ())
    return sorted(time_zones(country), key=lambda zone: (zone.split("/")[0] not in continents, zone))


def check(data: CityData, regions: Regions, this_year: int) -> CityData:
    """`data` normalised (region and zone filled in where the country says), or `CityProblem`."""
    name = " ".join(data.name.split())
    if not name:
        raise CityProblem("name", "the name is empty")
    if len(name) > 200:
        raise CityProblem("name", "the name is longer than 200 characters")
    country = data.country.strip().upper()
    if not is_country(country):
        raise CityProblem("country", f"{data.country!r} is not an ISO 3166 alpha-2 country code (such as KE)")
    level = data.level.strip().lower() or CityLevel.CITY.value
    if level not in LEVELS:
        raise CityProblem("level", f"{data.level!r} is not one of {', '.join(LEVELS)}")
    region = regions.named(data.region) if data.region.strip() else regions.of(country)
    if region is None:
        raise CityProblem("region", f"{data.region!r} is not one of the regions: {', '.join(regions.names)}")
    zone = data.time_zone.strip()
    if not zone:
        found = suggested_zone(country)
        if found is None:
            zones = zones_for(country, region)
            choices = ", ".join(zones[:6]) + (" ..." if len(zones) > 6 else "")
            raise CityProblem("time_zone", f"{country} has several time zones; give one ({choices})")
        zone = found
    elif not valid_zone(zone):
        raise CityProblem("time_zone", f"{zone!r} is not an IANA time zone (such as Africa/Nairobi)")
    if data.member_since is not None and not FIRST_YEAR <= data.member_since <= this_year:
        raise CityProblem(
            "member_since", f"{data.member_since} is not a year between {FIRST_YEAR} and {this_year}"
        )
    return CityData(name, country, level, region, zone, data.member_since)


async def find(session: AsyncSession, name: str, country: str) -> City | None:
    """The city of that name in that country (case and spacing ignored)."""
    wanted = " ".join(name.split()).lower()
    return await session.scalar(
        select(City).where(func.lower(City.name) == wanted, City.country == country.upper())
    )


async def save(
    session: AsyncSession, data: CityData, now: datetime, city: City | None = None
) -> tuple[City, bool]:
    """Create the city, or update `city` (or the one of that name and country). (city, changed)."""
    existing = city or await find(session, data.name, data.country)
    if existing is None:
        city = City(
            name=data.name,
            country=data.country,
            level=data.level,
            region=data.region,
            time_zone=data.time_zone,
            member_since=data.member_since,
            status=CityStatus.MEMBER.value,
            created_at=now,
        )
        session.add(city)
        await session.flush()
        return city, True
    before = (
        existing.name,
        existing.country,
        existing.level,
        existing.region,
        existing.time_zone,
        existing.member_since,
    )
    existing.name, existing.country, existing.level = data.name, data.country, data.level
    existing.region, existing.time_zone = data.region, data.time_zone
    if data.member_since is not None:
        existing.member_since = data.member_since
    after = (
        existing.name,
        existing.country,
        existing.level,
        existing.region,
        existing.time_zone,
        existing.member_since,
    )
    return existing, before != after


async def add_or_edit(
    session: AsyncSession,
    staff: Person,
    data: CityData,
    regions: Regions,
    now: datetime,
    city: City | None = None,
) -> City:
    require(staff, Permission.MANAGE_CITIES)
    checked = check(data, regions, now.year)
    clash = await find(session, checked.name, checked.country)
    if clash is not None and (city is None or clash.id != city.id):
        if city is not None:
            raise CityProblem("name", f"{clash.name} ({clash.country}) is already city #{clash.id}")
        city = clash
    saved, _changed = await save(session, checked, now, city)
    return saved


async def set_status(session: AsyncSession, staff: Person, city: City, status: CityStatus) -> None:
    require(staff, Permission.MANAGE_CITIES)
    city.status = status.value


async def listing(
    session: AsyncSession, *, query: str = "", region: str = "", offset: int = 0, limit: int = 20
) -> tuple[list[tuple[City, int]], int]:
    """Cities with their number of focal points, by name; and how many match in all."""
    focal = (
        select(Person.city_id, func.count().label("n"))
        .where(Person.role == Role.FOCAL_POINT.value)
        .group_by(Person.city_id)
        .subquery()
    )
    where = []
    if query.strip():
        where.append(func.lower(City.name).contains(query.strip().lower()))
    if region:
        where.append(City.region == region)
    total = int(await session.scalar(select(func.count()).select_from(City).where(*where)) or 0)
    rows = await session.execute(
        select(City, func.coalesce(focal.c.n, 0))
        .outerjoin(focal, focal.c.city_id == City.id)
        .where(*where)
        .order_by(City.name, City.id)
        .offset(offset)
        .limit(limit)
    )
    return [(city, int(count)) for city, count in rows.all()], total


async def member_cities(session: AsyncSession, limit: int = 500) -> list[City]:
    rows = await session.scalars(
        select(City).where(City.status == CityStatus.MEMBER.value).order_by(City.name, City.id).limit(limit)
    )
    return list(rows.all())


def label(city: City, language: str = "en") -> str:
    """ "Mombasa, Kenya": the city and its country in the reader's language."""
    return f"{city.name}, {country_name(city.country, language)}" if city.country else city.name


# ---- CSV ---------------------------------------------------------------------------------------------
class CsvProblem(ValueError):
    """One line saying where the file is wrong: `line 4, column country: ...`."""


def parse_csv(text: str, regions: Regions, this_year: int) -> list[CityData]:
    """Every row checked; raises `CsvProblem` naming the first bad row and column."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        raise CsvProblem(
            "line 1: the file is empty; the first line must be the header " + ",".join(CSV_COLUMNS)
        ) from None
    except csv.Error as error:
        raise CsvProblem(f"line 1: {error}") from None
    missing = [column for column in CSV_COLUMNS if column not in header]
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if missing or unknown:
        detail = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
        raise CsvProblem(f"line 1: the header must be {','.join(CSV_COLUMNS)} ({detail})")
    rows: list[CityData] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise CsvProblem(f"line {line}: {len(record)} columns, the header has {len(header)}")
            cells = dict(zip(header, record, strict=True))
            year = cells["member_since"].strip()
            if year and not (year.isdigit() and len(year) == 4):
                raise CsvProblem(f"line {line}, column member_since: {year!r} is not a year such as 2019")
            data = CityData(
                cells["name"],
                cells["country"],
                cells["level"],
                cells["region"],
                cells["time_zone"],
                int(year) if year else None,
            )
            try:
                checked = check(data, regions, this_year)
            except CityProblem as problem:
                raise CsvProblem(f"line {line}, column {problem.field}: {problem}") from None
            key = (checked.name.lower(), checked.country)
            if key in seen:
                raise CsvProblem(
                    f"line {line}, column name: {checked.name} ({checked.country}) is also on line "
                    f"{seen[key]}"
                )
            seen[key] = line
            rows.append(checked)
    except csv.Error as error:
        raise CsvProblem(f"line {reader.line_num}: {error}") from None
    return rows


async def import_rows(session: AsyncSession, rows: Sequence[CityData], now: datetime) -> ImportResult:
    added = updated = unchanged = 0
    for data in rows:
        existing = await find(session, data.name, data.country)
        _city, changed = await save(session, data, now, existing)
        if existing is None:
            added += 1
        elif changed:
            updated += 1
        else:
            unchanged += 1
    return ImportResult(added, updated, unchanged)


async def export_csv(session: AsyncSession) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for city in (await session.scalars(select(City).order_by(City.name, City.id))).all():
        writer.writerow(
            [city.name, city.country, city.level, city.region, city.time_zone, city.member_since or ""]
        )
    return out.getvalue()
