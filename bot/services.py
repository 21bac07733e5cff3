"""The long-lived services a handler may use, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.access import AccessPolicy, OpenPolicy
from bot.clock import Clock
from bot.config import Settings
from bot.delivery.outbox import Outbox
from bot.flood import FloodLimiter
from bot.i18n import Catalogs
from bot.knowledge import KnowledgeBase
from bot.regions import Regions
from bot.routing import Routes
from bot.signals import Signals
from bot.smalltalk import SmallTalk
from bot.storage.database import Database
from bot.taxonomy import Taxonomy


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
    # The knowledge base as content/ has it; `knowledge` is it plus the example questions staff accepted
    # in the database (`learned`), rebuilt when they change (bot.domain.suggestions.refresh).
    content_knowledge: KnowledgeBase | None = None
    learned: tuple[tuple[str, str, str], ...] = ()
    access: AccessPolicy = field(default_factory=OpenPolicy)
    # Where staff read notices (forwarded questions, delivery reports), by platform: Slack's staff
    # channel. A platform without one tells staff one by one.
    staff_channels: dict[str, str] = field(default_factory=dict)
    regions: Regions = field(default_factory=Regions)
    taxonomy: Taxonomy = field(default_factory=Taxonomy)  # challenges and the directory's search words
    smalltalk: SmallTalk = field(default_factory=SmallTalk)  # greetings, thanks... and off-topic cues
    # How a person opens an invitation on each platform ("https://t.me/<bot>?start={token}"); the
    # composition root fills it in once the adapters know their names.
    deep_links: dict[str, str] = field(default_factory=dict)
    # Everything that is not a direct reply goes through the outbox (bot.delivery); built from the clock.
    outbox: Outbox = field(init=False)
    signals: Signals = field(default_factory=Signals)

    def __post_init__(self) -> None:
        self.outbox = Outbox(self.clock)


class LanguageDetecting(Protocol):
    """What the language middleware needs of a detector (bot.language.LanguageDetector)."""

    def detect(self, text: str, prior: str | None = None) -> Detected: ...

    def detect_first_contact(self, text: str) -> Detected: ...


class Detected(Protocol):
    @property
    def language(self) -> str | None: ...
    @property
    def confident(self) -> bool: ...
