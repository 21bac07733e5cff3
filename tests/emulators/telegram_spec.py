"""What the real Bot API accepts: method names, parameter types and Telegram's HTML dialect.

The Telegram emulator must reject exactly what api.telegram.org rejects, so that a bug which
would fail in production fails in tests first. The rules come from the scraped Bot API
description vendored in ``data/bot-api-spec.json``; the error texts imitate Telegram's own
("Bad Request: chat_id is empty", "Bad Request: can't parse entities: ...").

Parameters arrive the way the Bot API server sees them: every top-level value is a string
(form fields, query strings, or JSON values re-serialised), nested objects are JSON text, and
uploaded files are :class:`UploadedFile`. Like the real server, numbers given as strings are
accepted and strings given as numbers are too; anything else of the wrong shape is a 400.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

SPEC_PATH = Path(__file__).parent / "data" / "bot-api-spec.json"

_INTEGER_RE = re.compile(r"\s*[-+]?\d+\s*")
_SCALARS = {"Integer", "Float", "Boolean", "String", "True"}


class BotApiError(Exception):
    """An answer with ``ok: false``; raised anywhere in request handling, rendered by the server."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (the Bot API's ``InputFile``)."""

    field_name: str
    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    description: str


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: tuple[FieldSpec, ...]
    returns: tuple[str, ...]


def _fields(raw: Mapping[str, Any]) -> tuple[FieldSpec, ...]:
    return tuple(
        FieldSpec(f["name"], tuple(f["types"]), bool(f["required"]), f.get("description", ""))
        for f in raw.get("fields", [])
    )


def _missing(field: FieldSpec) -> BotApiError:
    if field.name == "text":
        return bad_request("message text is empty")
    if "InputFile" in field.types:
        return bad_request(f"there is no {field.name} in the request")
    if field.name in ("chat_id", "message_id", "user_id", "callback_query_id"):
        return bad_request(f"{field.name} is empty")
    return bad_request(f'parameter "{field.name}" is required')


class _Mismatch(Exception):
    """A value does not have one of the candidate types; the caller tries the next one."""


