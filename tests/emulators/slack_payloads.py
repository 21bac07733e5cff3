"""Signed Slack requests as Slack itself would send them to the bot's HTTP endpoint.

Why: staff powers rest on the signature check (guarantee 3), so tests must be able to produce
requests that are byte-for-byte what Slack sends: the same encodings (form fields for slash
commands, ``payload=<json>`` for interactivity, JSON for events) and the same v0 HMAC signature.
Each builder starts from a recorded payload in ``tests/fixtures/slack/`` and changes only the
fields a test names, so the rest of the shape stays realistic.

Promised: ``sign`` matches ``slack_sdk.signature.SignatureVerifier``; every builder returns
``(body_bytes, content_type)`` that slack-bolt's ``AsyncBoltRequest`` parses.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"

_trigger_counter = itertools.count(1)


def load_fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a recorded payload (file name without ``.json``); callers may mutate it."""
    with (FIXTURES_DIR / f"{name}.json").open(encoding="utf-8") as fixture:
        payload: dict[str, Any] = json.load(fixture)
    return payload


def sign(signing_secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Slack's v0 request signature: hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = b"v0:" + str(timestamp).encode("ascii") + b":" + body
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def new_trigger_id() -> str:
    """A trigger id in Slack's shape; unique within the test process."""
    serial = next(_trigger_counter)
    return f"{6201532480000 + serial}.4829104937.{serial:032x}"


def _form(fields: dict[str, str]) -> tuple[bytes, str]:
    return urlencode(fields).encode("utf-8"), FORM_CONTENT_TYPE


def _interactivity(payload: dict[str, Any]) -> tuple[bytes, str]:
    return _form({"payload": json.dumps(payload, separators=(",", ":"), ensure_ascii=False)})


def _json(payload: dict[str, Any]) -> tuple[bytes, str]:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return body, JSON_CONTENT_TYPE


def _user(user_id: str, user_name: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def slash_command(
    command: str = "/scn",
    text: str = "",
    user_id: str = "U0STAFF01",
    user_name: str = "amira.haddad",
    channel_id: str = "C0STAFF01",
    team_id: str = "T0SCN0001",
    trigger_id: str | None = None,
    response_url: str | None = None,
) -> tuple[bytes, str]:
    """A slash command, form-encoded field by field as Slack posts it."""
    fields: dict[str, str] = load_fixture("slash_command_announce")
    fields.update(
        command=command,
        text=text,
        user_id=user_id,
        user_name=user_name,
        channel_id=channel_id,
        team_id=team_id,
        trigger_id=trigger_id or new_trigger_id(),
    )
    if response_url is not None:
        fields["response_url"] = response_url
    return _form(fields)


def message_shortcut(
    callback_id: str,
    message_text: str,
    message_ts: str,
    channel_id: str = "C0STAFF01",
    user_id: str = "U0STAFF01",
    trigger_id: str | None = None,
) -> tuple[bytes, str]:
    """A message shortcut (``message_action``) on a message in a channel."""
    payload = load_fixture("message_action")
    payload.update(callback_id=callback_id, message_ts=message_ts)
    payload["trigger_id"] = trigger_id or new_trigger_id()
    payload["channel"]["id"] = channel_id
    payload["user"]["id"] = user_id
    message = payload["message"]
    message.update(text=message_text, ts=message_ts)
    message["blocks"][0]["elements"][0]["elements"][0]["text"] = message_text
    return _interactivity(payload)


def block_actions(
    action_id: str,
    value: str,
    user_id: str = "U0STAFF01",
    channel_id: str | None = None,
    view: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    trigger_id: str | None = None,
) -> tuple[bytes, str]:
    """A button click, either on a message (the default) or inside a modal when ``view`` is given.

    For a message the container points at ``message["ts"]`` in ``channel_id``; for a modal the
    channel, message and response_url are absent, as in Slack's own payload.
    """
    payload = load_fixture("block_actions")
    payload["user"]["id"] = user_id
    payload["trigger_id"] = trigger_id or new_trigger_id()
    action = payload["actions"][0]
    action.update(action_id=action_id, value=value, action_ts=f"{time.time():.6f}")
    if view is not None:
        for key in ("channel", "message", "response_url"):
            payload.pop(key)
        payload["container"] = {"type": "view", "view_id": view.get("id", "")}
        payload["view"] = view
        return _interactivity(payload)
    if message is not None:
        payload["message"] = copy.deepcopy(message)
    if channel_id is not None:
        payload["channel"]["id"] = channel_id
    payload["container"].update(message_ts=payload["message"]["ts"], channel_id=payload["channel"]["id"])
    return _interactivity(payload)


def view_submission(
    callback_id: str,
    state_values: dict[str, Any],
    private_metadata: str = "",
    user_id: str = "U0STAFF01",
    view_id: str = "V0ANNOUNCE1",
) -> tuple[bytes, str]:
    """A modal's submission with ``state.values`` shaped ``{block_id: {action_id: {...}}}``."""
    payload = load_fixture("view_submission")
    payload["user"]["id"] = user_id
    payload["view"].update(
        id=view_id,
        root_view_id=view_id,
        callback_id=callback_id,
        private_metadata=private_metadata,
        state={"values": copy.deepcopy(state_values)},
    )
    return _interactivity(payload)


def event_callback(
    event: dict[str, Any], team_id: str = "T0SCN0001", event_id: str = "Ev0SCN000001"
) -> tuple[bytes, str]:
    """An Events API envelope around ``event``, as JSON."""
    envelope = load_fixture("event_callback_thread_message")
    envelope.update(
        event=copy.deepcopy(event),
        team_id=team_id,
        context_team_id=team_id,
        event_id=event_id,
        event_time=int(time.time()),
    )
    envelope["authorizations"][0]["team_id"] = team_id
    return _json(envelope)


def url_verification(challenge: str) -> tuple[bytes, str]:
    """The handshake Slack sends when the Events API request URL is saved."""
    payload = load_fixture("url_verification")
    payload["challenge"] = challenge
    return _json(payload)


class SlackRequestSender:
    """Signs and POSTs payloads to a bolt HTTP endpoint, as Slack's servers do.

    ``forged=True`` signs with a wrong secret; an old ``timestamp`` makes a stale request. Both must
    be refused by the endpoint (bolt answers 401).
    """

    def __init__(self, url: str, signing_secret: str) -> None:
        self.url = url
        self.signing_secret = signing_secret

    async def post(
        self, body: bytes, content_type: str, timestamp: int | None = None, forged: bool = False
    ) -> tuple[int, str]:
        """Send one request; returns the HTTP status and the response text."""
        stamp = int(time.time()) if timestamp is None else timestamp
        secret = self.signing_secret + "-forged" if forged else self.signing_secret
        headers = {"Content-Type": content_type, **sign(secret, body, stamp)}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()
