"""From one `Incoming` to the replies: middleware chain, then routing.

Routing order: a pending form step (text and buttons), then a command, then a button payload, then free
text. Nothing a person sends can crash the process: an unexpected error rolls the message's work back,
is logged, and the person gets an apology in their language.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from bot.context import Context
from bot.i18n import N_
from bot.messages import Incoming, Reply
from bot.middleware import DEFAULT_MIDDLEWARE, Middleware, Next, primary_subtag
from bot.routing import as_replies
from bot.services import Services

log = logging.getLogger("bot.dispatch")

EMPTY_TEXT = N_("Your message was empty. Please write your question in words, or send /help.")
TOO_LONG = N_("That message is too long: I can read up to {limit} characters. Please send a shorter one.")
STAFF_ONLY = N_("Sorry, that command is for the network's staff only.")
BUTTON_EXPIRED = N_("That button has expired. Send /start to see the menu again.")
NOT_UNDERSTOOD = N_("Sorry, I did not understand that. Send /help to see what I can do.")
PRIVATE_ONLY = N_("Please write to me in a private chat for that: it shows personal information.")
UNSUPPORTED = N_("I can only read text messages and button presses. Please write your question in words.")
INTERNAL_ERROR = N_("Sorry, something went wrong on my side. Please try again in a moment.")


class Dispatcher:
    def __init__(self, services: Services, middleware: Sequence[Middleware] = DEFAULT_MIDDLEWARE) -> None:
        self.services = services
        chain: Next = route
        for layer in reversed(middleware):
            chain = _link(layer, chain)
        self._chain = chain

    async def dispatch(self, incoming: Incoming) -> list[Reply]:
        """Handle one message inside one database transaction; always returns (never raises)."""
        started = time.perf_counter()
        ctx: Context | None = None
        outcome = "ok"
        replies: list[Reply]
        try:
            async with self.services.database.session() as session:
                ctx = Context(incoming, session, self.services)
                replies = await self._chain(ctx)
        except Exception:
            outcome = "error"
            log.exception("handler failed platform=%s kind=%s", incoming.platform, incoming.kind)
            translator = (
                ctx.translator
                if ctx and ctx.translator
                else self.services.catalogs.translator(primary_subtag(incoming.language_hint))
            )
            replies = [Reply(translator.gettext(INTERNAL_ERROR))]
        duration_ms = (time.perf_counter() - started) * 1000
        log.info(
            "handled platform=%s kind=%s command=%s person=%s lang=%s replies=%d outcome=%s duration_ms=%.2f",
            incoming.platform,
            incoming.kind,
            incoming.command or "-",
            ctx.person_id if ctx and ctx.person_id is not None else "-",
            ctx.translator.language if ctx and ctx.translator else "-",
            len(replies),
            outcome,
            duration_ms,
        )
        return replies


def _link(layer: Middleware, call_next: Next) -> Next:
    async def run(ctx: Context) -> list[Reply]:
        return await layer(ctx, call_next)

    return run


async def route(ctx: Context) -> list[Reply]:
    incoming, routes = ctx.incoming, ctx.services.routes
    if incoming.unsupported is not None:
        return [Reply(ctx._(UNSUPPORTED))]
    if incoming.text is not None:
        problem = _text_problem(ctx, incoming.text)
        if problem is not None:
            return [problem]
    if incoming.command is None and incoming.is_private:
        state = await ctx.conversation.load()
        step = routes.steps.get(state.flow) if state is not None else None
        if step is not None:
            result = await step(ctx)
            if result is not None:
                return as_replies(result)
    if incoming.command is not None:
        command = routes.commands.get(incoming.command)
        if command is None:
            handler = routes.unknown_command_handler
            return as_replies(await handler(ctx)) if handler else [Reply(ctx._(NOT_UNDERSTOOD))]
        if command.staff_only and not ctx.is_staff:
            ctx.audit("refused", command=command.name)
            return [Reply(ctx._(STAFF_ONLY))]
        if command.private_only and not incoming.is_private:
            return [Reply(ctx._(PRIVATE_ONLY))]
        if command.audited:
            ctx.audit(f"command:{command.name}", staff=ctx.is_staff)
        return as_replies(await command.handler(ctx))
    if incoming.button is not None:
        prefix = incoming.button.partition(":")[0]
        handler = routes.buttons.get(prefix)
        if handler is None:
            return [Reply(ctx._(BUTTON_EXPIRED), notice=ctx._(BUTTON_EXPIRED))]
        if prefix in routes.private_buttons and not incoming.is_private:
            return [Reply(ctx._(PRIVATE_ONLY), notice=ctx._(PRIVATE_ONLY))]
        return as_replies(await handler(ctx))
    if routes.text_handler is not None:
        return as_replies(await routes.text_handler(ctx))
    return [Reply(ctx._(NOT_UNDERSTOOD))]


def _text_problem(ctx: Context, text: str) -> Reply | None:
    if not text.strip() or not any(ch.isprintable() and not ch.isspace() for ch in text):
        return Reply(ctx._(EMPTY_TEXT))
    limit = ctx.services.settings.bot_max_text_length
    if len(text) > limit:
        return Reply(ctx._(TOO_LONG, limit=limit))
    return None
