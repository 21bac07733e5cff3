"""Routers: each handler module declares its commands, buttons, form steps and free-text handler.

Button payloads are `"<prefix>:<argument>"`; a router claims a prefix. Handlers return a `Reply`, a list of
them, or None (a form step returning None hands the message on to ordinary routing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from bot.messages import Reply

if TYPE_CHECKING:
    from bot.context import Context

HandlerResult: TypeAlias = Reply | Sequence[Reply] | None
Handler: TypeAlias = Callable[["Context"], Awaitable[HandlerResult]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    description: str | None  # a msgid shown in menus and /help; None keeps it out of menus
    staff_only: bool = False
    audited: bool = False
    private_only: bool = False  # shows personal data: never answered in a group


@dataclass
class Router:
    """A feature's entry points. `Routes.merge` joins the routers of all handler modules."""

    name: str
    commands: dict[str, Command] = field(default_factory=dict)
    buttons: dict[str, Handler] = field(default_factory=dict)
    steps: dict[str, Handler] = field(default_factory=dict)
    text_handler: Handler | None = None
    unknown_command_handler: Handler | None = None
    private_buttons: set[str] = field(default_factory=set)

    def command(
        self,
        *names: str,
        description: str | None = None,
        staff_only: bool = False,
        audited: bool = False,
        private_only: bool = False,
    ) -> Callable[[H], H]:
        def register(handler: H) -> H:
            for index, name in enumerate(names):
                shown = description if index == 0 else None
                self.commands[name] = Command(
                    name, handler, shown, staff_only, audited or staff_only, private_only
                )
            return handler

        return register

    def button(self, prefix: str, *, private_only: bool = False) -> Callable[[H], H]:
        def register(handler: H) -> H:
            self.buttons[prefix] = handler
            if private_only:
                self.private_buttons.add(prefix)
            return handler

        return register

    def step(self, flow: str) -> Callable[[H], H]:
        def register(handler: H) -> H:
            self.steps[flow] = handler
            return handler

        return register

    def text(self, handler: H) -> H:
        self.text_handler = handler
        return handler

    def unknown_command(self, handler: H) -> H:
        self.unknown_command_handler = handler
        return handler


@dataclass(frozen=True)
class Routes:
    commands: dict[str, Command]
    buttons: dict[str, Handler]
    steps: dict[str, Handler]
    text_handler: Handler | None
    unknown_command_handler: Handler | None
    private_buttons: frozenset[str] = frozenset()

    @classmethod
    def merge(cls, routers: Sequence[Router]) -> Routes:
        """Join routers; two routers claiming the same command, prefix or flow is a programming error."""
        commands: dict[str, Command] = {}
        buttons: dict[str, Handler] = {}
        steps: dict[str, Handler] = {}
        text_handler: Handler | None = None
        unknown: Handler | None = None
        private_buttons: set[str] = set()
        for router in routers:
            private_buttons |= router.private_buttons
            _join(commands, router.commands, "command", router.name)
            _join(buttons, router.buttons, "button prefix", router.name)
            _join(steps, router.steps, "flow", router.name)
            if router.text_handler is not None:
                if text_handler is not None:
                    raise ValueError(f"two free-text handlers (router {router.name})")
                text_handler = router.text_handler
            if router.unknown_command_handler is not None:
                unknown = router.unknown_command_handler
        return cls(commands, buttons, steps, text_handler, unknown, frozenset(private_buttons))

    def menu(self, *, staff: bool = False) -> list[Command]:
        """Commands to show in /help and platform menus, in registration order."""
        return [c for c in self.commands.values() if c.description and (staff or not c.staff_only)]


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
