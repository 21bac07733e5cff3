"""The console adapter: an interactive terminal chat, and a scripted JSON-lines mode for tests and demos.

JSON-lines input, one object per line: `{"from": "amina", "text": "/start"}` with optional `"lang"` (the
platform language hint), `"staff": true` and `"button": "<payload>"` instead of `"text"`. A line that
starts with neither `{` nor `[` is plain text from the demo person. Every message the bot sends to anyone
is written as one JSON object: `{"to", "text", "buttons", "attachments"}`. A bad line gets one error line
on standard error and the next line is read.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from bot.adapters.base import Handle
from bot.messages import Incoming, Markup, Reply

PLATFORM = "console"
DEMO_PERSON = "demo"
MAX_NAME = 64
_TAG = re.compile(r"<[^>]+>")
_ALLOWED_KEYS = frozenset({"from", "text", "lang", "staff", "button"})


class ConsoleInputError(ValueError):
    pass


def plain_text(reply: Reply) -> str:
    if reply.markup is Markup.HTML:
        return html.unescape(_TAG.sub("", reply.text))
    return reply.text


def reply_record(to: str, reply: Reply) -> dict[str, Any]:
    attachments = []
    for attachment in reply.attachments:
        item: dict[str, Any] = {
            "filename": attachment.filename,
            "mime_type": attachment.mime_type,
            "size": len(attachment.content),
        }
        if attachment.mime_type.startswith("text/"):
            item["content"] = attachment.content.decode("utf-8", errors="replace")
        else:
            item["content_base64"] = base64.b64encode(attachment.content).decode("ascii")
        attachments.append(item)
    buttons = [
        {"label": b.label, "payload": b.payload} if b.url is None else {"label": b.label, "url": b.url}
        for b in reply.buttons
    ]
    return {"to": to, "text": plain_text(reply), "buttons": buttons, "attachments": attachments}


def parse_line(line: str) -> Incoming | None:
    """One input line -> Incoming; blank lines -> None; raises ConsoleInputError with a clear reason."""
    stripped = line.strip()
    if not stripped:
        return None
    if not stripped.startswith(("{", "[")):
        return Incoming.from_text(PLATFORM, DEMO_PERSON, DEMO_PERSON, stripped, display_name=DEMO_PERSON)
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as error:
        raise ConsoleInputError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(data, dict):
        raise ConsoleInputError("expected a JSON object")
    unknown = set(data) - _ALLOWED_KEYS
    if unknown:
        raise ConsoleInputError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(_ALLOWED_KEYS)}")
    sender = data.get("from", DEMO_PERSON)
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_NAME:
        raise ConsoleInputError(f'"from" must be a name of 1 to {MAX_NAME} characters')
    lang = data.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise ConsoleInputError('"lang" must be a language code such as "ar"')
    staff = data.get("staff", False)
    if not isinstance(staff, bool):
        raise ConsoleInputError('"staff" must be true or false')
    has_text, has_button = "text" in data, "button" in data
    if has_text == has_button:
        raise ConsoleInputError('give exactly one of "text" or "button"')
    extra: dict[str, Any] = {"display_name": sender, "language_hint": lang, "is_staff": staff}
    if has_button:
        if not isinstance(data["button"], str) or not data["button"]:
            raise ConsoleInputError('"button" must be a button payload string')
        return Incoming(PLATFORM, sender, sender, button=data["button"], **extra)
    if not isinstance(data["text"], str):
        raise ConsoleInputError('"text" must be a string')
    return Incoming.from_text(PLATFORM, sender, sender, data["text"], **extra)


class ConsoleAdapter:
    """Speaks to demo people on the terminal; `send` prints deliveries addressed to them."""

    platform = PLATFORM

    def __init__(
        self,
        handle: Handle,
        out: TextIO = sys.stdout,
        err: TextIO = sys.stderr,
        *,
        jsonl: bool = True,
        addressed: bool = False,
    ) -> None:
        self._handle = handle
        self._out = out
        self._err = err
        self._jsonl = jsonl
        self._addressed = addressed  # name the recipient in the human format (several people talking)
        self._buttons: list[str] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def healthy(self) -> bool:
        return True

    async def send(self, chat_id: str, reply: Reply) -> str:
        if self._jsonl:
            self._out.write(json.dumps(reply_record(chat_id, reply), ensure_ascii=False) + "\n")
        else:
            self._print_interactive(chat_id, reply)
        self._out.flush()
        return f"{chat_id}:{id(reply)}"

    async def run(
        self,
        readline: Callable[[], str] | None = None,
        *,
        greet_as: str | None = None,
        defaults: dict[str, Any] | None = None,
        after_each: Callable[[], Awaitable[None]] | None = None,
    ) -> int:
        """Process input lines in order until end of input; returns the number of bad lines.

        `greet_as` sends `/start` for that person first (the interactive terminal); `defaults` sets the
        language hint and staff flag of plain-text lines; in the human format a number presses a button
        of the last reply.
        """
        read = readline or sys.stdin.readline
        loop = asyncio.get_running_loop()
        errors = number = 0
        if greet_as is not None:
            await self._process(
                Incoming.from_text(
                    PLATFORM, greet_as, greet_as, "/start", display_name=greet_as, **(defaults or {})
                )
            )
        while True:
            line = await loop.run_in_executor(None, read)
            if line == "" or (not self._jsonl and line.strip() in ("/quit", "/exit")):
                return errors
            number += 1
            try:
                incoming = self._parse(line, greet_as or DEMO_PERSON, defaults or {})
            except ConsoleInputError as error:
                errors += 1
                self._err.write(f"line {number}: {error}\n")
                self._err.flush()
                continue
            if incoming is not None:
                await self._process(incoming)
                if after_each is not None:
                    await after_each()

    def _parse(self, line: str, name: str, defaults: dict[str, Any]) -> Incoming | None:
        stripped = line.strip()
        if self._jsonl or stripped.startswith(("{", "[")):
            return parse_line(line)
        if not stripped:
            return None
        extra: dict[str, Any] = {"display_name": name, **defaults}
        if stripped.isdigit() and 1 <= int(stripped) <= len(self._buttons):
            return Incoming(PLATFORM, name, name, button=self._buttons[int(stripped) - 1], **extra)
        return Incoming.from_text(PLATFORM, name, name, stripped, **extra)

    async def _process(self, incoming: Incoming) -> None:
        for reply in await self._handle(incoming):
            await self.send(incoming.chat_id, reply)

    def _print_interactive(self, chat_id: str, reply: Reply) -> None:
        target = f"[to {chat_id}] " if self._addressed else ""
        body = plain_text(reply).replace("\n", "\n     ")
        self._out.write(f"bot> {target}{body}\n")
        payloads = [b.payload for b in reply.buttons if b.payload]
        if payloads:
            self._buttons = payloads
            labels = [b.label for b in reply.buttons if b.payload]
            self._out.write("     " + "  ".join(f"[{i}] {label}" for i, label in enumerate(labels, 1)) + "\n")
        for attachment in reply.attachments:
            self._out.write(f"     (attachment: {attachment.filename}, {len(attachment.content)} bytes)\n")
        self._out.write("\n")