class BotApiSpec:
    """The vendored Bot API description, queried case-insensitively as Telegram does."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.version: str = str(document.get("version", ""))
        self._methods = {
            name.lower(): MethodSpec(name, _fields(raw), tuple(raw.get("returns", ["True"])))
            for name, raw in document["methods"].items()
        }
        self._types: dict[str, Mapping[str, Any]] = dict(document["types"])

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> BotApiSpec:
        """Parsed once per path: the spec is read-only and 600 kB of JSON."""
        return _load_spec(path)

    def method(self, name: str) -> MethodSpec | None:
        return self._methods.get(name.lower())

    # -- top-level parameters -------------------------------------------------------------

    def parse_params(
        self,
        method: MethodSpec,
        wire: Mapping[str, str],
        files: Mapping[str, UploadedFile],
    ) -> dict[str, Any]:
        """Typed parameters of one call; raises a 400 :class:`BotApiError` like Telegram would.

        Parameters the method does not define are ignored, as the real server ignores them.
        """
        params: dict[str, Any] = {}
        for field in method.fields:
            raw: str | UploadedFile | None = files.get(field.name, wire.get(field.name))
            if raw is None or raw == "":
                if field.required:
                    raise _missing(field)
                continue
            params[field.name] = self._coerce(field, raw, files)
        return params

    def _coerce(self, field: FieldSpec, raw: str | UploadedFile, files: Mapping[str, UploadedFile]) -> Any:
        if isinstance(raw, UploadedFile):
            if any("InputFile" in t for t in field.types):
                return raw
            raise bad_request(f"{field.name} can't be a file")
        details: list[str] = []
        for type_name in field.types:
            try:
                return self._coerce_wire(type_name, raw, files)
            except _Mismatch as err:
                details.extend([str(err)] if str(err) else [])
        if field.name == "chat_id":
            raise bad_request("chat not found")
        if all(t in _SCALARS for t in field.types):
            wanted = " or ".join(field.types)
            raise bad_request(f'field "{field.name}" must be of type {wanted}')
        if details:
            raise bad_request(f"can't parse {field.name}: {details[0]}")
        raise bad_request(f"can't parse {field.name} JSON object")

    def _coerce_wire(self, type_name: str, raw: str, files: Mapping[str, UploadedFile]) -> Any:
        if type_name == "Integer":
            if not _INTEGER_RE.fullmatch(raw):
                raise _Mismatch
            return int(raw)
        if type_name == "Float":
            try:
                return float(raw)
            except ValueError:
                raise _Mismatch from None
        if type_name in ("Boolean", "True"):
            lowered = raw.strip().lower()
            if lowered not in ("true", "false", "1", "0"):
                raise _Mismatch
            return lowered in ("true", "1")
        if type_name == "String":
            return raw
        if type_name == "InputFile":
            if raw.startswith("attach://") and raw[9:] in files:
                return files[raw[9:]]
            raise _Mismatch
        try:
            value = json.loads(raw)
        except ValueError:
            raise _Mismatch from None
        self.check_value(type_name, value)
        return value

    # -- nested JSON values ----------------------------------------------------------------

    def check_value(self, type_name: str, value: Any, path: str = "") -> None:
        """Raise :class:`_Mismatch` (its text names the offending field) unless ``value`` fits."""
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                raise _Mismatch(f'field "{path or "value"}" must be an Array')
            for index, item in enumerate(value):
                self.check_value(type_name[9:], item, f"{path}[{index}]")
            return
        if type_name == "Integer":
            ok = (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, str) and bool(_INTEGER_RE.fullmatch(value))
            )
        elif type_name == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif type_name in ("Boolean", "True"):
            ok = isinstance(value, bool)
        elif type_name in ("String", "InputFile"):
            ok = isinstance(value, str | int | float) and not isinstance(value, bool)
        else:
            self._check_object(type_name, value, path)
            return
        if not ok:
            raise _Mismatch(f'field "{path or "value"}" must be of type {type_name}')

    def _check_object(self, type_name: str, value: Any, path: str) -> None:
        described = self._types.get(type_name)
        if described is None:  # a type the scrape does not describe: accept any JSON
            return
        if not isinstance(value, dict):
            raise _Mismatch(f'field "{path or type_name}" must be an Object')
        subtypes = described.get("subtypes")
        if subtypes:
            first_error: _Mismatch | None = None
            for subtype in subtypes:
                try:
                    self._check_object(subtype, value, path)
                    return
                except _Mismatch as err:
                    first_error = first_error or err
            raise first_error or _Mismatch(f'field "{path}" is not a {type_name}')
        for field in _fields(described):
            inner = f"{path}.{field.name}" if path else field.name
            if field.name not in value:
                if field.required:
                    raise _Mismatch(f'field "{inner}" is required')
                continue
            errors = []
            for candidate in field.types:
                try:
                    self.check_value(candidate, value[field.name], inner)
                    break
                except _Mismatch as err:
                    errors.append(err)
            else:
                raise errors[0]

    # -- plausible answers for methods the emulator does not model ---------------------------

    def plausible(self, type_name: str, depth: int = 0) -> Any:
        """A minimal value of ``type_name`` with every required field, good enough to de-json."""
        if type_name.startswith("Array of "):
            return []
        scalar = {"Integer": 0, "Float": 0.0, "Boolean": True, "True": True, "String": ""}
        if type_name in scalar:
            return scalar[type_name]
        described = self._types.get(type_name)
        if described is None or depth > 4:
            return {}
        if described.get("subtypes"):
            return self.plausible(described["subtypes"][0], depth + 1)
        result: dict[str, Any] = {}
        for field in _fields(described):
            if field.required:
                fixed = re.search(r'(?:must be|always) [“"]?([a-z_]+)', field.description)
                result[field.name] = fixed.group(1) if fixed else self.plausible(field.types[0], depth + 1)
        return result


@functools.cache
def _load_spec(path: Path) -> BotApiSpec:
    return BotApiSpec(json.loads(path.read_text(encoding="utf-8")))


# -- how parameters arrive -------------------------------------------------------------


async def read_params(request: web.Request) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Query string plus body (JSON, urlencoded or multipart), as the Bot API server reads them:
    top-level JSON values that are not strings become their JSON text."""
    wire: dict[str, str] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return wire, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON encoded request") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON encoded request")
        for key, value in body.items():
            if value is not None:
                wire[key] = value if isinstance(value, str) else json.dumps(value)
    else:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(key, value.filename, value.file.read(), value.content_type)
            else:
                wire[key] = str(value)
    return wire, files


