"""The console adapter: an interactive terminal chat, and a scripted JSON-lines mode for tests and demos.

JSON-lines input, one object per line (the public contract, documented in the README):
- `{"from": "amina", "text": "/start"}`, with optional `"lang"` (the platform language hint) and
  `"staff": true` (vouch that this person is staff); `"button": "<payload>"` instead of `"text"`
  presses a button of an earlier reply;
- `{"from": "sara", "staff": true, "submit": {"form": "<id>", "values": {...}, "context": {...}}}`
  submits a form (multi-choice values are lists; `context` is optional: the last form shown says it);
- `{"clock": "<ISO-8601 time>"}` moves the simulated clock (only with `--simulated-clock`).
A line that starts with neither `{` nor `[` is plain text from the demo person. Every message the bot
sends to anyone is one JSON object: `{"to", "text", "buttons", "attachments", "at"}`, plus `"form"` when
it asks for one. A bad line gets one error line on standard error and the next line is read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.adapters.base import Handle, json_nesting
from bot.clock import Clock, SystemClock
from bot.forms import Form, FormSubmission
from bot.markup import html_to_plain
from bot.messages import Attachment, Incoming, Markup, Reply

PLATFORM = "console"
DEMO_PERSON = "demo"
MAX_NAME = 64
MAX_LINE = 1_000_000
MAX_DEPTH = 20
_ALLOWED_KEYS = frozenset({"from", "text", "lang", "staff", "button", "submit", "clock"})


class ConsoleInputError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ClockLine:
    """`{"clock": ...}`: move the simulated clock to `moment`."""

    moment: datetime


def plain_text(reply: Reply) -> str:
    if reply.markup is Markup.HTML:
        return html_to_plain(reply.text)
    return reply.text


def form_record(form: Form) -> dict[str, Any]:
    fields = []
    for field in form.fields:
        item: dict[str, Any] = {
            "id": field.id,
            "label": field.label,
            "kind": field.kind.value,
            "required": field.required,
            "choices": [{"label": c.label, "value": c.value} for c in field.choices],
        }
        if field.hint:
            item["hint"] = field.hint
        fields.append(item)
    values = {
        key: (html_to_plain(value) if isinstance(value, str) and (f := form.field(key)) and f.rich else value)
        for key, value in form.values.items()
    }
    record: dict[str, Any] = {"id": form.id, "title": form.title, "fields": fields, "submit": form.submit}
    if values:
        record["values"] = {
            key: list(value) if isinstance(value, tuple) else value for key, value in values.items()
        }
    if form.context:
        record["context"] = dict(form.context)
    if form.errors:
        record["errors"] = dict(form.errors)
    return record


def reply_record(to: str, reply: Reply, at: datetime | None = None) -> dict[str, Any]:
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
    record: dict[str, Any] = {
        "to": to,
        "text": plain_text(reply),
        "buttons": buttons,
        "attachments": attachments,
    }
    if reply.form is not None:
        record["form"] = form_record(reply.form)
    record["at"] = _iso(at or datetime.now(UTC))
    return record


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _depth(value: object, limit: int) -> int:
    """How deeply `value` nests, counting no further than `limit` + 1 (no recursion)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _text_field(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise ConsoleInputError(f'"{key}" must be a string')
    return value


def parse_line(line: str) -> Incoming | ClockLine | None:
    """One input line -> Incoming (or a clock move); blank -> None; raises ConsoleInputError saying why."""
    stripped = line.strip()
    if not stripped:
        return None
    if len(stripped) > MAX_LINE:
        raise ConsoleInputError(f"line longer than {MAX_LINE} characters")
    if not stripped.startswith(("{", "[")):
        return Incoming.from_text(PLATFORM, DEMO_PERSON, DEMO_PERSON, stripped, display_name=DEMO_PERSON)
    if json_nesting(stripped) > MAX_DEPTH:
        raise ConsoleInputError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as error:
        raise ConsoleInputError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise ConsoleInputError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if not isinstance(data, dict):
        raise ConsoleInputError("expected a JSON object")
    unknown = set(data) - _ALLOWED_KEYS
    if unknown:
        raise ConsoleInputError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(_ALLOWED_KEYS)}")
    if "clock" in data:
        return _clock_line(data)
    sender = data.get("from", DEMO_PERSON)
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_NAME or not _storable(sender):
        raise ConsoleInputError(f'"from" must be a name of 1 to {MAX_NAME} characters')
    lang = data.get("lang")
    if lang is not None and (not isinstance(lang, str) or len(lang) > 35):
        raise ConsoleInputError('"lang" must be a language code such as "ar"')
    staff = data.get("staff")
    if staff is not None and not isinstance(staff, bool):
        raise ConsoleInputError('"staff" must be true or false')
    given = [key for key in ("text", "button", "submit") if key in data]
    if len(given) != 1:
        raise ConsoleInputError('give exactly one of "text", "button" or "submit"')
    extra: dict[str, Any] = {"display_name": sender, "language_hint": lang, "staff_vouched": staff}
    if given[0] == "button":
        payload = data["button"]
        if not isinstance(payload, str) or not payload or not _storable(payload):
            raise ConsoleInputError('"button" must be a button payload string')
        return Incoming(PLATFORM, sender, sender, button=payload, native_forms=True, **extra)
    if given[0] == "submit":
        return Incoming(
            PLATFORM, sender, sender, form=_submission(data["submit"]), native_forms=True, **extra
        )
    text = _text_field(data, "text")
    if not _storable(text):
        raise ConsoleInputError('"text" holds characters that cannot be stored (a NUL or a lone surrogate)')
    return Incoming.from_text(PLATFORM, sender, sender, text, native_forms=True, **extra)


