"""`/stats`: this week's numbers for staff."""

from __future__ import annotations

from bot.context import Context
from bot.domain import introductions, matching, stats
from bot.domain.people import Permission
from bot.i18n import N_
from bot.markup import plain_to_html
from bot.messages import Markup, Reply
from bot.routing import Router

router = Router("staff.stats")


@router.command("stats", description=N_("Numbers for this week"), needs=Permission.SEE_STATS)
async def show_stats(ctx: Context) -> Reply:
    numbers = await stats.gather(ctx.session, ctx.clock.now(), default_language=ctx.catalogs.default_language)

    def joined(counts: dict[str, int]) -> str:
        return ", ".join(f"{name} {count}" for name, count in counts.items()) or ctx._("none")

    now = ctx.clock.now()
    peers = await introductions.counts(ctx.session, now - stats.WEEK)
    opted_in = await matching.opted_in(ctx.session)
    events = str(numbers.upcoming_events) if numbers.events_known else ctx._("0 (no events yet)")
    focal = ctx._("Focal points")
    lines = [
        (ctx._("Strong Cities Network: this week"), ""),
        (focal, ctx._("by status: {counts}", counts=joined(numbers.focal_points_by_status))),
        (focal, ctx._("by language: {counts}", counts=joined(numbers.focal_points_by_language))),
        (ctx._("Questions"), ctx._(
            "the knowledge base could not answer: {unanswered}; handed off to staff: {handed}; "
            "answered by staff: {answered}", unanswered=numbers.questions_unanswered_by_kb,
            handed=numbers.questions_handed_off, answered=numbers.questions_answered_by_staff)),
        (ctx._("Deliveries"), ctx._("by status: {counts}", counts=joined(numbers.deliveries_by_status))),
        (ctx._("Upcoming events"), events),
        (ctx._("Introductions"), ctx._(
            "asked for: {requested}; accepted: {accepted}; waiting for an answer: {waiting}; made by "
            "matching rounds: {matched}", requested=peers.requested, accepted=peers.accepted,
            waiting=peers.waiting, matched=peers.matched)),
        (ctx._("Matching rounds"), ctx._("{count} focal points opted in", count=opted_in)),
    ]  # fmt: skip
    text = "\n".join(f"<b>{plain_to_html(head)}</b> {plain_to_html(rest)}".rstrip() for head, rest in lines)
    return Reply(text, markup=Markup.HTML)
