"""`/announce [text]`: the form (text, audience, versions per language), a preview with the count,
then Send. The text may come prefilled (Slack's "Announce to cities" shortcut on a message)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import announcements, audience
from bot.domain.people import Permission
from bot.domain.staff import report_destination
from bot.forms import Choice, Field, FieldKind, Form, FormErrors, Submitted
from bot.i18n import N_, language_name
from bot.markup import plain_to_html
from bot.messages import Button, Markup, Reply
from bot.routing import Router
from bot.signals import JOBS_ANNOUNCEMENTS
from bot.storage.announcements import Announcement, AnnouncementStatus

router = Router("staff.announce")
FORM = "announce"
VERSION_PREFIX = "text_"


@dataclass(frozen=True)
class AnnounceButton(CallbackData, prefix="announce"):
    action: str  # send | edit | cancel
    announcement: int


async def audience_choices(ctx: Context) -> tuple[Choice, ...]:
    """Who a broadcast can go to: everyone, or the regions, countries, languages and cities we have."""
    found = await audience.choices(ctx.session, default_language=ctx.catalogs.default_language)
    options = [Choice(ctx._(audience.ALL), "all", ctx._("Everyone"))]
    options += [Choice(region, f"region:{region}", ctx._("By region")) for region in found.regions]
    options += [Choice(country, f"country:{country}", ctx._("By country")) for country in found.countries]
    options += [
        Choice(f"{language_name(code, ctx.language)} ({code})", f"language:{code}", ctx._("By language"))
        for code in found.languages
    ]
    options += [Choice(name, f"city:{city_id}", ctx._("By city")) for city_id, name in found.cities]
    return tuple(options)


async def announce_form(ctx: Context, context: Mapping[str, str]) -> Form:
    default = ctx.catalogs.default_language
    options = await audience_choices(ctx)
    fields = [
        Field("text", ctx._("Announcement"), FieldKind.LONG_TEXT, rich=True,
              max_length=announcements.MAX_TEXT_LENGTH * 4,
              hint=ctx._("Each focal point gets the version in their language, else this text.")),
        Field("audience", ctx._("Audience"), FieldKind.CHOICE, choices=tuple(options)),
    ]  # fmt: skip
    fields += [
        Field(f"{VERSION_PREFIX}{code}", f"{language_name(code, ctx.language)} ({code})", FieldKind.LONG_TEXT,
              required=False, rich=True, max_length=announcements.MAX_TEXT_LENGTH * 4)
        for code in ctx.catalogs.languages if code != default
    ]  # fmt: skip
    return Form(FORM, ctx._("Announce to cities"), tuple(fields), ctx._("Preview"),
                intro=ctx._("Optional: the announcement in other languages."))  # fmt: skip


@router.command("announce", description=N_("Send an announcement to focal points"), needs=Permission.ANNOUNCE)
async def announce(ctx: Context) -> Reply:
    form = await announce_form(ctx, {})
    values = {"audience": "all"}
    if ctx.incoming.args:
        text = ctx.incoming.args
        values["text"] = text if ctx.incoming.markup is Markup.HTML else plain_to_html(text)
    return Reply(
        ctx._("Write the announcement, choose who receives it, then preview it."),
        form=form.with_values(values),
    )


@router.form(FORM, build=announce_form, needs=Permission.ANNOUNCE)
async def announce_submitted(ctx: Context, submitted: Submitted) -> Reply:
    errors = {}
    text = submitted.text("text")
    if (problem := announcements.text_problem(text, ctx.t)) is not None:
        errors["text"] = problem
    versions = {
        key.removeprefix(VERSION_PREFIX): value
        for key, value in submitted.values.items()
        if key.startswith(VERSION_PREFIX) and isinstance(value, str) and value.strip()
    }
    for code, body in versions.items():
        if (problem := announcements.text_problem(body, ctx.t)) is not None:
            errors[f"{VERSION_PREFIX}{code}"] = problem
    if errors:
        raise FormErrors(errors)
    draft = await announcements.save_draft(
        ctx.session, ctx.clock.now(), ctx.person, text_html=text,
        audience=announcements.parse_audience(submitted.text("audience")), versions=versions,
    )  # fmt: skip
    return await preview_reply(ctx, draft)


async def preview_reply(ctx: Context, draft: Announcement) -> Reply:
    counted = await announcements.preview(ctx.session, draft, ctx.t, ctx.catalogs.default_language)
    if counted.can_confirm:
        by_language = ", ".join(f"{code} {count}" for code, count in counted.by_language.items())
        head = [
            ctx._("This announcement will reach {count} people ({audience}).", count=counted.people,
                  audience=counted.audience_words),
            ctx._("By language: {languages}.", languages=by_language),
        ]  # fmt: skip
        buttons = [
            Button(ctx._("Send to {count}", count=counted.people), AnnounceButton("send", draft.id).pack())
        ]
    else:
        head = [ctx._("0 people: no focal point matches {audience}. Edit it to choose another audience.",
                      audience=counted.audience_words)]  # fmt: skip
        buttons = []
    buttons += [
        Button(ctx._("Edit"), AnnounceButton("edit", draft.id).pack()),
        Button(ctx._("Cancel"), AnnounceButton("cancel", draft.id).pack()),
    ]
    lines = [f"<b>{plain_to_html(line)}</b>" for line in head] + ["", draft.text]
    if draft.versions:
        lines += [
            "",
            plain_to_html(ctx._("Also written in: {languages}", languages=", ".join(sorted(draft.versions)))),
        ]
    return Reply("\n".join(lines), buttons=tuple(buttons), markup=Markup.HTML)


@router.button(AnnounceButton, needs=Permission.ANNOUNCE)
async def announce_button(ctx: Context, pressed: AnnounceButton) -> Reply:
    draft = await ctx.session.get(Announcement, pressed.announcement)
    if draft is None:
        return Reply(ctx._("That announcement no longer exists."))
    if draft.status != AnnouncementStatus.DRAFT.value:
        return Reply(ctx._("Announcement #{id} has already been sent.", id=draft.id), edit=True)
    if pressed.action == "cancel":
        await announcements.cancel_draft(ctx.session, ctx.person, draft.id)
        return Reply(ctx._("Announcement #{id} was not sent.", id=draft.id), edit=True)
    if pressed.action == "edit":
        form = await announce_form(ctx, {})
        values: dict[str, str] = {"text": draft.text, "audience": announcements.audience_of(draft).encode()}
        values |= {f"{VERSION_PREFIX}{code}": body for code, body in (draft.versions or {}).items()}
        await announcements.cancel_draft(ctx.session, ctx.person, draft.id)
        return Reply(ctx._("Change what you need, then preview it again."), form=form.with_values(values))
    counted = await announcements.preview(ctx.session, draft, ctx.t, ctx.catalogs.default_language)
    if not counted.can_confirm:
        return await preview_reply(ctx, draft)
    destination = report_destination(
        ctx.person, ctx.identity, ctx.services.staff_channels, ctx.catalogs.default_language
    )
    sent = await announcements.confirm(
        ctx.session, ctx.services.outbox, ctx.catalogs, ctx.person, draft.id, ctx.clock.now(), destination
    )
    if sent is None:
        return Reply(ctx._("Announcement #{id} has already been sent.", id=draft.id), edit=True)
    ctx.services.signals.notify_on_commit(ctx.session, JOBS_ANNOUNCEMENTS)
    return Reply(
        ctx._("Sending announcement #{id} to {count} people. The delivery report follows.", id=draft.id,
              count=counted.people),
        edit=True,
    )  # fmt: skip