# -- Telegram's HTML dialect ------------------------------------------------------------------

HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTRIBUTE_RE = re.compile(r"""\s+([a-zA-Z-]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")
_TAG_END_RE = re.compile(r"\s*/?>")


def _entities_error(detail: str) -> BotApiError:
    return bad_request(f"can't parse entities: {detail}")


def html_to_plain(text: str) -> str:
    """The text a reader sees for an HTML-formatted message; raises 400 on what Telegram refuses.

    Follows Telegram's parser: only the documented tags, ``&lt; &gt; &amp; &quot;`` and numeric
    entities are decoded (a stray ``&`` stays literal), every tag must be closed in order, and
    ``span`` needs ``class="tg-spoiler"``. Offsets in messages are UTF-8 byte offsets.
    """
    plain: list[str] = []
    open_tags: list[str] = []
    i = 0

    def byte_offset(position: int) -> int:
        return len(text[:position].encode("utf-8"))

    while i < len(text):
        char = text[i]
        if char == "&":
            entity = _ENTITY_RE.match(text, i)
            plain.append(html.unescape(entity.group()) if entity else "&")
            i = entity.end() if entity else i + 1
            continue
        if char != "<":
            plain.append(char)
            i += 1
            continue
        if text.startswith("</", i):
            end = text.find(">", i)
            if end < 0:
                raise _entities_error(f"Unclosed end tag at byte offset {byte_offset(i)}")
            name = text[i + 2 : end].strip().lower()
            if not open_tags:
                raise _entities_error(f"Unexpected end tag at byte offset {byte_offset(i)}")
            if name != open_tags[-1]:
                raise _entities_error(
                    f"Unmatched end tag at byte offset {byte_offset(i)}, expected "
                    f'"</{open_tags[-1]}>", found "</{name}>"'
                )
            open_tags.pop()
            i = end + 1
            continue
        name_match = _TAG_NAME_RE.match(text, i + 1)
        name = name_match.group().lower() if name_match else ""
        if name not in HTML_TAGS:
            raise _entities_error(f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
        position = name_match.end() if name_match else i + 1
        attributes: dict[str, str] = {}
        while attribute := _ATTRIBUTE_RE.match(text, position):
            attributes[attribute.group(1).lower()] = (attribute.group(2) or "").strip("\"'")
            position = attribute.end()
        closing = _TAG_END_RE.match(text, position)
        if closing is None:
            raise _entities_error(f"Unclosed start tag at byte offset {byte_offset(i)}")
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise _entities_error(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(i)}')
        if name == "tg-emoji" and not attributes.get("emoji-id"):
            raise _entities_error("Custom emoji identifier must be non-empty")
        open_tags.append(name)
        i = closing.end()
    if open_tags:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(plain)


def render_plain(text: str, parse_mode: str | None) -> str:
    """Plain text after entity parsing, the length Telegram's 4096-character limit counts."""
    if parse_mode is None or parse_mode == "":
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return html_to_plain(text)
    if mode in ("markdown", "markdownv2"):
        return text  # not modelled: Markdown is kept as sent
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")


def utf16_length(text: str) -> int:
    """Entity offsets and lengths in Telegram count UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
