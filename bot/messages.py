"""Platform-neutral message types.

Adapters turn platform events into `Incoming` and turn `Reply` into platform calls; nothing in the core
or in `handlers/` ever sees a python-telegram-bot or slack-bolt object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.forms import Form, FormSubmission


class Markup(StrEnum):
    """How a reply's text is to be read by an adapter."""

    PLAIN = "plain"  # any characters; adapters escape it for their platform
    HTML = "html"  # already-safe Telegram-subset HTML (b, i, u, s, a, code, pre); console strips tags


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button. `payload` is opaque to adapters; long payloads are theirs to shorten."""

    label: str
    payload: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did: a text, a command, a button press or a form submission.

    Exactly one of `text`, `command`, `button`, `form` or `unsupported` is set. `language_hint` is the
    platform's idea of the person's language (Telegram's `language_code`).

    `staff_vouched` is the adapter's word on whether the sender is staff: True (Slack: a configured id
    or a staff-channel member; console: `"staff": true`), False (the platform checked and they are not),
    None (the platform says nothing; the role stored for the person stands). What a role may do is
    decided in the core, never by the adapter.

    `reply_to` is the platform id of the bot's message this one answers (a Slack thread, a Telegram
    reply), with that message's text in `reply_to_text` when the adapter read it back. `addressed` is
    False for a message the bot merely overheard (a reply in a staff thread): it is answered only when a
    handler claims it. `native_forms` says the platform shows a whole form at once (modals, the scripted
    console); otherwise the core asks field by field. `markup` is how `text` and text values are written.
    `username` is the handle others can reach the sender by (given to peers only after both agree).
    """

    platform: str
    user_id: str
    chat_id: str
    display_name: str = ""
    text: str | None = None
    command: str | None = None
    args: str = ""
    button: str | None = None
    language_hint: str | None = None
    is_private: bool = True
    staff_vouched: bool | None = None
    message_id: str | None = None
    received_at: datetime | None = None
    unsupported: str | None = None  # a kind of message the bot cannot read ("sticker", "voice", ...)
    form: FormSubmission | None = None
    reply_to: str | None = None
    reply_to_text: str | None = None
    addressed: bool = True
    native_forms: bool = False
    markup: Markup = Markup.PLAIN
    username: str | None = None  # the sender's public handle on the platform (Telegram @username)
    event_id: str | None = None  # the platform's id of this event (Telegram update_id): handled once

    @property
    def kind(self) -> str:
        if self.command is not None:
            return "command"
        if self.button is not None:
            return "button"
        if self.form is not None:
            return "form"
        if self.unsupported is not None:
            return "unsupported"
        return "text"

    @classmethod
    def from_text(cls, platform: str, user_id: str, chat_id: str, raw: str, **extra: object) -> Incoming:
        """Build an `Incoming`, reading a leading `/command` (with `@botname` dropped) as a command."""
        command, args = parse_command(raw)
        if command is not None:
            return cls(platform, user_id, chat_id, command=command, args=args, **extra)  # type: ignore[arg-type]
        return cls(platform, user_id, chat_id, text=raw, **extra)  # type: ignore[arg-type]


def parse_command(raw: str) -> tuple[str | None, str]:
    """`"/Start@scn_bot  join-123"` -> `("start", "join-123")`; not a command -> `(None, "")`."""
    stripped = raw.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None, ""
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    if not name or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
        return None, ""
    return name, rest.strip()


@dataclass(frozen=True, slots=True)
class Reply:
    """Something the bot says back; `edit` replaces the message whose button was pressed.

    `form` asks the person to fill in a form (see `bot.forms`). `thread` and `replaces` are platform
    message ids the deliverer fills in for an outbox message: post it under that message (a Slack
    thread), or edit that message instead of posting a new one (a live delivery report).
    """

    text: str
    buttons: tuple[Button, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    markup: Markup = Markup.PLAIN
    edit: bool = False
    notice: str | None = None  # a short toast for a button press (Telegram answerCallbackQuery)
    form: Form | None = None
    thread: str | None = None
    replaces: str | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A reply addressed to a chat on a platform: what an adapter is asked to deliver."""

    platform: str
    chat_id: str
    reply: Reply
    meta: dict[str, str] = field(default_factory=dict)
