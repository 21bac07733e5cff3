"""`/matching`: a focal point joins, skips or leaves matching rounds; staff see the next round and
run one at once with `/matching run` (counts only, never who was paired)."""

from __future__ import annotations

from bot.context import Context
from bot.dispatcher import authorize
from bot.domain import matching, profiles
from bot.domain.matching import MatchButton
from bot.domain.people import Permission
from bot.i18n import N_
from bot.messages import Button, Reply
from bot.routing import Router
from bot.signals import JOBS_MATCHING
from bot.storage.peers import RoundStatus

router = Router("matching")


def schedule(ctx: Context) -> matching.Schedule:
    return matching.Schedule.from_settings(ctx.services.settings)


async def _staff_status(ctx: Context) -> Reply:
    plan = await matching.plan(ctx.session, schedule(ctx), ctx.clock.now())
    last = await matching.last_round(ctx.session)
    lines = [
        ctx._("Matching rounds: {count} focal points opted in.", count=await matching.opted_in(ctx.session))
    ]
    if plan is None:
        lines.append(ctx._("Rounds are off (MATCHING_ENABLED)."))
    else:
        lines.append(ctx._("Next round: {when}", when=ctx.t.datetime(plan.run_at, tz="UTC") + " UTC"))
    if last is not None and last.status == RoundStatus.DONE.value:
        lines.append(matching.report(last, ctx.t))
    lines.append(ctx._("Send /matching run to run a round now."))
    return Reply("\n".join(lines))


async def _my_status(ctx: Context) -> Reply:
    profile = await profiles.profile_of(ctx.session, ctx.person.id)
    plan = await matching.plan(ctx.session, schedule(ctx), ctx.clock.now())
    buttons: list[Button] = []
    if profile is None or not profile.matching:
        text = ctx._(
            "Matching rounds introduce you, once a month, to a focal point of another city who speaks a "
            "language you speak and, where possible, works on the same challenges. You are not taking part."
        )
        buttons.append(Button(ctx._(matching.JOIN), MatchButton("join").pack()))
        return Reply(text, buttons=tuple(buttons))
    lines = [ctx._("You take part in matching rounds.")]
    if plan is not None:
        lines.append(ctx._("Next round: {date}", date=ctx.t.date(plan.run_at)))
        if plan.round_id is not None:
            if await matching.skips(ctx.session, ctx.person, plan.round_id):
                lines.append(ctx._("You skip this one."))
                buttons.append(Button(ctx._(matching.UNSKIP), MatchButton("unskip", plan.round_id).pack()))
            else:
                buttons.append(Button(ctx._(matching.SKIP), MatchButton("skip", plan.round_id).pack()))
    buttons.append(Button(ctx._(matching.LEAVE), MatchButton("leave").pack()))
    return Reply("\n".join(lines), buttons=tuple(buttons))


@router.command("matching", description=N_("Matching rounds: join, skip or leave"))
async def matching_command(ctx: Context) -> Reply:
    if ctx.args_plain.lower() == "run":
        refusal = authorize(ctx, Permission.RUN_MATCHING, "command:matching run")
        if refusal is not None:
            return refusal
        round_ = await matching.run(
            ctx.session,
            ctx.services.outbox,
            ctx.catalogs,
            ctx.services.taxonomy,
            schedule(ctx),
            ctx.clock.now(),
            started_by=ctx.person,
        )
        if round_ is None:
            return Reply(ctx._("A round is running already."))
        ctx.services.signals.notify_on_commit(ctx.session, JOBS_MATCHING)
        return Reply(matching.report(round_, ctx.t))
    if ctx.can(Permission.RUN_MATCHING):
        authorize(ctx, Permission.RUN_MATCHING, "command:matching")
        return await _staff_status(ctx)
    refusal = authorize(ctx, Permission.INTRODUCE, "command:matching")
    if refusal is not None:
        return refusal
    return await _my_status(ctx)


@router.button(MatchButton, private_only=True, needs=Permission.INTRODUCE)
async def matching_button(ctx: Context, pressed: MatchButton) -> Reply:
    now = ctx.clock.now()
    if pressed.action == "join":
        await profiles.set_matching(ctx.session, ctx.person, True, now)
        reply = await _my_status(ctx)
        return Reply(ctx._("You are in.") + "\n" + reply.text, buttons=reply.buttons, edit=True)
    if pressed.action == "leave":
        await profiles.set_matching(ctx.session, ctx.person, False, now)
        return Reply(ctx._("You left matching rounds. Send /matching to join again."), edit=True)
    if pressed.action in ("skip", "unskip"):
        round_ = await matching.skip(ctx.session, ctx.person, pressed.round, pressed.action == "skip")
        if round_ is None:
            return Reply(ctx._("That round has already run."))
        if pressed.action == "skip":
            return Reply(
                ctx._(
                    "You skip the round of {date}. You stay in the next ones.",
                    date=ctx.t.date(round_.scheduled_at),
                ),
                buttons=(Button(ctx._(matching.UNSKIP), MatchButton("unskip", round_.id).pack()),),
                edit=True,
            )
        return Reply(
            ctx._("You are in the round of {date}.", date=ctx.t.date(round_.scheduled_at)), edit=True
        )
    return Reply(ctx._("That button has expired."))
