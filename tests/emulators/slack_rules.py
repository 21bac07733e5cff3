"""How the Slack emulator reads a call and refuses a bad one, shared by every method.

Why a module of its own: Slack answers bad calls in one uniform way (HTTP 200 with ``ok: false``
and an error code, 429 with ``Retry-After``, ``invalid_arguments`` naming the missing fields) and
reads arguments the same way for every method, however slack_sdk sends them.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.emulators.slack_records import JSON

MAX_TEXT_LENGTH = 40_000
MAX_BLOCKS = 50


class Refusal(Exception):
    """Ends a method with Slack's answer to a bad call (HTTP 200 with ok false unless told)."""

    def __init__(
        self, error: str, status: int = 200, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(error)
        self.status, self.headers = status, headers or {}
        self.body: JSON = {"ok": False, "error": error, **extra}


def missing(*names: str) -> Refusal:
    messages = [f"[ERROR] missing required field: {name}" for name in names]
    return Refusal("invalid_arguments", response_metadata={"messages": messages})


def ratelimited(retry_after: int) -> Refusal:
    return Refusal("ratelimited", status=429, headers={"Retry-After": str(retry_after)})


def require(args: JSON, *names: str) -> None:
    """Refuse the call with ``invalid_arguments`` unless every field in ``names`` is given."""
    absent = [name for name in names if args.get(name) in (None, "")]
    if absent:
        raise missing(*absent)


def flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def structured(value: Any, error: str) -> Any:
    """Decode a field that slack_sdk sends as JSON text in form/query bodies (blocks, view)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise Refusal(error) from None


def message_content(args: JSON) -> tuple[str | None, list[JSON] | None]:
    """The text and blocks of a message call, checked as Slack checks them."""
    text = args.get("text")
    text = None if text in (None, "") else str(text)
    blocks = structured(args.get("blocks"), "invalid_blocks") if args.get("blocks") else None
    if blocks is not None:
        if not isinstance(blocks, list) or not 0 < len(blocks) <= MAX_BLOCKS:
            raise Refusal("invalid_blocks")
        for index, block in enumerate(blocks):
            if not isinstance(block, dict) or not isinstance(block.get("type"), str):
                pointer = f"[ERROR] missing required field: type [json-pointer:/blocks/{index}]"
                raise Refusal("invalid_blocks", response_metadata={"messages": [pointer]})
    if text is None and blocks is None and not args.get("attachments"):
        raise Refusal("no_text")
    if text is not None and len(text) > MAX_TEXT_LENGTH:
        raise Refusal("msg_too_long")
    return text, blocks


async def read_arguments(request: web.Request) -> tuple[JSON, str | None]:
    """The call's arguments from query, form or JSON body, and its token from the Authorization
    header or else a ``token`` field."""
    args: JSON = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                posted = await request.json()
            except ValueError:
                posted = None
            if isinstance(posted, dict):
                args.update(posted)
        else:
            form = await request.post()
            args.update({key: value for key, value in form.items() if isinstance(value, str)})
    args = {key: value for key, value in args.items() if value is not None}
    authorization = request.headers.get("Authorization", "")
    header_token = authorization[7:] if authorization.startswith("Bearer ") else None
    body_token = args.pop("token", None)
    return args, header_token or body_token
