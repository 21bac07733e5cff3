"""A conversation harness: `await chat.send("/start")` returns the replies, reading like a chat log."""

from __future__ import annotations

from bot.app import BotApp
from bot.messages import Incoming, Reply


class ConsoleChat:
    """One person talking to the app through the core, as the console adapter does."""

    def __init__(
        self,
        app: BotApp,
        name: str,
        *,
        language_hint: str | None = None,
        staff: bool = False,
        platform: str = "console",
    ) -> None:
        self.app = app
        self.name = name
        self.language_hint = language_hint
        self.staff = staff
        self.platform = platform
        self.last: list[Reply] = []

    async def send(self, text: str) -> list[Reply]:
        incoming = Incoming.from_text(
            self.platform,
            self.name,
            self.name,
            text,
            display_name=self.name,
            language_hint=self.language_hint,
            is_staff=self.staff,
        )
        self.last = await self.app.handle(incoming)
        return self.last

    async def press(self, payload: str) -> list[Reply]:
        incoming = Incoming(
            self.platform,
            self.name,
            self.name,
            button=payload,
            display_name=self.name,
            language_hint=self.language_hint,
            is_staff=self.staff,
        )
        self.last = await self.app.handle(incoming)
        return self.last

    async def press_label(self, label: str) -> list[Reply]:
        """Press the button labelled `label` in the last replies."""
        for reply in self.last:
            for button in reply.buttons:
                if button.label == label and button.payload:
                    return await self.press(button.payload)
        labels = [b.label for r in self.last for b in r.buttons]
        raise AssertionError(f"no button {label!r} in the last replies; buttons: {labels}")

    async def text(self, message: str) -> str:
        """Send and return the replies' texts joined, for short assertions."""
        return "\n".join(reply.text for reply in await self.send(message))
