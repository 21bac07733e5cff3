"""`/help`: the commands this person's role allows, described in their language."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import N_
from bot.messages import Reply
from bot.routing import Router

router = Router("help")


def help_text(ctx: Context) -> str:
    lines = [ctx._("Here is what I can do:")]
    for command in ctx.services.routes.menu(ctx.can):
        assert command.description is not None
        lines.append(f"/{command.name} - {ctx._(command.description)}")
    lines.append("")
    if ctx.is_staff:
        lines.append(ctx._("On Slack, type the same commands after /scn, for example /scn announce."))
    lines.append(ctx._("You can also simply write your question."))
    if ctx.incoming.platform == "console":
        lines.append(
            ctx._(
                "In this terminal: a number presses a button of the last reply; /quit, Ctrl-D or Ctrl-C "
                "leaves."
            )
        )
    return "\n".join(lines)


@router.command("help", description=N_("What I can do"))
async def show_help(ctx: Context) -> Reply:
    return Reply(help_text(ctx))
