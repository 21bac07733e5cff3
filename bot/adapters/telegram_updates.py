"""Telegram updates -> `Incoming`: private messages, commands, deep links, button presses.

In groups the bot reads only commands and messages that mention it. Edited messages, channel posts and
update kinds the bot does not handle give None (ignored).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from telegram import Message, Update

from bot.messages import Incoming, parse_command

PLATFORM = "telegram"
UNSUPPORTED_KINDS = (
    "sticker",
    "photo",
    "voice",
    "video",
    "video_note",
    "audio",
    "document",
    "animation",
    "location",
    "contact",
    "poll",
    "venue",
    "dice",
)


def _name(update: Update) -> str:
    user = update.effective_user
    if user is None:
        return ""
    return " ".join(part for part in (user.first_name, user.last_name) if part)


def _typed(value: object, kind: type | tuple[type, ...], optional: bool = True) -> bool:
    return (optional and value is None) or (isinstance(value, kind) and not isinstance(value, bool))


def well_formed(update: Update) -> bool:
    """Whether the fields the bot reads have the Bot API's types. PTB builds objects from any JSON, so a
    forged webhook body can carry `{"chat": {"id": {}}}`; such an update is refused, never handled."""
    user, chat = update.effective_user, update.effective_chat
    if user is not None and not (
        _typed(user.id, int, optional=False) and isinstance(user.is_bot, bool)
        and all(_typed(v, str) for v in (user.first_name, user.last_name, user.username, user.language_code))
    ):  # fmt: skip
        return False
    if chat is not None and not (_typed(chat.id, int, optional=False) and _typed(chat.type, str)):
        return False
    query = update.callback_query
    if query is not None:
        if not _typed(query.data, str) or not _typed(query.id, str):
            return False
        if query.message is not None and not _typed(getattr(query.message, "message_id", None), int):
            return False
    message = update.message
    if message is not None:
        replied = message.reply_to_message
        if not (
            _typed(message.message_id, int, optional=False)
            and _typed(message.text, str) and _typed(message.caption, str)
            and (replied is None or _typed(replied.message_id, int, optional=False))
        ):  # fmt: skip
            return False
    return True


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    """The update as an `Incoming` (with its `update_id`, so a replay is handled once), or None
    (an update kind the bot does not answer, or one that is not well formed)."""
    if not well_formed(update):
        return None
    found = _to_incoming(update, bot_username)
    return replace(found, event_id=str(update.update_id)) if found is not None else None


def _to_incoming(update: Update, bot_username: str) -> Incoming | None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    sender = _Sender(
        str(user.id), str(chat.id), _name(update), user.language_code, chat.type == "private", user.username
    )
    if update.callback_query is not None:
        query = update.callback_query
        message_id = str(query.message.message_id) if query.message is not None else None
        return sender.incoming(button=query.data or "", message_id=message_id)
    if update.message is None:
        return None  # edited_message, channel_post, and the rest: nothing to answer
    return _from_message(update.message, sender, bot_username)


@dataclass(frozen=True)
class _Sender:
    user_id: str
    chat_id: str
    display_name: str
    language_hint: str | None
    is_private: bool
    username: str | None

    def incoming(
        self, *, message_id: str | None, button: str | None = None, unsupported: str | None = None
    ) -> Incoming:
        return Incoming(
            PLATFORM,
            self.user_id,
            self.chat_id,
            display_name=self.display_name,
            language_hint=self.language_hint,
            is_private=self.is_private,
            username=self.username,
            message_id=message_id,
            button=button,
            unsupported=unsupported,
        )

    def text(self, text: str, message_id: str, reply_to: str | None = None) -> Incoming:
        return Incoming.from_text(
            PLATFORM,
            self.user_id,
            self.chat_id,
            text,
            display_name=self.display_name,
            language_hint=self.language_hint,
            is_private=self.is_private,
            username=self.username,
            message_id=message_id,
            reply_to=reply_to,
        )


def _from_message(message: Message, sender: _Sender, bot_username: str) -> Incoming | None:
    text = message.text if message.text is not None else message.caption
    message_id = str(message.message_id)
    if text is None:
        kind = next((k for k in UNSUPPORTED_KINDS if getattr(message, k, None)), None)
        if kind is None or not sender.is_private:
            return None
        return sender.incoming(unsupported=kind, message_id=message_id)
    if not sender.is_private:
        mention = f"@{bot_username}".lower()
        command, _ = parse_command(text)
        head = text.strip().split(maxsplit=1)[0].lower() if text.strip() else ""
        addressed_elsewhere = command is not None and "@" in head and not head.endswith(mention)
        if (command is None and mention not in text.lower()) or addressed_elsewhere:
            return None
        if command is None:
            text = _strip_mention(text, bot_username)
    replied = message.reply_to_message
    return sender.text(text, message_id, str(replied.message_id) if replied is not None else None)


def _strip_mention(text: str, bot_username: str) -> str:
    lowered, mention = text.lower(), f"@{bot_username}".lower()
    index = lowered.find(mention)
    return (text[:index] + text[index + len(mention) :]).strip()
