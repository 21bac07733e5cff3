"""Button payload families shared by several handler modules (each family's handler lives in one)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import CallbackData


@dataclass(frozen=True)
class LanguageButton(CallbackData, prefix="lang"):
    """`lang:menu` opens the picker; `lang:set:<code>` chooses a language."""

    action: str  # menu | set
    code: str = ""


@dataclass(frozen=True)
class ProfileButton(CallbackData, prefix="profile"):
    action: str  # start


@dataclass(frozen=True)
class TopicButton(CallbackData, prefix="topic"):
    """Show one knowledge-base topic."""

    topic: str
