"""The long-lived services a handler may use, built once by the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeAlias

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.outbox import Outbox
from bot.flood import FloodLimiter
from bot.i18n import Catalogs
from bot.knowledge import KnowledgeBase
from bot.routing import Routes
from bot.storage.database import Database

if TYPE_CHECKING:
    from bot.context import Context
    from bot.storage.questions import Question

StaffNotifier: TypeAlias = Callable[["Context", "Question"], Awaitable[None]]


@dataclass
class Services:
    settings: Settings
    database: Database
    catalogs: Catalogs
    clock: Clock
    routes: Routes
    flood: FloodLimiter | None
    detector: LanguageDetecting | None = None
    knowledge: KnowledgeBase | None = None
    # Posts a forwarded question where staff see it (the Slack adapter sets it); None: kept in the database.
    staff_notifier: StaffNotifier | None = None
    # Everything that is not a direct reply goes through the outbox (bot.delivery); built from the clock.
    outbox: Outbox = field(init=False)

    def __post_init__(self) -> None:
        self.outbox = Outbox(self.clock)


class LanguageDetecting(Protocol):
    """What the language middleware needs of a detector (bot.language.LanguageDetector)."""

    def detect(self, text: str, prior: str | None = None) -> Detected: ...


class Detected(Protocol):
    @property
    def language(self) -> str | None: ...
    @property
    def confident(self) -> bool: ...
