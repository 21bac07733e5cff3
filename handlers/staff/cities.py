"""The member registry for staff: `/cities [name]`, `/city <id>`, `/city add`, `/city edit <id>`.

The form `city` takes the country in any language (recognised as its ISO code) and suggests the time
zone from it; where the country has several, the zone field says which ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.countries import country_name, find_country, recognise
from bot.domain import cities
from bot.domain.people import Permission
from bot.forms import Choice, Field, FieldKind, Form, FormErrors, Submitted
from bot.i18n import N_
from bot.ids import row_by_id
from bot.messages import Button, Reply
from bot.routing import Router
from bot.storage.people import City, CityStatus
from handlers.levels import level_choices, level_label

router = Router("staff.cities")
PAGE = 15


@dataclass(frozen=True)
class CityButton(CallbackData, prefix="city"):
    action: str  # show | edit | former | member | page
    city: int
    query: str = ""


async def city_form(ctx: Context, context: Mapping[str, str]) -> Form:
    regions = tuple(Choice(name, name) for name in ctx.services.regions.names)
    return Form(
        "city",
        ctx._("A member city"),
        (
            Field("name", ctx._("Name of the city or authority")),
            Field("country", ctx._("Country"), hint=ctx._("Its name in any language, or its code (KE)")),
            Field(
                "level", ctx._("What kind of authority is it?"), FieldKind.CHOICE, choices=level_choices(ctx)
            ),
            Field(
                "region",
                ctx._("Region of the network"),
                FieldKind.CHOICE,
                required=False,
                choices=regions,
                hint=ctx._("Leave it empty to take the country's region"),
            ),
            Field(
                "time_zone",
                ctx._("Time zone"),
                required=False,
                hint=ctx._(
                    "Leave it empty to take the country's, when it has only one (such as Africa/Nairobi)"
                ),
            ),
            Field("member_since", ctx._("Member since (year)"), FieldKind.NUMBER, required=False),
        ),
        ctx._("Save"),
        context=dict(context),
    )


def _values(ctx: Context, city: City) -> dict[str, str]:
    return {
        "name": city.name,
        "country": city.country,
        "level": city.level,
        "region": city.region,
        "time_zone": city.time_zone,
        "member_since": str(city.member_since or ""),
    }


def card(ctx: Context, city: City, focal_points: int | None = None) -> Reply:
    lines = [
        f"#{city.id} {cities.label(city, ctx.language)}",
        ctx._("Kind: {level}", level=level_label(ctx, city.level)),
        ctx._("Region: {region}; time zone: {zone}", region=city.region or "-", zone=city.time_zone),
        ctx._(
            "Member since: {year}; status: {status}", year=str(city.member_since or "-"), status=city.status
        ),
    ]
    if focal_points is not None:
        lines.append(ctx._("Focal points: {count}", count=focal_points))
    toggle = "former" if city.status == CityStatus.MEMBER.value else "member"
    label = ctx._("Mark as former member") if toggle == "former" else ctx._("Mark as member again")
    return Reply(
        "\n".join(lines),
        buttons=(
            Button(ctx._("Edit"), CityButton("edit", city.id).pack()),
            Button(label, CityButton(toggle, city.id).pack()),
        ),
    )


async def _listing(ctx: Context, query: str, page: int) -> Reply:
    rows, total = await cities.listing(ctx.session, query=query, offset=page * PAGE, limit=PAGE)
    if not rows:
        return Reply(
            ctx._("No city matches.") if query else ctx._("The registry is empty. Send /city add to add one.")
        )
    lines = [ctx._("Member cities ({count}):", count=total)]
    for city, focal in rows:
        former = "" if city.status == CityStatus.MEMBER.value else " " + ctx._("(former member)")
        lines.append(f"#{city.id} {cities.label(city, ctx.language)}, {city.region or '-'}: {focal}{former}")
    buttons = [Button(f"#{city.id} {city.name}"[:40], CityButton("show", city.id).pack()) for city, _ in rows]
    if (page + 1) * PAGE < total:
        buttons.append(Button(ctx._("Next page"), CityButton("page", page + 1, query).pack()))
    return Reply("\n".join(lines), buttons=tuple(buttons))


@router.command(
    "cities", description=N_("The member registry: /cities [name]"), needs=Permission.MANAGE_CITIES
)
async def list_cities(ctx: Context) -> Reply:
    return await _listing(ctx, ctx.args_plain, 0)


@router.command(
    "city",
    description=N_("A city: /city add, /city <number>, /city edit <number>"),
    needs=Permission.MANAGE_CITIES,
)
async def city_command(ctx: Context) -> Reply:
    verb, _, rest = ctx.args_plain.partition(" ")
    if verb == "add":
        return Reply(ctx._("A new member city:"), form=await city_form(ctx, {}))
    raw = (rest if verb == "edit" else verb).strip().lstrip("#")
    city = await row_by_id(ctx.session, City, raw)
    if city is None:
        return Reply(ctx._("Send /city add, /city <number> or /city edit <number> (see /cities)."))
    if verb == "edit":
        form = await city_form(ctx, {"city": str(city.id)})
        return Reply("", form=form.with_values(_values(ctx, city)))
    rows, _ = await cities.listing(ctx.session, query=city.name)
    count = next((n for found, n in rows if found.id == city.id), 0)
    return card(ctx, city, count)


def _country(ctx: Context, text: str) -> str:
    others = tuple(language for language in ctx.catalogs.languages if language != ctx.language)
    code = recognise(text, ctx.language, others)
    if code is None:
        candidates = ", ".join(
            f"{country_name(c.code, ctx.language)} ({c.code})"
            for c in find_country(text, ctx.language, others)[:4]
        )
        message = (
            ctx._("Which country: {names}?", names=candidates)
            if candidates
            else ctx._("I do not know that country. Write its name or its code, such as KE.")
        )
        raise FormErrors({"country": message})
    return code


@router.form("city", build=city_form, needs=Permission.MANAGE_CITIES)
async def city_submitted(ctx: Context, submitted: Submitted) -> Reply:
    country = _country(ctx, submitted.text("country"))
    zone = submitted.text("time_zone").strip()
    if not zone and cities.suggested_zone(country) is None:
        region = ctx.services.regions.named(submitted.text("region")) or ctx.services.regions.of(country)
        zones = ", ".join(cities.zones_for(country, region)[:8])
        raise FormErrors(
            {"time_zone": ctx._("This country has several time zones; write one: {zones}", zones=zones)}
        )
    if zone and not cities.valid_zone(zone):
        raise FormErrors({"time_zone": ctx._("That is not a time zone name, such as Africa/Nairobi.")})
    year = submitted.text("member_since")
    if year and (not year.isdigit() or not cities.FIRST_YEAR <= int(year) <= ctx.clock.now().year):
        raise FormErrors({"member_since": ctx._("Please write a year, such as 2019.")})
    raw_id = submitted.context.get("city", "")
    editing = await row_by_id(ctx.session, City, raw_id)
    data = cities.CityData(
        submitted.text("name"),
        country,
        submitted.text("level"),
        submitted.text("region"),
        zone,
        int(year) if year else None,
    )
    try:
        city = await cities.add_or_edit(
            ctx.session, ctx.person, data, ctx.services.regions, ctx.clock.now(), editing
        )
    except cities.CityProblem as problem:
        raise FormErrors({problem.field: str(problem)}) from None
    ctx.audit("city_saved", city=city.id)
    return card(ctx, city)


@router.button(CityButton, needs=Permission.MANAGE_CITIES)
async def city_button(ctx: Context, pressed: CityButton) -> Reply:
    if pressed.action == "page":
        return await _listing(ctx, pressed.query, pressed.city)
    city = await ctx.session.get(City, pressed.city)
    if city is None:
        return Reply(ctx._("That city is no longer in the registry."))
    if pressed.action == "edit":
        form = await city_form(ctx, {"city": str(city.id)})
        return Reply("", form=form.with_values(_values(ctx, city)))
    if pressed.action in ("former", "member"):
        status = CityStatus.FORMER if pressed.action == "former" else CityStatus.MEMBER
        await cities.set_status(ctx.session, ctx.person, city, status)
        ctx.audit("city_status", city=city.id, status=status.value)
    return card(ctx, city)
