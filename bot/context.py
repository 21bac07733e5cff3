"""What a handler gets: the message, the person, their language, a database session and services.

Built once per message by the dispatcher's middleware; handlers never reach for globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.conversation import Conversation
from bot.i18n import Catalogs, Translator
from bot.markup import html_to_plain
from bot.messages import Button, Incoming, Markup, Reply
from bot.storage.people import Person, PlatformIdentity, Role

if TYPE_CHECKING:
    from bot.services import Services


@dataclass
class Context:
    incoming: Incoming
    session: AsyncSession
    services: Services
    _person: Person | None = None
    _identity: PlatformIdentity | None = None
    _conversation: Conversation | None = None
    translator: Translator | None = None
    person_id: int | None = None  # plain copy: readable even after a rollback expired the ORM object
    # Set by the language middleware: a supported language the message was confidently written in that
    # differs from the reply language (offer to switch), or an unsupported one (answer in English + note).
    language_offer: str | None = None
    unsupported_language: str | None = None
    audit_events: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def catalogs(self) -> Catalogs:
        return self.services.catalogs

    @property
    def person(self) -> Person:
        if self._person is None:
            raise RuntimeError("person not identified yet (middleware order)")
        return self._person

    @property
    def identity(self) -> PlatformIdentity:
        if self._identity is None:
            raise RuntimeError("person not identified yet (middleware order)")
        return self._identity

    @property
    def conversation(self) -> Conversation:
        if self._conversation is None:
            self._conversation = Conversation(self.session, self.person.id, self.clock)
        return self._conversation

    @property
    def t(self) -> Translator:
        if self.translator is None:
            raise RuntimeError("language not resolved yet (middleware order)")
        return self.translator

    @property
    def language(self) -> str:
        return self.t.language

    @property
    def role(self) -> str:
        return self.person.role

    @property
    def is_staff(self) -> bool:
        return self.person.role == Role.STAFF.value

    def can(self, permission: str | None) -> bool:
        """Whether this person's role holds `permission` (None: anyone may)."""
        return permission is None or self.services.access.allows(self.person.role, permission)

    @property
    def args_plain(self) -> str:
        """A command's arguments as plain text (adapters may send them as safe HTML)."""
        args = self.incoming.args
        return html_to_plain(args).strip() if self.incoming.markup is Markup.HTML else args.strip()

    def _(self, message: str, **params: object) -> str:
        return self.t.gettext(message, **params)

    def ngettext(self, singular: str, plural: str, count: int, **params: object) -> str:
        return self.t.ngettext(singular, plural, count, **params)

    def audit(self, action: str, **detail: object) -> None:
        """Record `action` in the audit log when this message's work commits."""
        self.audit_events.append((action, detail))

    def reply(self, text: str, *buttons: Button, edit: bool = False) -> Reply:
        return Reply(text=text, buttons=tuple(buttons), edit=edit)
