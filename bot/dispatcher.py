"""From one `Incoming` to the replies: middleware chain, then routing.

Routing order: a form submission; a reply to one of the bot's messages (when a handler claims it);
a pending form step (text and buttons); a command; a button payload; free text. Before a command,
button or form runs, the access policy is asked whether the person's role may use it; staff powers
are audited whether done or refused. Nothing a person sends can crash the process: an unexpected
error rolls the message's work back, is logged, and the person gets an apology in their language; a
refusal raised deeper down (by a domain service) rolls the work back too and is audited.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot import form_flow
from bot.access import Refused
from bot.callbacks import prefix_of
from bot.context import Context
from bot.forms import keepable, storable
from bot.i18n import N_, Translator
from bot.messages import Incoming, Reply
from bot.middleware import DEFAULT_MIDDLEWARE, Middleware, Next, audit_entries, primary_subtag
from bot.routing import as_replies
from bot.services import Services
from bot.storage.database import is_outage
from bot.storage.inbound import SeenEvent
from bot.storage.people import Person

log = logging.getLogger("bot.dispatch")

EMPTY_TEXT = N_("Your message was empty. Please write your question in words, or send /help.")
UNREADABLE = N_("Your message holds characters I cannot read or keep. Please type it again.")
TOO_LONG = N_("That message is too long: I can read up to {limit} characters. Please send a shorter one.")
BUTTON_EXPIRED = N_("That button has expired. Send /start to see the menu again.")
NOT_UNDERSTOOD = N_("Sorry, I did not understand that. Send /help to see what I can do.")
PRIVATE_ONLY = N_("Please write to me in a private chat for that: it shows personal information.")
UNSUPPORTED = N_("I can only read text messages and button presses. Please write your question in words.")
INTERNAL_ERROR = N_("Sorry, something went wrong on my side. Please try again in a moment.")
RECORDS_DOWN = N_("I can't reach my records right now. Please try again in a minute.")
NOT_ALLOWED = N_("Sorry, you cannot do that.")


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
        incoming = _keepable(incoming)
        ctx: Context | None = None
        outcome = "ok"
        replies: list[Reply]
        try:
            async with self.services.database.session() as session:
                if incoming.event_id is not None and not await first_time(session, incoming, self.services):
                    outcome = "duplicate"
                    replies = []
                else:
                    ctx = Context(incoming, session, self.services)
                    replies = await self._chain(ctx)
        except Refused as refused:
            outcome = "refused"
            replies = [Reply(self._translator(ctx, incoming).gettext(refused.message or NOT_ALLOWED))]
            if ctx is not None:
                ctx.audit(action_name(incoming), permission=refused.permission, outcome="refused")
            await self._audit_after_rollback(ctx, "refused")
        except Exception as error:
            if is_outage(error):  # the database is down: say so, and do not try it again for the audit
                outcome = "database_down"
                log.warning("database unreachable platform=%s kind=%s: %s", incoming.platform, incoming.kind,
                            type(error).__name__)  # fmt: skip
                replies = [Reply(self._translator(ctx, incoming).gettext(RECORDS_DOWN))]
            else:
                outcome = "error"
                log.exception("handler failed platform=%s kind=%s", incoming.platform, incoming.kind)
                replies = [Reply(self._translator(ctx, incoming).gettext(INTERNAL_ERROR))]
                await self._audit_after_rollback(ctx, "error")
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

    def _translator(self, ctx: Context | None, incoming: Incoming) -> Translator:
        if ctx is not None and ctx.translator is not None:
            return ctx.translator
        return self.services.catalogs.translator(primary_subtag(incoming.language_hint))

    async def _audit_after_rollback(self, ctx: Context | None, outcome: str) -> None:
        """Keep the audit entries of staff actions and refusals whose work was rolled back."""
        if ctx is None or not ctx.audit_events:
            return
        try:
            async with self.services.database.session() as session:
                if ctx.person_id is not None and await session.get(Person, ctx.person_id) is None:
                    ctx.person_id = None  # created by the rolled-back work
                session.add_all(audit_entries(ctx, outcome))
        except Exception:
            log.exception("audit entries of a failed message could not be written")


async def first_time(session: AsyncSession, incoming: Incoming, services: Services) -> bool:
    """Record the event's platform id with the work it causes; False when it was handled before (a
    replay: nothing is answered twice). Rolled back with a failed message, so a retry is served."""
    values = {
        "platform": incoming.platform,
        "event_id": str(incoming.event_id)[:100],
        "seen_at": services.clock.now(),
    }
    statement = _SEEN_INSERT["sqlite" if services.database.is_sqlite else "postgresql"]
    connection = await session.connection()  # Core: one statement, built and compiled once
    result = await connection.execute(statement, values)
    return bool(result.rowcount)


_SEEN_INSERT = {
    "sqlite": sqlite.insert(SeenEvent).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(SeenEvent).on_conflict_do_nothing(),
}


def action_name(incoming: Incoming) -> str:
    """How the audit log names what a message asked for: `command:announce`, `button:announce`, ..."""
    if incoming.command is not None:
        return f"command:{incoming.command}"
    if incoming.button is not None:
        return f"button:{prefix_of(incoming.button)}"
    if incoming.form is not None:
        return f"form:{incoming.form.form_id}"
    return "reply" if incoming.reply_to is not None else incoming.kind


def _link(layer: Middleware, call_next: Next) -> Next:
    async def run(ctx: Context) -> list[Reply]:
        return await layer(ctx, call_next)

    return run


def authorize(ctx: Context, needs: str | None, action: str) -> Reply | None:
    """None when the person may do `action`; else the refusal to send. Staff powers and refusals are
    audited (the entry is written with the message's work)."""
    if needs is None:
        return None
    policy = ctx.services.access
    allowed = policy.allows(ctx.person.role, needs)
    if policy.audited(needs) or not allowed:
        ctx.audit(action, permission=needs, outcome="done" if allowed else "refused")
    if allowed:
        return None
    return Reply(
        ctx._(policy.refusal(needs) or NOT_ALLOWED), notice=ctx._(policy.refusal(needs) or NOT_ALLOWED)
    )


async def route(ctx: Context) -> list[Reply]:
    return await form_flow.present(ctx, await _route(ctx))


async def _route(ctx: Context) -> list[Reply]:
    incoming, routes = ctx.incoming, ctx.services.routes
    if incoming.unsupported is not None:
        return [Reply(ctx._(UNSUPPORTED))]
    if incoming.text is not None:
        problem = _text_problem(ctx, incoming.text)
        if problem is not None:
            return [problem] if incoming.addressed else []
    if not storable(incoming.args) or (incoming.button is not None and not storable(incoming.button)):
        return [Reply(ctx._(UNREADABLE), notice=ctx._(UNREADABLE))]
    if incoming.form is not None:
        form_route = routes.forms.get(incoming.form.form_id)
        refusal = authorize(ctx, form_route.needs if form_route else None, f"form:{incoming.form.form_id}")
        return [refusal] if refusal else await form_flow.handle_submission(ctx)
    if incoming.reply_to is not None and incoming.text is not None:
        for reply_handler in routes.replies:
            result = await reply_handler(ctx)
            if result is not None:
                return as_replies(result)
    if not incoming.addressed:
        return []
    if incoming.is_private:
        state = await ctx.conversation.load()
        step = routes.steps.get(state.flow) if state is not None else None
        if step is not None and (incoming.command is None or step.every_message):
            result = await step.handler(ctx)
            if result is not None:
                return as_replies(result)
    if incoming.command is not None:
        command = routes.commands.get(incoming.command)
        if command is None:
            handler = routes.unknown_command_handler
            return as_replies(await handler(ctx)) if handler else [Reply(ctx._(NOT_UNDERSTOOD))]
        if command.private_only and not incoming.is_private:
            return [Reply(ctx._(PRIVATE_ONLY))]
        refusal = authorize(ctx, command.needs, f"command:{command.name}")
        if refusal is not None:
            return [refusal]
        if command.audited and not ctx.services.access.audited(command.needs or ""):
            ctx.audit(f"command:{command.name}", outcome="done")
        return as_replies(await command.handler(ctx))
    if incoming.button is not None:
        button = routes.buttons.get(prefix_of(incoming.button))
        expired = Reply(ctx._(BUTTON_EXPIRED), notice=ctx._(BUTTON_EXPIRED))
        if button is None:
            return [expired]
        try:
            data = button.data.unpack(incoming.button)
        except ValueError:
            log.info("button payload did not unpack prefix=%s", button.prefix)
            return [expired]
        if button.private_only and not incoming.is_private:
            return [Reply(ctx._(PRIVATE_ONLY), notice=ctx._(PRIVATE_ONLY))]
        refusal = authorize(ctx, button.needs, f"button:{button.prefix}")
        if refusal is not None:
            return [refusal]
        return as_replies(await button.handler(ctx, data))
    if routes.text_handler is not None:
        return as_replies(await routes.text_handler(ctx))
    return [Reply(ctx._(NOT_UNDERSTOOD))]


def _keepable(incoming: Incoming) -> Incoming:
    """The sender's name and handle as the database can keep them (a NUL or a lone surrogate, which a
    platform may send, becomes U+FFFD); the message itself is checked by `route`."""
    name, handle = incoming.display_name, incoming.username
    if storable(name) and (handle is None or storable(handle)):
        return incoming
    return dataclasses.replace(
        incoming, display_name=keepable(name), username=keepable(handle) if handle is not None else None
    )


def _text_problem(ctx: Context, text: str) -> Reply | None:
    if not text.strip() or not any(ch.isprintable() and not ch.isspace() for ch in text):
        return Reply(ctx._(EMPTY_TEXT))
    if not storable(text):
        return Reply(ctx._(UNREADABLE))
    limit = ctx.services.settings.bot_max_text_length
    if len(text) > limit:
        return Reply(ctx._(TOO_LONG, limit=limit))
    return None
