"""Unknown commands get a hint; free text is answered elsewhere (the knowledge handler) when present."""

from __future__ import annotations

from bot.context import Context
from bot.messages import Reply
from bot.routing import Router

router = Router("fallback")


@router.unknown_command
async def unknown_command(ctx: Context) -> Reply:
    command = f"/{ctx.incoming.command or ''}"
    return Reply(
        ctx._("I do not know the command {command}. Send /help to see what I can do.", command=command)
    )
