"""`Reply` -> Telegram messages: HTML with user text escaped, long texts split, inline keyboards.

Telegram counts the 4096-character limit on the text after entity parsing, so plain text is split before
escaping; HTML replies are split on paragraph boundaries, where their tags are closed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.messages import Button, Markup, Reply

TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
_TAG = re.compile(r"<[^>]+>")
SHORT_LABEL = 18  # labels up to this length go two to a row


@dataclass(frozen=True)
class TelegramMessage:
    html: str
    keyboard: InlineKeyboardMarkup | None


def visible_length(html_text: str) -> int:
    return len(html.unescape(_TAG.sub("", html_text)))


def split_plain(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split on paragraphs, then lines, then words; a single over-long word is cut."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        for part in _fit(paragraph, limit):
            candidate = f"{current}\n\n{part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = part
    if current:
        chunks.append(current)
    return chunks


def _fit(piece: str, limit: int) -> list[str]:
    if len(piece) <= limit:
        return [piece]
    out: list[str] = []
    current = ""
    for word in re.split(r"(?<=\n)|(?<= )", piece):
        while len(word) > limit:
            if current:
                out.append(current)
                current = ""
            out.append(word[:limit])
            word = word[limit:]
        if len(current) + len(word) > limit:
            out.append(current)
            current = word
        else:
            current += word
    if current:
        out.append(current)
    return [chunk.strip("\n") or chunk for chunk in out]


def split_html(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    chunks: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if visible_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if visible_length(paragraph) <= limit:
            current = paragraph
        else:  # no safe boundary inside: fall back to plain text for this paragraph
            plain = html.unescape(_TAG.sub("", paragraph))
            chunks.extend(html.escape(part, quote=False) for part in split_plain(plain, limit))
            current = ""
    if current:
        chunks.append(current)
    return chunks


def text_chunks(reply: Reply) -> list[str]:
    if reply.markup is Markup.HTML:
        return split_html(reply.text)
    return [html.escape(chunk, quote=False) for chunk in split_plain(reply.text)]


async def keyboard(
    buttons: Sequence[Button], shorten: Callable[[str, int], Awaitable[str]]
) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rendered: list[InlineKeyboardButton] = []
    for button in buttons:
        if button.url is not None:
            rendered.append(InlineKeyboardButton(button.label, url=button.url))
        else:
            data = await shorten(button.payload or "", CALLBACK_DATA_LIMIT)
            rendered.append(InlineKeyboardButton(button.label, callback_data=data))
    per_row = 2 if all(len(b.label) <= SHORT_LABEL for b in buttons) and len(buttons) > 3 else 1
    rows = [rendered[i : i + per_row] for i in range(0, len(rendered), per_row)]
    return InlineKeyboardMarkup(rows)


async def render(reply: Reply, shorten: Callable[[str, int], Awaitable[str]]) -> list[TelegramMessage]:
    """The messages to send for `reply`; its buttons go under the last one."""
    chunks = text_chunks(reply) if reply.text else []
    markup = await keyboard(reply.buttons, shorten)
    return [
        TelegramMessage(chunk, markup if index == len(chunks) - 1 else None)
        for index, chunk in enumerate(chunks)
    ]
