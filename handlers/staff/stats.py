"""`/stats`: this week's numbers for staff."""

from __future__ import annotations

from bot.context import Context
from bot.domain import stats
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
    ]  # fmt: skip
    text = "\n".join(f"<b>{plain_to_html(head)}</b> {plain_to_html(rest)}".rstrip() for head, rest in lines)
    return Reply(text, markup=Markup.HTML)
