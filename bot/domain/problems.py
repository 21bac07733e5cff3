"""Why a domain action cannot be done: a msgid and its parameters, translated by whoever shows it."""

from __future__ import annotations

from bot.i18n import Translator


class Problem(Exception):
    """`message` is a msgid; `params` fill its placeholders; `text(t)` is the sentence in t's language."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def text(self, t: Translator) -> str:
        return t.gettext(self.message, **self.params)
