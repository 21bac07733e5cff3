"""`/language`: pick the language the bot speaks with you; the choice is stored and wins from then on."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import N_, language_name
from bot.messages import Button, Reply
from bot.routing import Router
from bot.textnorm import fold
from handlers.buttons import LanguageButton

router = Router("language")


def language_buttons(ctx: Context) -> tuple[Button, ...]:
    return tuple(
        Button(language_name(code), LanguageButton("set", code).pack()) for code in ctx.catalogs.offered
    )


@router.command("language", description=N_("Choose your language: /language, or /language fr"))
async def choose_language(ctx: Context) -> Reply:
    wanted = ctx.args_plain
    if wanted:
        code = find_language(wanted, ctx.catalogs.offered, ctx.language)
        if code is None:
            return Reply(
                ctx._("I do not speak “{language}”. Choose one of these:", language=wanted[:40]),
                buttons=language_buttons(ctx),
            )
        return _set(ctx, code, edit=False)
    current = language_name(ctx.language, capitalize=False)
    count = len(ctx.catalogs.offered)
    spoken = ctx.ngettext(
        "I can speak with you in {count} language.", "I can speak with you in {count} languages.", count
    )
    text = ctx._("Your language is {language}. Choose another:", language=current)
    return Reply(f"{spoken}\n{text}", buttons=language_buttons(ctx))


@router.button(LanguageButton)
async def language_button(ctx: Context, pressed: LanguageButton) -> Reply:
    if pressed.action != "set":
        return await choose_language(ctx)
    code = pressed.code
    if code not in ctx.catalogs.offered:
        return Reply(ctx._("Sorry, I do not speak that language yet."), buttons=language_buttons(ctx))
    return _set(ctx, code, edit=True)


def find_language(text: str, codes: tuple[str, ...], reader: str) -> str | None:
    """The language `text` names: its code ("fr"), or its name in its own language, the reader's or
    English ("français", "French", "francés"); case and accents ignored."""
    wanted = fold(text.strip())
    for code in codes:
        names = {code, language_name(code), language_name(code, reader), language_name(code, "en")}
        if wanted in {fold(name) for name in names}:
            return code
    return None


def _set(ctx: Context, code: str, *, edit: bool) -> Reply:
    ctx.person.language = code
    ctx.person.language_explicit = True
    ctx.translator = ctx.catalogs.translator(code)
    ctx.audit("language_set", language=code)
    text = ctx._(
        "From now on I will write to you in {language}.", language=language_name(code, capitalize=False)
    )
    return Reply(text, edit=edit, notice=text if edit else None)
