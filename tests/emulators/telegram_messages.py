"""The bot's own messages in the Telegram emulator: sending, editing and deleting them, the files
they carry, and the Message objects Telegram answers with.

Why a module of its own: these methods share one piece of state (the messages, numbered per chat
together with the users' messages, and the stored files) and one set of rules: texts and captions
are checked against the limits, an edit that changes nothing is refused, an edit without
reply_markup drops the inline keyboard, and a deleted message can be neither edited nor deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.emulators.telegram_limits import TelegramLimits, checked_text
from tests.emulators.telegram_records import MessageVersion, SentMessage, StoredFile, TgChat, file_path
from tests.emulators.telegram_spec import UploadedFile, bad_request


class BotMessages:
    """The messages the bot sent (``sent``, oldest first) and the files it can serve (``files``).
    ``bot_user`` and ``resolve_chat`` come from the emulator, so answers show its current bot and
    chats."""

    def __init__(
        self,
        limits: TelegramLimits,
        bot_user: Callable[[], dict[str, Any]],
        resolve_chat: Callable[[int | str], TgChat],
    ) -> None:
        self.sent: list[SentMessage] = []
        self.by_chat: dict[int, list[SentMessage]] = {}  # the same messages, per chat
        self.files: dict[str, StoredFile] = {}
        self._limits = limits
        self._bot_user = bot_user
        self._resolve_chat = resolve_chat
        self._message_ids: dict[int, int] = {}

    def file_at(self, path: str) -> StoredFile | None:
        """The stored file served under ``path`` (see ``file_path``), if any."""
        for stored in self.files.values():
            if file_path(stored) == path:
                return stored
        return None

    # -- Bot API methods --------------------------------------------------------------------

    async def send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        plain = checked_text(self._limits, params["text"], params.get("parse_mode"))
        sent = self.record("sendMessage", params, params["text"], plain)
        return self.as_message(sent)

    async def send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        plain = (
            checked_text(self._limits, caption, params.get("parse_mode"), caption=True) if caption else None
        )
        document = params["document"]
        if isinstance(document, UploadedFile):
            stored = StoredFile(
                f"BQACAgIAAxkDAAI{len(self.files) + 1:05d}emu",
                document.filename,
                document.content,
                document.content_type,
            )
            self.files[stored.file_id] = stored
        elif document in self.files:
            stored = self.files[document]
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        sent = self.record("sendDocument", params, caption, plain)
        sent.document_filename, sent.document_bytes = stored.filename, stored.content
        sent.params["document"] = stored.file_id
        return self.as_message(sent)

    async def edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        sent = self.find(params, "message to edit not found")
        key = "text" if sent.method == "sendMessage" else "caption"
        if key == "text" and "text" not in params:
            raise bad_request("message text is empty")
        text = params.get(key)
        plain = (
            checked_text(self._limits, text, params.get("parse_mode"), caption=key == "caption")
            if text
            else None
        )
        return self._apply_edit(sent, text, plain, params.get("parse_mode"), params.get("reply_markup"))

    async def edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        sent = self.find(params, "message to edit not found")
        return self._apply_edit(sent, sent.text, sent.plain_text, sent.parse_mode, params.get("reply_markup"))

    def _apply_edit(
        self,
        sent: SentMessage,
        text: str | None,
        plain: str | None,
        parse_mode: str | None,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Like Telegram, an edit without reply_markup removes the inline keyboard."""
        if (text, parse_mode, markup) == (sent.text, sent.parse_mode, sent.reply_markup):
            raise bad_request(
                "message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup "
                "of the message"
            )
        sent.edits.append(MessageVersion(sent.text, sent.plain_text, sent.parse_mode, sent.reply_markup))
        sent.text, sent.plain_text, sent.parse_mode, sent.reply_markup = (text, plain, parse_mode, markup)
        return self.as_message(sent) | {"edit_date": int(time.time())}

    async def delete_message(self, params: dict[str, Any]) -> bool:
        self.find(params, "message to delete not found").deleted = True
        return True

    def find(self, params: dict[str, Any], not_found: str) -> SentMessage:
        chat_id = params.get("chat_id")
        for sent in self.by_chat.get(chat_id, []) if isinstance(chat_id, int) else []:
            if sent.message_id == params.get("message_id") and not sent.deleted:
                return sent
        raise bad_request(not_found)

    async def get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(params["file_id"])
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_id[-12:],
            "file_size": len(stored.content),
            "file_path": file_path(stored),
        }

    # -- bookkeeping ------------------------------------------------------------------------

    def new_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def record(self, method: str, params: dict[str, Any], text: str | None, plain: str | None) -> SentMessage:
        chat_id = params["chat_id"]
        sent = SentMessage(
            self.new_message_id(chat_id),
            chat_id,
            method,
            text,
            plain,
            params.get("parse_mode"),
            params.get("reply_markup"),
            int(time.time()),
            params={k: v for k, v in params.items() if not isinstance(v, UploadedFile)},
        )
        self.sent.append(sent)
        self.by_chat.setdefault(chat_id, []).append(sent)
        return sent

    def as_message(self, sent: SentMessage) -> dict[str, Any]:
        """The Message object Telegram returns for a bot's message (PTB de-jsons it)."""
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "from": self._bot_user(),
            "chat": self._resolve_chat(sent.chat_id).as_dict(),
            "date": sent.date,
        }
        if sent.method == "sendMessage":
            message["text"] = sent.plain_text
        elif sent.plain_text:
            message["caption"] = sent.plain_text
        if sent.document_filename is not None and sent.document_bytes is not None:
            file_id = str(sent.params.get("document", ""))
            message["document"] = {
                "file_id": file_id,
                "file_unique_id": file_id[-12:],
                "file_name": sent.document_filename,
                "file_size": len(sent.document_bytes),
            }
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        return message
