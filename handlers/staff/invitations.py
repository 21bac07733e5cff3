"""Staff invite a focal point: `/invite` (the form `invite`: a city, and optionally the expected name)
gives a single-use link valid for a week; `/invitations` lists the open ones, with Revoke."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import cities, membership
from bot.domain.people import Permission
from bot.forms import Choice, Field, FieldKind, Form, Submitted
from bot.i18n import N_
from bot.ids import row_by_id
from bot.messages import Button, Reply
from bot.routing import Router
from bot.storage.membership import Invitation
from bot.storage.people import City

router = Router("staff.invitations")


@dataclass(frozen=True)
class InvitationButton(CallbackData, prefix="invitation"):
    action: str  # revoke
    invitation: int


async def invite_form(ctx: Context, context: Mapping[str, str]) -> Form:
    members = await cities.member_cities(ctx.session)
    choices = tuple(Choice(cities.label(city, ctx.language), str(city.id), city.region) for city in members)
    return Form(
        "invite",
        ctx._("Invite a focal point"),
        (
            Field("city", ctx._("City"), FieldKind.CHOICE, choices=choices),
            Field(
                "expected_name",
                ctx._("Name of the person (optional)"),
                required=False,
                hint=ctx._("Only for your records: anyone with the link can use it, once."),
            ),
        ),
        ctx._("Make the invitation"),
        context=dict(context),
    )


@router.command("invite", description=N_("Invite a focal point of a member city"), needs=Permission.INVITE)
async def invite(ctx: Context) -> Reply:
    form = await invite_form(ctx, {})
    if not form.fields[0].choices:
        return Reply(ctx._("The registry has no member city yet. Add one with /city add first."))
    return Reply("", form=form)


@router.form("invite", build=invite_form, needs=Permission.INVITE)
async def invite_submitted(ctx: Context, submitted: Submitted) -> Reply:
    city = await row_by_id(ctx.session, City, submitted.text("city"))
    assert city is not None  # a choice of the form
    invitation, token = await membership.invite(
        ctx.session, ctx.person, city, ctx.clock.now(), submitted.text("expected_name")
    )
    ctx.audit("invitation_made", invitation=invitation.id, city=city.id)
    until = ctx.t.datetime(invitation.expires_at, "medium", tz=city.time_zone or "UTC")
    lines = [
        ctx._(
            "Invitation for {city}, valid once until {until}. Send it to the focal point:",
            city=cities.label(city, ctx.language),
            until=until,
        ),
    ]
    for platform, template in sorted(ctx.services.deep_links.items()):
        lines.append(f"{platform}: {template.format(token=token)}")
    lines.append(ctx._("In the console: /start {token}", token=token))
    return Reply(
        "\n".join(lines), buttons=(Button(ctx._("Revoke"), InvitationButton("revoke", invitation.id).pack()),)
    )


@router.command("invitations", description=N_("Open invitations"), needs=Permission.INVITE)
async def list_invitations(ctx: Context) -> Reply:
    found = await membership.open_invitations(ctx.session, ctx.clock.now())
    if not found:
        return Reply(ctx._("No invitation is open."))
    lines = [ctx._("Open invitations:")]
    buttons = []
    for invitation, city in found:
        until = ctx.t.date(invitation.expires_at, "medium")
        who = f" ({invitation.expected_name})" if invitation.expected_name else ""
        lines.append(f"#{invitation.id} {cities.label(city, ctx.language)}{who}: {until}")
        buttons.append(
            Button(ctx._("Revoke #{id}", id=invitation.id), InvitationButton("revoke", invitation.id).pack())
        )
    return Reply("\n".join(lines), buttons=tuple(buttons[:20]))


@router.button(InvitationButton, needs=Permission.INVITE)
async def invitation_button(ctx: Context, pressed: InvitationButton) -> Reply:
    invitation = await ctx.session.get(Invitation, pressed.invitation)
    if invitation is None:
        return Reply(ctx._("That invitation no longer exists."))
    if await membership.revoke(ctx.session, ctx.person, invitation, ctx.clock.now()):
        ctx.audit("invitation_revoked", invitation=invitation.id)
        return Reply(
            ctx._("Invitation #{id} was revoked: its link no longer works.", id=invitation.id), edit=True
        )
    return Reply(ctx._("Invitation #{id} was already used or revoked.", id=invitation.id))
