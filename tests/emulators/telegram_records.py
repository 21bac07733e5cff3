"""What the Telegram emulator records: the simulated users and chats, the bot's messages with their
earlier versions, every answered API call, every webhook delivery and the files it can serve.

Why a module of its own: tests read these records (``sent_messages``, ``calls``) and build the
users and chats they play, while the server only fills them in. They are plain data with the small
views tests need (``buttons``, ``callback_data``, ``as_dict``), no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TgUser:
    """A simulated Telegram user (a focal point, usually)."""

    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None

    def as_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass(frozen=True)
class TgChat:
    id: int
    type: str  # private, group, supergroup, channel
    title: str | None = None
    first_name: str | None = None
    username: str | None = None

    def as_dict(self) -> dict[str, Any]:
        fields = {"title": self.title, "first_name": self.first_name, "username": self.username}
        return {"id": self.id, "type": self.type} | {k: v for k, v in fields.items() if v}


@dataclass(frozen=True)
class MessageVersion:
    """The content a message had before an edit."""

    text: str | None
    plain_text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None


@dataclass
class SentMessage:
    """A message the bot sent; ``text`` is the text or caption as sent, ``plain_text`` what the
    reader sees, ``edits`` the earlier versions oldest first."""

    message_id: int
    chat_id: int
    method: str
    text: str | None
    plain_text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    date: int
    document_filename: str | None = None
    document_bytes: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)
    edits: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Inline keyboard rows as (label, callback_data or url)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            [(b.get("text", ""), str(b.get("callback_data", b.get("url", "")))) for b in row] for row in rows
        ]

    @property
    def callback_data(self) -> list[str]:
        return [
            b["callback_data"]
            for row in (self.reply_markup or {}).get("inline_keyboard", [])
            for b in row
            if "callback_data" in b
        ]


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, Any]
    status: int
    description: str | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    update_id: int
    url: str
    status: int  # 0 when the webhook could not be reached
    error: str | None = None


@dataclass
class StoredFile:
    """A document the bot uploaded or a test registered, downloadable through getFile."""

    file_id: str
    filename: str
    content: bytes
    mime_type: str


def file_path(stored: StoredFile) -> str:
    """The path getFile answers with and the file URL serves the content under."""
    return f"documents/{stored.file_id}/{stored.filename}"
