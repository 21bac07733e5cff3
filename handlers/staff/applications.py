"""Staff review applications: `/applications`, and on each card Approve, Request information, Decline.

Requesting information and declining ask for a comment (the form `review`), which the applicant reads.
Approving creates (or reactivates) the city and makes the applicant its focal point; where the country
has several time zones, staff choose the city's zone first (the form `approve`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import cities, membership
from bot.domain.people import Permission
from bot.forms import Choice, Field, FieldKind, Form, Submitted
from bot.i18n import N_, Catalogs
from bot.ids import row_by_id
from bot.messages import Button, Markup, Reply
from bot.routing import Router
from bot.storage.membership import OPEN_APPLICATION, ApplicationStatus, MembershipApplication

router = Router("staff.applications")


@dataclass(frozen=True)
class ReviewButton(CallbackData, prefix="review"):
    action: str  # show | approve | info | decline
    application: int


def card_buttons(catalogs: Catalogs) -> membership.CardButtons:
    """The review buttons of a card, labelled in the card's language."""

    def buttons(application: MembershipApplication, language: str) -> tuple[Button, ...]:
        t = catalogs.translator(language)
        return (
            Button(t.gettext(membership.APPROVE), ReviewButton("approve", application.id).pack()),
            Button(t.gettext(membership.REQUEST_INFO), ReviewButton("info", application.id).pack()),
            Button(t.gettext(membership.DECLINE), ReviewButton("decline", application.id).pack()),
        )

    return buttons


@router.command(
    "applications", description=N_("Applications to review"), needs=Permission.REVIEW_APPLICATIONS
)
async def list_applications(ctx: Context) -> Reply:
    waiting = await membership.pending(ctx.session)
    if not waiting:
        return Reply(ctx._("No application is waiting for review."))
    lines = [ctx._("Applications waiting for review, oldest first:")]
    buttons = []
    for application in waiting:
        lines.append(
            f"#{application.id} {application.authority} ({application.country}), {application.applicant_name}"
        )
        buttons.append(
            Button(ctx._("Review #{id}", id=application.id), ReviewButton("show", application.id).pack())
        )
    return Reply("\n".join(lines), buttons=tuple(buttons[:20]))


async def _card(ctx: Context, application: MembershipApplication) -> Reply:
    text = await membership.card_text(ctx.session, application, ctx.language, ctx.catalogs)
    buttons = (
        card_buttons(ctx.catalogs)(application, ctx.language)
        if application.status in OPEN_APPLICATION
        else ()
    )
    return Reply(text, buttons=buttons, markup=Markup.HTML)


async def review_form(ctx: Context, context: Mapping[str, str]) -> Form:
    decision = context.get("decision", "info")
    label = ctx._("What more do you need to know?") if decision == "info" else ctx._("Why is it declined?")
    return Form(
        "review",
        ctx._("Request information") if decision == "info" else ctx._("Decline"),
        (
            Field(
                "comment",
                label,
                FieldKind.LONG_TEXT,
                max_length=2000,
                hint=ctx._("The applicant reads this, in the bot, in your words."),
            ),
        ),
        ctx._("Send"),
        context=dict(context),
    )


async def approve_form(ctx: Context, context: Mapping[str, str]) -> Form:
    application = await _application(ctx, context.get("application", ""))
    region = ctx.services.regions.of(application.country) if application is not None else ""
    zones = cities.zones_for(application.country, region) if application is not None else []
    return Form(
        "approve",
        ctx._("Approve"),
        (
            Field(
                "time_zone",
                ctx._("The city's time zone"),
                FieldKind.CHOICE,
                choices=tuple(Choice(zone.replace("_", " "), zone) for zone in zones),
            ),
        ),
        ctx._("Approve"),
        intro=ctx._("This country has several time zones: choose the city's."),
        context=dict(context),
    )


async def _application(ctx: Context, raw_id: str) -> MembershipApplication | None:
    return await row_by_id(ctx.session, MembershipApplication, raw_id)


async def _approve(ctx: Context, application: MembershipApplication, time_zone: str = "") -> Reply:
    city = await membership.approve(
        ctx.session,
        ctx.services.outbox,
        ctx.catalogs,
        ctx.person,
        application,
        ctx.services.regions,
        ctx.clock.now(),
        time_zone,
    )
    return Reply(
        ctx._(
            "Approved: {city} is a member, and {name} is its focal point.",
            city=cities.label(city, ctx.language),
            name=application.applicant_name,
        ),
    )


@router.button(ReviewButton, needs=Permission.REVIEW_APPLICATIONS)
async def review_button(ctx: Context, pressed: ReviewButton) -> Reply:
    application = await ctx.session.get(MembershipApplication, pressed.application)
    if application is None:
        return Reply(ctx._("That application no longer exists."))
    if pressed.action == "show":
        return await _card(ctx, application)
    if application.status not in OPEN_APPLICATION:
        return Reply(ctx._(membership.ALREADY_DECIDED))
    if pressed.action == "approve":
        if (
            cities.suggested_zone(application.country) is None
            and await cities.find(ctx.session, application.authority, application.country) is None
        ):
            form = await approve_form(ctx, {"application": str(application.id)})
            return Reply("", form=form)
        return await _approve(ctx, application)
    form = await review_form(ctx, {"application": str(application.id), "decision": pressed.action})
    return Reply("", form=form)


@router.form("approve", build=approve_form, needs=Permission.REVIEW_APPLICATIONS)
async def approve_submitted(ctx: Context, submitted: Submitted) -> Reply:
    application = await _application(ctx, submitted.context.get("application", ""))
    if application is None:
        return Reply(ctx._("That application no longer exists."))
    return await _approve(ctx, application, submitted.text("time_zone"))


@router.form("review", build=review_form, needs=Permission.REVIEW_APPLICATIONS)
async def review_submitted(ctx: Context, submitted: Submitted) -> Reply:
    application = await _application(ctx, submitted.context.get("application", ""))
    if application is None:
        return Reply(ctx._("That application no longer exists."))
    decision = (
        ApplicationStatus.DECLINED
        if submitted.context.get("decision") == "decline"
        else (ApplicationStatus.INFO_REQUESTED)
    )
    await membership.decide(
        ctx.session,
        ctx.services.outbox,
        ctx.catalogs,
        ctx.person,
        application,
        decision,
        submitted.text("comment"),
        ctx.clock.now(),
    )
    if decision is ApplicationStatus.DECLINED:
        return Reply(ctx._("Application #{id} was declined; the applicant has been told.", id=application.id))
    return Reply(ctx._("The applicant of #{id} has been asked for more information.", id=application.id))
