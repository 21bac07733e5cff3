"""`/start`: the welcome, and what the bot can do, as buttons."""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import cities, membership
from bot.domain.people import Permission
from bot.i18n import N_
from bot.messages import Button, Reply
from bot.routing import Router
from handlers.buttons import LanguageButton, ProfileButton

router = Router("start")


@dataclass(frozen=True)
class MenuButton(CallbackData, prefix="menu"):
    choice: str  # ask | help | main


def main_menu(ctx: Context) -> tuple[Button, ...]:
    """What this person can do first: focal points their profile, guests applying."""
    buttons = [Button(ctx._("Ask a question"), MenuButton("ask").pack())]
    if ctx.can(Permission.PROFILE):
        buttons.append(Button(ctx._("My profile"), ProfileButton("start").pack()))
    elif ctx.can(Permission.APPLY):
        buttons.append(Button(ctx._("Apply to join"), MenuButton("apply").pack()))
    buttons += [
        Button(ctx._("Language"), LanguageButton("menu").pack()),
        Button(ctx._("Help"), MenuButton("help").pack()),
    ]
    return tuple(buttons)


@router.command("start", description=N_("Welcome and main menu"))
async def start(ctx: Context) -> Reply:
    code = ctx.args_plain
    if code:
        return await _open_invitation(ctx, code)
    name = ctx.person.display_name or ctx.incoming.display_name
    greeting = ctx._("Welcome, {name}!", name=name) if name else ctx._("Welcome!")
    text = "\n\n".join(
        (
            greeting,
            ctx._(
                "I am the assistant of the Strong Cities Network, the global network of cities working "
                "to prevent hate, extremism and polarisation."
            ),
            ctx._(
                "Ask me anything about membership and resources, in your own language, or pick an "
                "option below."
            ),
        )
    )
    return Reply(text, buttons=main_menu(ctx))


async def _open_invitation(ctx: Context, code: str) -> Reply:
    """`/start <code>`: a deep link from an invitation makes the person a focal point of its city."""
    try:
        city = await membership.redeem(ctx.session, ctx.person, code, ctx.clock.now())
    except membership.InvitationProblem as problem:
        ctx.audit("invitation_refused", reason=problem.message[:40])
        return Reply(ctx._(problem.message), buttons=main_menu(ctx))
    ctx.audit("invitation_used", city=city.id)
    return Reply(
        ctx._(
            "Welcome to the Strong Cities Network! You are now a focal point of {city}. "
            "Send /help to see what you can do.",
            city=cities.label(city, ctx.language),
        ),
        buttons=main_menu(ctx),
    )


@router.button(MenuButton)
async def menu_button(ctx: Context, pressed: MenuButton) -> Reply | list[Reply]:
    if pressed.choice == "ask":
        return Reply(ctx._("Type your question in your own words, for example: how can my city join?"))
    if pressed.choice == "help":
        from handlers.help import help_text

        return Reply(help_text(ctx))
    if pressed.choice == "apply":
        from handlers.apply import apply

        return await apply(ctx)
    return Reply(ctx._("Here is the main menu."), buttons=main_menu(ctx))
