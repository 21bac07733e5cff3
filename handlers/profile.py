"""`/profile`: what other focal points see of you, and whether they may (form `profile`).

The city is never typed: it is the member city the registry says is yours. The consents (listed in
the directory, introduction requests, matching rounds) are separate and all "no" until you say yes.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.context import Context
from bot.domain import profiles
from bot.domain.people import Permission
from bot.forms import Choice, Field, FieldKind, Form, Submitted
from bot.i18n import N_, language_name
from bot.messages import Button, Reply
from bot.routing import Router
from handlers.buttons import ProfileButton

router = Router("profile")
FORM = "profile"
YES, NO = "yes", "no"


def _yes_no(ctx: Context) -> tuple[Choice, ...]:
    return (Choice(ctx._("Yes"), YES), Choice(ctx._("No"), NO))


async def profile_form(ctx: Context, context: Mapping[str, str]) -> Form:
    taxonomy = ctx.services.taxonomy
    spoken = profiles.spoken_languages(ctx.catalogs.languages)
    languages = tuple(Choice(language_name(code, ctx.language), code) for code in spoken)
    topics = tuple(Choice(taxonomy.label(topic, ctx.language), topic) for topic in taxonomy.ids)
    fields = (
        Field("display_name", ctx._("The name other focal points see"), max_length=profiles.MAX_NAME),
        Field(
            "role",
            ctx._("Your role"),
            required=False,
            max_length=profiles.MAX_JOB_TITLE,
            hint=ctx._("For example: deputy mayor, head of social cohesion"),
        ),
        Field("languages", ctx._("Languages you speak"), FieldKind.MULTI_CHOICE, choices=languages),
        Field(
            "topics",
            ctx._("Challenges you work on"),
            FieldKind.MULTI_CHOICE,
            required=False,
            choices=topics,
        ),
        Field(
            "listed",
            ctx._("List me in the directory of focal points"),
            FieldKind.CHOICE,
            choices=_yes_no(ctx),
            hint=ctx._("Other focal points see your name, city, role and challenges; never your contact."),
        ),
        Field(
            "introductions",
            ctx._("Other focal points may ask to be introduced to me"),
            FieldKind.CHOICE,
            choices=_yes_no(ctx),
            hint=ctx._("You accept or decline each request; a decline is never announced."),
        ),
        Field(
            "matching",
            ctx._("Introduce me to a peer every month (matching rounds)"),
            FieldKind.CHOICE,
            required=False,
            choices=_yes_no(ctx),
        ),
    )
    profile = await profiles.profile_of(ctx.session, ctx.person.id)
    values: dict[str, str | tuple[str, ...]] = {
        "display_name": ctx.person.display_name,
        "languages": tuple(profile.languages) if profile else (ctx.person.language or ctx.language,),
        "listed": YES if profile and profile.listed else NO,
        "introductions": YES if profile and profile.introductions else NO,
        "matching": YES if profile and profile.matching else NO,
    }
    if profile is not None:
        values["role"] = profile.job_title
        values["topics"] = tuple(topic for topic in profile.topics if topic in taxonomy.challenges)
    form = Form(
        FORM,
        ctx._("Your profile"),
        fields,
        ctx._("Save my profile"),
        intro=ctx._("Your city comes from the network's registry."),
        context=dict(context),
    )
    return form.with_values({key: value for key, value in values.items() if value})


async def _summary(ctx: Context) -> str:
    peer = await profiles.peer(ctx.session, ctx.person.id)
    profile = peer.profile
    answer = {True: ctx._("yes"), False: ctx._("no")}
    lines = [
        profiles.card(peer, ctx.t, ctx.services.taxonomy),
        "",
        ctx._("Listed in the directory: {answer}", answer=answer[bool(profile and profile.listed)]),
        ctx._("Introduction requests: {answer}", answer=answer[bool(profile and profile.introductions)]),
        ctx._("Matching rounds: {answer}", answer=answer[bool(profile and profile.matching)]),
    ]
    if peer.city is None:
        lines.append(ctx._("City: {city}", city=ctx._("not set")))
    return "\n".join(lines)


@router.command(
    "profile", description=N_("See and edit your profile"), private_only=True, needs=Permission.PROFILE
)
async def show_profile(ctx: Context) -> Reply:
    return Reply(
        ctx._("Your profile, as other focal points see it:") + "\n\n" + await _summary(ctx),
        buttons=(Button(ctx._("Edit my profile"), ProfileButton("start").pack()),),
    )


@router.button(ProfileButton, private_only=True, needs=Permission.PROFILE)
async def start_editing(ctx: Context, pressed: ProfileButton) -> Reply:
    return Reply("", form=await profile_form(ctx, {}))


@router.form(FORM, build=profile_form, needs=Permission.PROFILE)
async def profile_submitted(ctx: Context, submitted: Submitted) -> Reply:
    matching = submitted.text("matching")
    values = profiles.ProfileValues(
        display_name=submitted.text("display_name"),
        job_title=submitted.text("role"),
        languages=submitted.many("languages"),
        topics=submitted.many("topics"),
        listed=submitted.text("listed") == YES,
        introductions=submitted.text("introductions") == YES,
        matching=(matching == YES) if matching else None,
    )
    await profiles.save(ctx.session, ctx.person, values, ctx.clock.now())
    next_steps = ctx._("Find peers with /peers.") if values.listed or values.introductions else ""
    text = ctx._("Saved. Your profile:") + "\n\n" + await _summary(ctx)
    return Reply(f"{text}\n\n{next_steps}".strip())
