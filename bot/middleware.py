"""The dispatcher's middleware, in the order they run: identify, language, audit, flood limit.

Each is `async (ctx, call_next) -> list[Reply]`: it may enrich the context, answer by itself, or pass on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias

from bot.context import Context
from bot.flood import FloodVerdict
from bot.i18n import N_
from bot.identity import identify_with_state, vouched_role
from bot.messages import Reply
from bot.storage.audit import AuditEntry
from bot.storage.people import Role

Next: TypeAlias = Callable[[Context], Awaitable[list[Reply]]]
Middleware: TypeAlias = Callable[[Context, Next], Awaitable[list[Reply]]]

FLOOD_WARNING = N_("You are sending messages very quickly. Please wait a minute, then try again.")


async def identify_person(ctx: Context, call_next: Next) -> list[Reply]:
    found = await identify_with_state(ctx.session, ctx.incoming, ctx.clock)
    person, ctx._identity, created = found.person, found.identity, found.created
    ctx._person = person
    ctx.conversation.preload(found.conversation)
    if person.id is None:
        await ctx.session.flush()  # a new person gets an id now
    if created and person.role == Role.STAFF.value:
        ctx.audit("role_changed", old=None, new=person.role, by=f"{ctx.incoming.platform} staff list")
    ctx.person_id = person.id
    changed = vouched_role(person, ctx.incoming)
    if changed is not None:
        ctx.audit("role_changed", old=person.role, new=changed, by=f"{ctx.incoming.platform} staff list")
        person.role = changed
    return await call_next(ctx)


def primary_subtag(code: str | None) -> str | None:
    """`"pt-BR"` -> `"pt"`; empty -> None."""
    if not code:
        return None
    return code.replace("_", "-").split("-", 1)[0].lower() or None


async def resolve_language(ctx: Context, call_next: Next) -> list[Reply]:
    """Explicit choice > confident detection > stored language > platform hint > default.

    A person's first message stores the language it was answered in (not as an explicit choice).
    """
    person, catalogs = ctx.person, ctx.catalogs
    hint = primary_subtag(ctx.incoming.language_hint)
    detected = None
    detector = ctx.services.detector
    if detector is not None and ctx.incoming.text:
        prior = person.language or hint
        # Nothing known about the person: English is only a default, so the script of one word or a
        # greeting is evidence enough (bot.language.LanguageDetector.detect_first_contact).
        detection = (
            detector.detect_first_contact(ctx.incoming.text)
            if prior is None
            else detector.detect(ctx.incoming.text, prior=prior)
        )
        if detection.confident and detection.language:
            detected = detection.language
    stored = person.language if person.language in catalogs else None
    if person.language_explicit and stored:
        language = stored
    elif detected is not None and detected in catalogs:
        language = detected
    elif detected is not None:  # a language we do not speak: English, with a note
        language = catalogs.default_language
        ctx.unsupported_language = detected
    elif stored:
        language = stored
    elif hint in catalogs:
        language = hint  # type: ignore[assignment]
    else:
        language = catalogs.default_language
    if detected is not None and detected in catalogs and stored is not None and detected != stored:
        # Explicit choice kept: offer to switch; otherwise answered in it: offer to make it the default.
        ctx.language_offer = detected
    if person.language is None:
        person.language = language
    ctx.translator = catalogs.translator(language)
    return await call_next(ctx)


async def limit_flood(ctx: Context, call_next: Next) -> list[Reply]:
    flood = ctx.services.flood
    if flood is None:
        return await call_next(ctx)
    verdict = flood.check(ctx.person.id)
    if verdict is FloodVerdict.ALLOW:
        return await call_next(ctx)
    ctx.audit("flood_limited", verdict=verdict.value)
    return [Reply(ctx._(FLOOD_WARNING))] if verdict is FloodVerdict.WARN else []


async def write_audit(ctx: Context, call_next: Next) -> list[Reply]:
    """Persist what handlers flagged for audit (staff actions, refusals, consents) with the message."""
    replies = await call_next(ctx)
    for entry in audit_entries(ctx):
        ctx.session.add(entry)
    ctx.audit_events.clear()
    return replies


def audit_entries(ctx: Context, outcome: str | None = None) -> list[AuditEntry]:
    """The audit rows for what this message flagged (`outcome` overrides each entry's, e.g. "error")."""
    now = ctx.clock.now()
    return [
        AuditEntry(
            at=now,
            person_id=ctx.person_id,
            platform=ctx.incoming.platform,
            action=action,
            detail={**detail, "outcome": outcome} if outcome else detail,
        )
        for action, detail in ctx.audit_events
    ]


DEFAULT_MIDDLEWARE: tuple[Middleware, ...] = (identify_person, resolve_language, write_audit, limit_flood)
