"""The long-lived services a handler may use, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.clock import Clock
from bot.config import Settings
from bot.flood import FloodLimiter
from bot.i18n import Catalogs
from bot.routing import Routes
from bot.storage.database import Database


@dataclass
class Services:
    settings: Settings
    database: Database
    catalogs: Catalogs
    clock: Clock
    routes: Routes
    flood: FloodLimiter | None
    detector: LanguageDetecting | None = None


class LanguageDetecting(Protocol):
    """What the language middleware needs of a detector (bot.language.LanguageDetector)."""

    def detect(self, text: str, prior: str | None = None) -> Detected: ...


class Detected(Protocol):
    @property
    def language(self) -> str | None: ...
    @property
    def confident(self) -> bool: ...
