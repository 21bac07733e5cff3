"""A conversation harness: `await chat.send("/start")` returns the replies, reading like a chat log.

`ConsoleChat` talks to the app through the core, as the scripted console does (forms come back whole);
with `native_forms=False` it is walked through forms field by field, as on Telegram. `StaffChat` is the
same for a staff member: `await staff.submit("announce", text="...", audience="all")`.
"""

from __future__ import annotations

from typing import Any

from bot.app import BotApp
from bot.forms import Form, FormSubmission
from bot.messages import Incoming, Reply


class ConsoleChat:
    """One person talking to the app through the core, as the console adapter does."""

    def __init__(
        self,
        app: BotApp,
        name: str,
        *,
        language_hint: str | None = None,
        staff: bool | None = None,
        platform: str = "console",
        native_forms: bool = True,
    ) -> None:
        self.app = app
        self.name = name
        self.language_hint = language_hint
        self.staff = staff
        self.platform = platform
        self.native_forms = native_forms
        self.last: list[Reply] = []

    def _extra(self) -> dict[str, Any]:
        return {
            "display_name": self.name,
            "language_hint": self.language_hint,
            "staff_vouched": self.staff,
            "native_forms": self.native_forms,
        }

    async def send(self, text: str) -> list[Reply]:
        incoming = Incoming.from_text(self.platform, self.name, self.name, text, **self._extra())
        self.last = await self.app.handle(incoming)
        return self.last

    async def press(self, payload: str) -> list[Reply]:
        incoming = Incoming(self.platform, self.name, self.name, button=payload, **self._extra())
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

    async def submit(self, form: str, context: dict[str, str] | None = None, **values: object) -> list[Reply]:
        """Submit form `form` with these field values (lists for multi-choice fields)."""
        submission = FormSubmission(form, dict(values), dict(context or {}))
        incoming = Incoming(self.platform, self.name, self.name, form=submission, **self._extra())
        self.last = await self.app.handle(incoming)
        return self.last

    async def text(self, message: str) -> str:
        """Send and return the replies' texts joined, for short assertions."""
        return "\n".join(reply.text for reply in await self.send(message))

    def form(self) -> Form:
        """The form in the last replies."""
        found = next((reply.form for reply in self.last if reply.form is not None), None)
        if found is None:
            raise AssertionError(f"no form in the last replies: {[r.text for r in self.last]}")
        return found

    def buttons(self) -> dict[str, str]:
        """Label -> payload of the buttons in the last replies."""
        return {b.label: b.payload for r in self.last for b in r.buttons if b.payload}


class StaffChat(ConsoleChat):
    """A staff member at the console (`"staff": true`)."""

    def __init__(self, app: BotApp, name: str = "sara", **options: Any) -> None:
        super().__init__(app, name, staff=True, **options)
