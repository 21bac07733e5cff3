"""The core application: services and the dispatcher, built from settings and the handlers' routers.

The composition root (`run_bot.py`) hands in the routers, so the core never imports `handlers/`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot import form_flow
from bot.access import AccessPolicy, OpenPolicy
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.flood import FloodLimiter
from bot.i18n import Catalogs
from bot.knowledge import KnowledgeBase
from bot.messages import Incoming, Reply
from bot.routing import Router, Routes
from bot.services import LanguageDetecting, Services
from bot.storage.database import Database

log = logging.getLogger(__name__)


class SchemaOutdated(RuntimeError):
    """The PostgreSQL schema is behind the code: run `python run_bot.py db upgrade`."""


class BotApp:
    def __init__(
        self,
        settings: Settings,
        routers: Sequence[Router],
        *,
        clock: Clock | None = None,
        database: Database | None = None,
        flood_limit: bool = True,
        detector: LanguageDetecting | None = None,
        knowledge: KnowledgeBase | None = None,
        access: AccessPolicy | None = None,
        staff_channels: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.database = database or Database(settings.database_url)
        self.services = Services(
            settings=settings,
            database=self.database,
            catalogs=Catalogs(settings.bot_locales_dir, settings.bot_default_language),
            clock=clock or SystemClock(),
            routes=Routes.merge([*routers, form_flow.router]),
            flood=FloodLimiter(settings.bot_flood_burst, settings.bot_flood_per_minute)
            if flood_limit
            else None,
            detector=detector,
            knowledge=knowledge,
            access=access or OpenPolicy(),
            staff_channels=dict(staff_channels or {}),
        )
        self.dispatcher = Dispatcher(self.services)

    async def start(self) -> None:
        """Make sure the database answers (else `DatabaseUnreachable`) and the schema is current:
        SQLite is migrated in place; PostgreSQL must be upgraded."""
        await self.database.check()
        if self.database.is_sqlite:
            await self.database.upgrade()
            return
        from alembic.script import ScriptDirectory

        from bot.storage.database import alembic_config

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        current = await self.database.current_revision()
        if current != head:
            raise SchemaOutdated(
                f"database schema is at {current or 'nothing'}, code needs {head}: "
                "run `python run_bot.py db upgrade`"
            )

    def command_menus(self) -> dict[str, list[tuple[str, str]]]:
        """Per language, the commands for platform menus, described in that language."""
        access = self.services.access
        menus: dict[str, list[tuple[str, str]]] = {}
        for language in self.services.catalogs.languages:
            translator = self.services.catalogs.translator(language)
            menus[language] = [
                (command.name, translator.gettext(command.description))
                for command in self.services.routes.menu(
                    lambda needs: needs is None or not access.audited(needs)
                )
                if command.description
            ]
        return menus

    async def handle(self, incoming: Incoming) -> list[Reply]:
        return await self.dispatcher.dispatch(incoming)

    async def close(self) -> None:
        await self.database.dispose()