def _storable(text: str) -> bool:
    from bot.forms import storable

    return storable(text)


def _clock_line(data: dict[str, Any]) -> ClockLine:
    if set(data) != {"clock"}:
        raise ConsoleInputError('a "clock" line holds only "clock"')
    raw = data["clock"]
    if not isinstance(raw, str):
        raise ConsoleInputError('"clock" must be an ISO-8601 time such as "2026-12-01T09:00:00Z"')
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConsoleInputError(f'"clock" is not an ISO-8601 time: {raw[:40]!r}') from None
    if moment.tzinfo is None:
        raise ConsoleInputError('"clock" needs a time zone, such as "Z" or "+03:00"')
    return ClockLine(moment.astimezone(UTC))


def _submission(raw: object) -> FormSubmission:
    if not isinstance(raw, dict) or not isinstance(raw.get("form"), str) or not raw["form"]:
        raise ConsoleInputError('"submit" must be {"form": "<form id>", "values": {...}}')
    unknown = set(raw) - {"form", "values", "context"}
    if unknown:
        raise ConsoleInputError(
            f'unknown field(s) {sorted(unknown)} in "submit"; allowed: context, form, values'
        )
    values = raw.get("values", {})
    if not isinstance(values, dict):
        raise ConsoleInputError('"values" must be an object of field id -> value')
    for key, value in values.items():
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str | int | float | bool) or item is None for item in items):
            raise ConsoleInputError(
                f'the value of "{key}" must be text, a number, true/false or a list of them'
            )
        if any(isinstance(item, str) and not _storable(item) for item in items):
            raise ConsoleInputError(f'the value of "{key}" holds characters that cannot be stored')
    context = raw.get("context", {})
    if not isinstance(context, dict) or not all(isinstance(v, str) for v in context.values()):
        raise ConsoleInputError('"context" must be an object of text values')
    return FormSubmission(raw["form"], dict(values), dict(context))


USAGE = (
    "Type a message and press Enter. A number presses a button of the last reply, as long as nothing "
    "came in since. /quit, Ctrl-D or Ctrl-C leaves."
)
STALE_BUTTON = "console:stale"  # what a number no button answers to is sent as (the core: "expired")
_ISOLATES = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069"))  # LRI, RLI, FSI, PDI


