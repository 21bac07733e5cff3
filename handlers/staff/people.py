"""Staff look people up and change their role: `/people [name]`, `/person <number>`.

A person card offers: make a guest, make a focal point (of a city chosen in the form `role`), make
staff, detach from their city. Each change is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import cities, membership
from bot.domain.people import Permission
from bot.forms import Choice, Field, FieldKind, Form, FormErrors, Submitted
from bot.i18n import N_
from bot.ids import row_by_id
from bot.messages import Button, Reply
from bot.routing import Router
from bot.storage.people import City, Person, PlatformIdentity, Role

router = Router("staff.people")
ROLE_LABELS = {
    Role.GUEST.value: N_("guest"),
    Role.APPLICANT.value: N_("applicant"),
    Role.FOCAL_POINT.value: N_("focal point"),
    Role.STAFF.value: N_("staff"),
}


@dataclass(frozen=True)
class PersonButton(CallbackData, prefix="person"):
    action: str  # show | role | detach
    person: int


async def _card(ctx: Context, person: Person) -> Reply:
    city = await ctx.session.get(City, person.city_id) if person.city_id else None
    platforms = (
        await ctx.session.scalars(
            select(PlatformIdentity.platform).where(PlatformIdentity.person_id == person.id)
        )
    ).all()
    lines = [
        f"#{person.id} {person.display_name or '-'}",
        ctx._("Role: {role}", role=ctx._(ROLE_LABELS.get(person.role, person.role))),
        ctx._("City: {city}", city=cities.label(city, ctx.language) if city else "-"),
        ctx._(
            "Language: {language}; on: {platforms}",
            language=person.language or "-",
            platforms=", ".join(sorted(platforms)) or "-",
        ),
    ]
    buttons = [Button(ctx._("Change the role"), PersonButton("role", person.id).pack())]
    if person.city_id is not None:
        buttons.append(Button(ctx._("Detach from the city"), PersonButton("detach", person.id).pack()))
    return Reply("\n".join(lines), buttons=tuple(buttons))


@router.command("people", description=N_("Find people: /people [name]"), needs=Permission.MANAGE_PEOPLE)
async def people(ctx: Context) -> Reply:
    query = ctx.args_plain.lower()
    statement = select(Person).order_by(Person.display_name, Person.id).limit(20)
    if query:
        statement = statement.where(func.lower(Person.display_name).contains(query))
    found = (await ctx.session.scalars(statement)).all()
    if not found:
        return Reply(ctx._("Nobody matches."))
    lines = [f"#{p.id} {p.display_name or '-'} ({ctx._(ROLE_LABELS.get(p.role, p.role))})" for p in found]
    buttons = tuple(
        Button(f"#{p.id} {p.display_name}"[:40], PersonButton("show", p.id).pack()) for p in found
    )
    return Reply("\n".join(lines), buttons=buttons)


@router.command("person", description=N_("A person: /person <number>"), needs=Permission.MANAGE_PEOPLE)
async def person_command(ctx: Context) -> Reply:
    raw = ctx.args_plain.lstrip("#")
    person = await row_by_id(ctx.session, Person, raw)
    if person is None:
        return Reply(ctx._("There is nobody with that number. Send /people to find them."))
    return await _card(ctx, person)


async def role_form(ctx: Context, context: Mapping[str, str]) -> Form:
    members = await cities.member_cities(ctx.session)
    roles = tuple(
        Choice(ctx._(ROLE_LABELS[r.value]), r.value) for r in (Role.GUEST, Role.FOCAL_POINT, Role.STAFF)
    )
    return Form(
        "role",
        ctx._("Change the role"),
        (
            Field("role", ctx._("Role"), FieldKind.CHOICE, choices=roles),
            Field(
                "city",
                ctx._("City (for a focal point)"),
                FieldKind.CHOICE,
                required=False,
                choices=tuple(Choice(cities.label(c, ctx.language), str(c.id), c.region) for c in members),
            ),
        ),
        ctx._("Save"),
        context=dict(context),
    )


@router.form("role", build=role_form, needs=Permission.MANAGE_PEOPLE)
async def role_submitted(ctx: Context, submitted: Submitted) -> Reply:
    raw = submitted.context.get("person", "")
    person = await row_by_id(ctx.session, Person, raw)
    if person is None:
        return Reply(ctx._("There is nobody with that number. Send /people to find them."))
    role = Role(submitted.text("role"))
    city = await row_by_id(ctx.session, City, submitted.text("city")) if submitted.text("city") else None
    if role is Role.FOCAL_POINT and city is None and person.city_id is None:
        raise FormErrors({"city": ctx._("A focal point needs a city.")})
    old = person.role
    await membership.change_role(ctx.session, ctx.person, person, role, city)
    ctx.audit("role_changed", person=person.id, old=old, new=role.value, city=person.city_id)
    return await _card(ctx, person)


@router.button(PersonButton, needs=Permission.MANAGE_PEOPLE)
async def person_button(ctx: Context, pressed: PersonButton) -> Reply:
    person = await ctx.session.get(Person, pressed.person)
    if person is None:
        return Reply(ctx._("There is nobody with that number. Send /people to find them."))
    if pressed.action == "role":
        form = await role_form(ctx, {"person": str(person.id)})
        values = {"role": person.role if person.role != Role.APPLICANT.value else Role.GUEST.value}
        if person.city_id:
            values["city"] = str(person.city_id)
        return Reply("", form=form.with_values(values))
    if pressed.action == "detach":
        city = person.city_id
        await membership.detach(ctx.session, ctx.person, person)
        ctx.audit("detached", person=person.id, city=city)
    return await _card(ctx, person)
