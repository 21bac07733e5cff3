"""A `Reply` as JSON for an outbox row, and back: what is stored is exactly what will be sent.

Attachments are kept inline (base64): outbox messages carry small files such as an .ics invitation.
"""

from __future__ import annotations

import base64
from typing import Any

from bot.messages import Attachment, Button, Markup, Reply

VERSION = 1


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """The stored form. `edit` is dropped: an outbox message is always a new message."""
    stored: dict[str, Any] = {"v": VERSION, "text": reply.text, "markup": reply.markup.value}
    if reply.buttons:
        stored["buttons"] = [_button(button) for button in reply.buttons]
    if reply.attachments:
        stored["attachments"] = [
            {
                "filename": item.filename,
                "mime_type": item.mime_type,
                "content_base64": base64.b64encode(item.content).decode("ascii"),
            }
            for item in reply.attachments
        ]
    if reply.notice is not None:
        stored["notice"] = reply.notice
    return stored


def reply_from_json(stored: dict[str, Any]) -> Reply:
    """Rebuild the `Reply`; raises `ValueError` for a payload this code cannot read."""
    if stored.get("v") != VERSION or not isinstance(stored.get("text"), str):
        raise ValueError(f"unreadable outbox payload (version {stored.get('v')!r})")
    buttons = tuple(
        Button(label=item["label"], payload=item.get("payload"), url=item.get("url"))
        for item in stored.get("buttons", ())
    )
    attachments = tuple(
        Attachment(
            filename=item["filename"],
            content=base64.b64decode(item["content_base64"]),
            mime_type=item.get("mime_type", "application/octet-stream"),
        )
        for item in stored.get("attachments", ())
    )
    return Reply(
        text=stored["text"],
        buttons=buttons,
        attachments=attachments,
        markup=Markup(stored.get("markup", Markup.PLAIN.value)),
        notice=stored.get("notice"),
    )


def _button(button: Button) -> dict[str, str]:
    item = {"label": button.label}
    if button.payload is not None:
        item["payload"] = button.payload
    if button.url is not None:
        item["url"] = button.url
    return item