class ConsoleAdapter:
    """Speaks to demo people on the terminal; `send` prints deliveries addressed to them.

    Interactive, a number presses a button of the latest reply that had buttons, and only while no
    other message came in since (a stale number is answered as an expired button); attachments are
    written to `exports_dir` and their path printed; bidi isolate marks are left out unless `rtl`
    (most terminals show them as boxes).
    """

    platform = PLATFORM

    def __init__(
        self,
        handle: Handle,
        out: TextIO = sys.stdout,
        err: TextIO = sys.stderr,
        *,
        jsonl: bool = True,
        addressed: bool = False,
        clock: Clock | None = None,
        on_clock: Callable[[datetime], Awaitable[str | None]] | None = None,
        exports_dir: Path | None = None,
        rtl: bool = False,
        speaker: str | None = None,
    ) -> None:
        self._handle = handle
        self._out = out
        self._err = err
        self._jsonl = jsonl
        self._addressed = addressed  # name the recipient in the human format (several people talking)
        self._clock = clock or SystemClock()
        self._on_clock = on_clock  # moves the simulated clock; returns an error, or None
        self._exports_dir = exports_dir
        self._rtl = rtl
        self._buttons: list[str] = []
        self._fresh = False  # the buttons belong to the last message shown
        self._prompt: str | None = None  # shown now, waiting for a line
        self._speaker = speaker  # who types at this terminal (interactive): others' messages are summed up

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def healthy(self) -> bool:
        return True

    async def send(self, chat_id: str, reply: Reply) -> str:
        if self._jsonl:
            record = reply_record(chat_id, reply, self._clock.now())
            self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            self._print_interactive(chat_id, reply)
        self._out.flush()
        return f"{chat_id}:{id(reply)}"

    async def run(
        self,
        readline: Callable[[], str] | None = None,
        *,
        greet_as: str | None = None,
        speaker: str | None = None,
        defaults: dict[str, Any] | None = None,
        after_each: Callable[[], Awaitable[None]] | None = None,
        prompt: str | None = None,
    ) -> int:
        """Process input lines in order until end of input; returns the number of bad lines.

        `greet_as` sends `/start` for that person first (the interactive terminal) and speaks as them;
        `speaker` speaks as that person without the greeting (piped input); `defaults` sets the
        language hint and staff vouch of plain-text lines; in the human format a number presses a
        button of the last reply. `after_each` runs after every line (the simulated clock's deliveries).
        `prompt` is written when the console waits for the next line, after the replies to the last.
        Lines are read on a daemon thread, so Ctrl-C (KeyboardInterrupt) leaves at once, even while the
        terminal waits for a line.
        """
        lines = _LineReader(readline or sys.stdin.readline)
        errors = number = 0
        self._speaker = self._speaker or greet_as or speaker
        if greet_as is not None:
            await self._process(
                Incoming.from_text(
                    PLATFORM, greet_as, greet_as, "/start", display_name=greet_as, **(defaults or {})
                )
            )
        while True:
            if prompt is not None:
                self._out.write(prompt)
                self._out.flush()
                self._prompt = prompt
            line = await lines.next()
            self._prompt = None
            if line == "" or (not self._jsonl and line.strip() in ("/quit", "/exit")):
                return errors
            number += 1
            try:
                parsed = self._parse(line, greet_as or speaker or DEMO_PERSON, defaults or {})
                if isinstance(parsed, ClockLine):
                    problem = (
                        await self._on_clock(parsed.moment)
                        if self._on_clock is not None
                        else "a clock line needs --simulated-clock"
                    )
                    if problem is not None:
                        raise ConsoleInputError(problem)
                    continue
            except ConsoleInputError as error:
                errors += 1
                self._err.write(f"line {number}: {error}\n")
                self._err.flush()
                continue
            if parsed is not None:
                await self._process(parsed)
            if after_each is not None:
                await after_each()

    def _parse(self, line: str, name: str, defaults: dict[str, Any]) -> Incoming | ClockLine | None:
        stripped = line.strip()
        if self._jsonl or stripped.startswith(("{", "[")):
            return parse_line(line)
        if not stripped:
            return None
        if not _storable(stripped):
            raise ConsoleInputError("that line holds characters that cannot be stored")
        extra: dict[str, Any] = {"display_name": name, **defaults}
        fresh, self._fresh = self._fresh, False  # whatever is typed now, the buttons shown are spent
        if stripped.isdigit() and 1 <= int(stripped) <= len(self._buttons):
            payload = self._buttons[int(stripped) - 1] if fresh else STALE_BUTTON
            return Incoming(PLATFORM, name, name, button=payload, **extra)
        return Incoming.from_text(PLATFORM, name, name, stripped, **extra)

    async def _process(self, incoming: Incoming) -> None:
        for reply in await self._handle(incoming):
            if reply.text or reply.attachments or reply.form:
                await self.send(incoming.chat_id, reply)

    def _print_interactive(self, chat_id: str, reply: Reply) -> None:
        prompt = self._prompt
        if prompt is not None:  # a delivery while the prompt waits: print over it, then show it again
            self._out.write("\r" + " " * len(prompt) + "\r")
        self._print_reply(chat_id, reply)
        if prompt is not None:
            self._out.write(prompt)

    def _print_reply(self, chat_id: str, reply: Reply) -> None:
        text = plain_text(reply)
        if not self._rtl:
            text = text.translate(_ISOLATES)
        if self._speaker is not None and chat_id != self._speaker:
            # Someone else's message (a demo peer's invitation): one line, and their buttons are theirs.
            head, _, rest = text.strip().partition("\n")
            more = f" (+{rest.count(chr(10)) + 1} lines)" if rest.strip() else ""
            self._out.write(f"bot> [to {chat_id}] {head[:120]}{more}\n")
            return
        target = f"[to {chat_id}] " if self._addressed else ""
        body = text.replace("\n", "\n     ")
        self._out.write(f"bot> {target}{body}\n")
        payloads = [b.payload for b in reply.buttons if b.payload]
        if payloads:
            self._buttons = payloads
            self._fresh = True
            labels = [
                b.label if self._rtl else b.label.translate(_ISOLATES) for b in reply.buttons if b.payload
            ]
            self._out.write("     " + "  ".join(f"[{i}] {label}" for i, label in enumerate(labels, 1)) + "\n")
        else:
            self._fresh = False  # another message came in: the older buttons are no longer "the last"
        for button in reply.buttons:
            if button.url:
                self._out.write(f"     {button.label}: {button.url}\n")
        for attachment in reply.attachments:
            self._out.write(f"     {self._saved(attachment)}\n")
        self._out.write("\n")

    def _saved(self, attachment: Attachment) -> str:
        """Write an attachment under `exports_dir` (a name that never overwrites) and say where."""
        if self._exports_dir is None:
            return f"(attachment: {attachment.filename}, {len(attachment.content)} bytes)"
        self._exports_dir.mkdir(parents=True, exist_ok=True)
        stamp = self._clock.now().strftime("%Y%m%d-%H%M%S")
        safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in attachment.filename) or "file"
        path = self._exports_dir / f"{stamp}-{safe}"
        counter = 1
        while path.exists():
            counter += 1
            path = self._exports_dir / f"{stamp}-{counter}-{safe}"
        path.write_bytes(attachment.content)
        return f"(file saved: {path}, {len(attachment.content)} bytes)"


class _LineReader:
    """Lines from a blocking `readline`, read on a daemon thread: the event loop never waits on it, and
    a process leaving (Ctrl-C) never waits for the terminal to give a line."""

    def __init__(self, readline: Callable[[], str]) -> None:
        self._readline = readline
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._started = False

    async def next(self) -> str:
        if not self._started:
            self._started = True
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._pump, args=(loop,), name="console-input", daemon=True).start()
        return await self._queue.get()

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                line = self._readline()
            except (EOFError, OSError, ValueError):
                line = ""
            try:
                loop.call_soon_threadsafe(self._queue.put_nowait, line)
            except RuntimeError:  # the loop closed: the console is leaving
                return
            if line == "":
                return
