"""`/apply`: a city applies to join, in the person's language; `/status` shows the application.

The form (`apply`) is checked field by field; the country is recognised in any language the bot
speaks. A valid form is kept as a draft and shown as a summary to send, edit or drop. Staff are told
(a card with Approve, Request information and Decline); the applicant hears the outcome here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot import form_flow
from bot.callbacks import CallbackData
from bot.context import Context
from bot.countries import country_name, find_country, recognise
from bot.domain import membership
from bot.domain.people import Permission
from bot.forms import Field, FieldKind, Form, FormErrors, Submitted
from bot.i18n import N_
from bot.ids import row_by_id
from bot.messages import Button, Reply
from bot.routing import Router
from bot.storage.membership import OPEN_APPLICATION, ApplicationStatus, MembershipApplication
from bot.storage.people import City, Role
from handlers.levels import level_choices, level_label
from handlers.staff.applications import card_buttons

router = Router("apply")
FORM = "apply"
MAX_POPULATION = 100_000_000
STATUS_NAMES = {
    ApplicationStatus.PENDING.value: N_("being reviewed by the Management Unit"),
    ApplicationStatus.INFO_REQUESTED.value: N_("the Management Unit asked for more information"),
    ApplicationStatus.APPROVED.value: N_("approved"),
    ApplicationStatus.DECLINED.value: N_("not accepted"),
    ApplicationStatus.WITHDRAWN.value: N_("withdrawn"),
}


@dataclass(frozen=True)
class ApplyButton(CallbackData, prefix="application"):
    action: str  # send | edit | cancel | withdraw
    application: int


async def apply_form(ctx: Context, context: Mapping[str, str]) -> Form:
    fields = (
        Field(
            "authority",
            ctx._("Name of your city or local authority"),
            hint=ctx._("For example: Mombasa County"),
        ),
        Field("country", ctx._("Country"), hint=ctx._("In any language, for example: Kenya")),
        Field("level", ctx._("What kind of authority is it?"), FieldKind.CHOICE, choices=level_choices(ctx)),
        Field(
            "population",
            ctx._("Approximate population"),
            FieldKind.NUMBER,
            hint=ctx._("For example: 1200000"),
        ),
        Field("applicant_name", ctx._("Your name")),
        Field(
            "applicant_role",
            ctx._("Your role"),
            hint=ctx._("For example: deputy mayor, head of social cohesion"),
        ),
        Field("email", ctx._("Your official email address"), FieldKind.EMAIL),
        Field(
            "motivation",
            ctx._("Why does your city want to join the network?"),
            FieldKind.LONG_TEXT,
            max_length=2000,
        ),
        Field("heard_from", ctx._("How did you hear about the network?"), required=False, max_length=500),
    )
    return Form(
        FORM,
        ctx._("Apply to join"),
        fields,
        ctx._("Check my application"),
        intro=ctx._("Membership is free and open to any city or other local or regional authority."),
        context=dict(context),
    )


def _cannot_apply(ctx: Context) -> Reply | None:
    if ctx.person.role == Role.FOCAL_POINT.value and ctx.person.city_id is not None:
        return Reply(ctx._(membership.ALREADY_FOCAL_POINT))
    return None


@router.command("apply", description=N_("Apply for your city to join the network"), needs=Permission.APPLY)
async def apply(ctx: Context) -> list[Reply]:
    refused = _cannot_apply(ctx)
    if refused is not None:
        return [refused]
    resumed = await form_flow.resume(ctx, FORM)
    if resumed is not None:
        return [Reply(ctx._("Welcome back! Let us continue your application where you left it.")), *resumed]
    pending = await membership.open_application(ctx.session, ctx.person)
    if pending is not None:
        return [await status_reply(ctx)]
    form = await apply_form(ctx, {})
    return [Reply(ctx._("Let us apply for your city. You can send /cancel at any time."), form=form)]


def _population(ctx: Context, raw: str) -> int:
    try:
        value = float(raw)
    except ValueError:
        raise FormErrors({"population": ctx._("Please write a number, such as 25000.")}) from None
    if not value.is_integer() or not 1 <= value <= MAX_POPULATION:
        raise FormErrors({"population": ctx._("Please write the number of inhabitants, such as 25000.")})
    return int(value)


def _country(ctx: Context, text: str) -> str:
    others = tuple(language for language in ctx.catalogs.languages if language != ctx.language)
    code = recognise(text, ctx.language, others)
    if code is not None:
        return code
    candidates = find_country(text, ctx.language, others)[:4]
    if candidates:
        names = ", ".join(country_name(c.code, ctx.language) for c in candidates)
        raise FormErrors({"country": ctx._("Which country do you mean: {names}?", names=names)})
    raise FormErrors(
        {"country": ctx._("I do not know that country. Please write its name, for example: Kenya.")}
    )


@router.form(FORM, build=apply_form, needs=Permission.APPLY)
async def apply_submitted(ctx: Context, submitted: Submitted) -> Reply:
    refused = _cannot_apply(ctx)
    if refused is not None:
        return refused
    errors: dict[str, str] = {}
    country = population = None
    try:
        country = _country(ctx, submitted.text("country"))
    except FormErrors as problem:
        errors |= problem.errors
    try:
        population = _population(ctx, submitted.text("population"))
    except FormErrors as problem:
        errors |= problem.errors
    editing = await _editable(ctx, submitted.context.get("application", ""))
    if editing is None and await membership.open_application(ctx.session, ctx.person) is not None:
        errors["authority"] = ctx._(membership.ALREADY_APPLIED)
    if errors:
        raise FormErrors(errors)
    assert country is not None
    data = membership.ApplicationData(
        authority=" ".join(submitted.text("authority").split()),
        country=country,
        level=submitted.text("level"),
        population=population,
        applicant_name=submitted.text("applicant_name"),
        applicant_role=submitted.text("applicant_role"),
        email=submitted.text("email"),
        motivation=submitted.text("motivation"),
        heard_from=submitted.text("heard_from"),
    )
    application = await membership.save_draft(
        ctx.session, ctx.person, data, ctx.language, ctx.clock.now(), editing
    )
    return summary_reply(ctx, application)


async def _editable(ctx: Context, raw_id: str) -> MembershipApplication | None:
    application = await row_by_id(ctx.session, MembershipApplication, raw_id)
    if application is None or application.person_id != ctx.person.id:
        return None
    editable = (ApplicationStatus.DRAFT.value, ApplicationStatus.INFO_REQUESTED.value)
    return application if application.status in editable else None


def describe(ctx: Context, application: MembershipApplication) -> list[str]:
    country = country_name(application.country, ctx.language)
    return [
        ctx._(
            "City or authority: {authority} ({level}), {country}",
            authority=application.authority,
            level=level_label(ctx, application.level),
            country=country,
        ),
        ctx._("Population: {population}", population=application.population or 0),
        ctx._("Applicant: {name}, {role}", name=application.applicant_name, role=application.applicant_role),
        ctx._("Email: {email}", email=application.email),
        ctx._("Why: {motivation}", motivation=application.motivation),
    ] + (
        [ctx._("Heard of us from: {source}", source=application.heard_from)] if application.heard_from else []
    )


def summary_reply(ctx: Context, application: MembershipApplication) -> Reply:
    lines = [ctx._("Please check your application before you send it:"), "", *describe(ctx, application)]
    return Reply(
        "\n".join(lines),
        buttons=(
            Button(ctx._("Send my application"), ApplyButton("send", application.id).pack()),
            Button(ctx._("Edit"), ApplyButton("edit", application.id).pack()),
            Button(ctx._("Cancel"), ApplyButton("cancel", application.id).pack()),
        ),
    )


async def _prefilled(ctx: Context, application: MembershipApplication) -> Form:
    form = await apply_form(ctx, {"application": str(application.id)})
    values = {
        "authority": application.authority,
        "country": country_name(application.country, ctx.language),
        "level": application.level,
        "population": str(application.population or ""),
        "applicant_name": application.applicant_name,
        "applicant_role": application.applicant_role,
        "email": application.email,
        "motivation": application.motivation,
        "heard_from": application.heard_from,
    }
    return form.with_values(values)


@router.button(ApplyButton, needs=Permission.APPLY, private_only=True)
async def apply_button(ctx: Context, pressed: ApplyButton) -> Reply:
    application = await ctx.session.get(MembershipApplication, pressed.application)
    if application is None or application.person_id != ctx.person.id:
        return Reply(ctx._("That application is no longer here. Send /status to see yours."))
    if pressed.action == "edit":
        if await _editable(ctx, str(application.id)) is None:
            return Reply(ctx._("That application can no longer be changed. Send /status to see it."))
        return Reply(
            ctx._("Change what you need, then check it again."), form=await _prefilled(ctx, application)
        )
    if pressed.action == "cancel":
        if application.status == ApplicationStatus.DRAFT.value:
            await ctx.session.delete(application)
        return Reply(ctx._("Your application was not sent."), edit=True)
    if pressed.action == "withdraw":
        done = await membership.withdraw(
            ctx.session, ctx.services.outbox, ctx.catalogs, ctx.person, application, ctx.clock.now()
        )
        text = (
            ctx._("Your application was withdrawn.")
            if done
            else ctx._("That application is not open any more.")
        )
        return Reply(text, edit=True)
    sent = await membership.submit(
        ctx.session,
        ctx.services.outbox,
        ctx.catalogs,
        ctx.person,
        application,
        ctx.clock.now(),
        ctx.services.staff_channels,
        card_buttons(ctx.catalogs),
    )
    if not sent:
        return Reply(ctx._("That application has already been sent. Send /status to see it."))
    ctx.audit("application_sent", application=application.id)
    return Reply(
        ctx._(
            "Thank you! Your application has been sent to the Management Unit; their answer will come to "
            "you here. Send /status to see it."
        ),
        edit=True,
    )


async def status_reply(ctx: Context) -> Reply:
    if ctx.person.role == Role.FOCAL_POINT.value and ctx.person.city_id is not None:
        city = await ctx.session.get(City, ctx.person.city_id)
        name = f"{city.name}, {country_name(city.country, ctx.language)}" if city else "?"
        return Reply(ctx._("You are the focal point of {city}, a member of the network.", city=name))
    applications = await membership.applications_of(ctx.session, ctx.person)
    if not applications:
        return Reply(ctx._("You have not applied yet. Send /apply to apply for your city."))
    lines: list[str] = []
    buttons: list[Button] = []
    for application in applications[:5]:
        since = ctx.t.date(application.submitted_at or application.created_at, "medium")
        lines.append(
            ctx._(
                "Application #{id} for {authority}, sent on {date}: {status}.",
                id=application.id,
                authority=application.authority,
                date=since,
                status=ctx._(STATUS_NAMES.get(application.status, application.status)),
            )
        )
        if application.staff_comment and application.status in (
            ApplicationStatus.INFO_REQUESTED.value,
            ApplicationStatus.DECLINED.value,
        ):
            lines.append(ctx._("The Management Unit wrote: {comment}", comment=application.staff_comment))
        if application.status == ApplicationStatus.INFO_REQUESTED.value:
            buttons.append(Button(ctx._("Edit and send again"), ApplyButton("edit", application.id).pack()))
        if application.status in OPEN_APPLICATION:
            buttons.append(Button(ctx._("Withdraw"), ApplyButton("withdraw", application.id).pack()))
    return Reply("\n".join(lines), buttons=tuple(buttons))


@router.command("status", description=N_("See your application"))
async def status(ctx: Context) -> Reply:
    return await status_reply(ctx)
