"""`/start`: the welcome, and what the bot can do, as buttons."""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.i18n import N_
from bot.messages import Button, Reply
from bot.routing import Router
from handlers.buttons import LanguageButton, ProfileButton

router = Router("start")


@dataclass(frozen=True)
class MenuButton(CallbackData, prefix="menu"):
    choice: str  # ask | help | main


def main_menu(ctx: Context) -> tuple[Button, ...]:
    return (
        Button(ctx._("Ask a question"), MenuButton("ask").pack()),
        Button(ctx._("My profile"), ProfileButton("start").pack()),
        Button(ctx._("Language"), LanguageButton("menu").pack()),
        Button(ctx._("Help"), MenuButton("help").pack()),
    )


@router.command("start", description=N_("Welcome and main menu"))
async def start(ctx: Context) -> Reply:
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


@router.button(MenuButton)
async def menu_button(ctx: Context, pressed: MenuButton) -> Reply:
    if pressed.choice == "ask":
        return Reply(ctx._("Type your question in your own words, for example: how can my city join?"))
    if pressed.choice == "help":
        from handlers.help import help_text

        return Reply(help_text(ctx))
    return Reply(ctx._("Here is the main menu."), buttons=main_menu(ctx))
