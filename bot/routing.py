"""Routers: each handler module declares its commands, buttons, forms, form steps and text handlers.

A button family is a `CallbackData` class (`bot.callbacks`); the router claims its prefix and the
handler receives the unpacked payload. A form is claimed by its id with a builder (what the form looks
like for this person now) and a submit handler (called with a checked submission). Every entry point
may declare the permission it needs; the dispatcher asks the access policy before calling it.

Handlers return a `Reply`, a list of them, or None (a form step or a reply handler returning None hands
the message on to ordinary routing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from bot.callbacks import CallbackData
from bot.messages import Reply

if TYPE_CHECKING:
    from bot.forms import Form, Submitted

# Handlers take a `bot.context.Context` (typed where they are written; the registry below the context
# holds them as callables, so routing never depends on the context that depends on it).
HandlerResult: TypeAlias = Reply | Sequence[Reply] | None
Handler: TypeAlias = Callable[[Any], Awaitable[HandlerResult]]
ButtonHandler: TypeAlias = Callable[[Any, Any], Awaitable[HandlerResult]]
FormBuilder: TypeAlias = Callable[[Any, Mapping[str, str]], Awaitable["Form"]]
FormHandler: TypeAlias = Callable[[Any, "Submitted"], Awaitable[HandlerResult]]
H = TypeVar("H", bound=Handler)
B = TypeVar("B", bound=ButtonHandler)
F = TypeVar("F", bound=FormHandler)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    description: str | None  # a msgid shown in menus and /help; None keeps it out of menus
    needs: str | None = None  # a permission (bot.access); None: anyone
    audited: bool = False
    private_only: bool = False  # shows personal data: never answered in a group


@dataclass(frozen=True)
class ButtonRoute:
    prefix: str
    handler: ButtonHandler
    data: type[CallbackData]
    needs: str | None = None
    private_only: bool = False


@dataclass(frozen=True)
class StepRoute:
    flow: str
    handler: Handler
    every_message: bool = False  # also sees commands (a pending confirmation any message withdraws)


@dataclass(frozen=True)
class FormRoute:
    form_id: str
    build: FormBuilder
    submit: FormHandler
    needs: str | None = None


@dataclass
class Router:
    """A feature's entry points. `Routes.merge` joins the routers of all handler modules."""

    name: str
    commands: dict[str, Command] = field(default_factory=dict)
    buttons: dict[str, ButtonRoute] = field(default_factory=dict)
    forms: dict[str, FormRoute] = field(default_factory=dict)
    steps: dict[str, StepRoute] = field(default_factory=dict)
    replies: list[Handler] = field(default_factory=list)
    text_handler: Handler | None = None
    unknown_command_handler: Handler | None = None

    def command(
        self,
        *names: str,
        description: str | None = None,
        needs: str | None = None,
        audited: bool = False,
        private_only: bool = False,
    ) -> Callable[[H], H]:
        def register(handler: H) -> H:
            for index, name in enumerate(names):
                shown = description if index == 0 else None
                self.commands[name] = Command(name, handler, shown, needs, audited, private_only)
            return handler

        return register

    def button(
        self, data: type[CallbackData], *, needs: str | None = None, private_only: bool = False
    ) -> Callable[[B], B]:
        """`handler(ctx, data)` for every press of a button whose payload `data.unpack`s."""

        def register(handler: B) -> B:
            self.buttons[data.prefix] = ButtonRoute(data.prefix, handler, data, needs, private_only)
            return handler

        return register

    def form(self, form_id: str, *, build: FormBuilder, needs: str | None = None) -> Callable[[F], F]:
        """`handler(ctx, submitted)` for a checked submission of form `form_id`, built by `build`."""

        def register(handler: F) -> F:
            self.forms[form_id] = FormRoute(form_id, build, handler, needs)
            return handler

        return register

    def step(self, flow: str, *, every_message: bool = False) -> Callable[[H], H]:
        """The handler of a pending conversation `flow` (texts and buttons; commands too with
        `every_message`). Returning None hands the message on to ordinary routing."""

        def register(handler: H) -> H:
            self.steps[flow] = StepRoute(flow, handler, every_message)
            return handler

        return register

    def reply(self, handler: H) -> H:
        """A handler for messages that answer one of the bot's own (`Incoming.reply_to`)."""
        self.replies.append(handler)
        return handler

    def text(self, handler: H) -> H:
        self.text_handler = handler
        return handler

    def unknown_command(self, handler: H) -> H:
        self.unknown_command_handler = handler
        return handler


@dataclass(frozen=True)
class Routes:
    commands: dict[str, Command]
    buttons: dict[str, ButtonRoute]
    forms: dict[str, FormRoute]
    steps: dict[str, StepRoute]
    replies: tuple[Handler, ...]
    text_handler: Handler | None
    unknown_command_handler: Handler | None

    @classmethod
    def merge(cls, routers: Sequence[Router]) -> Routes:
        """Join routers; two claiming the same command, prefix, form or flow is a programming error."""
        commands: dict[str, Command] = {}
        buttons: dict[str, ButtonRoute] = {}
        forms: dict[str, FormRoute] = {}
        steps: dict[str, StepRoute] = {}
        replies: list[Handler] = []
        text_handler: Handler | None = None
        unknown: Handler | None = None
        for router in routers:
            _join(commands, router.commands, "command", router.name)
            _join(buttons, router.buttons, "button prefix", router.name)
            _join(forms, router.forms, "form", router.name)
            _join(steps, router.steps, "flow", router.name)
            replies += router.replies
            if router.text_handler is not None:
                if text_handler is not None:
                    raise ValueError(f"two free-text handlers (router {router.name})")
                text_handler = router.text_handler
            if router.unknown_command_handler is not None:
                unknown = router.unknown_command_handler
        return cls(commands, buttons, forms, steps, tuple(replies), text_handler, unknown)

    def menu(self, allowed: Callable[[str | None], bool] | None = None) -> list[Command]:
        """Commands to show in /help and platform menus, in registration order; `allowed(needs)` filters
        them to what the reader may do (None: the commands anyone may use)."""
        shown = [c for c in self.commands.values() if c.description]
        if allowed is None:
            return [c for c in shown if c.needs is None]
        return [c for c in shown if allowed(c.needs)]


V = TypeVar("V")


def _join(table: dict[str, V], mine: dict[str, V], kind: str, router: str) -> None:
    clash = set(table) & set(mine)
    if clash:
        raise ValueError(f"{kind} {sorted(clash)} registered twice (router {router})")
    table.update(mine)


def as_replies(result: HandlerResult) -> list[Reply]:
    if result is None:
        return []
    if isinstance(result, Reply):
        return [result]
    return list(result)
