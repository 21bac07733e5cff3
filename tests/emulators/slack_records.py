"""What the Slack emulator records and what tests build it with: the workspace's users and
channels, the bot's messages with their earlier versions, ephemeral messages, modals, every API
call, and ``ManualClock`` for moving time by hand.

Why a module of its own: tests read these records (``messages``, ``calls``, ``views``) while the
server only fills them in; they are plain data with the ``as_api`` views Slack answers with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


class ManualClock:
    """A clock a test moves by hand: ``clock.advance(1.5)``."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class SlackEdit:
    """One earlier version of a message, kept when chat.update replaced it."""

    text: str
    blocks: list[JSON] | None
    replaced_at: float


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str
    blocks: list[JSON] | None
    user: str
    thread_ts: str | None = None
    reply_broadcast: bool = False
    mrkdwn: bool = True
    edits: list[SlackEdit] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)

    def as_api(self, bot_id: str, team_id: str) -> JSON:
        shown: JSON = {
            "type": "message",
            "user": self.user,
            "bot_id": bot_id,
            "text": self.text,
            "ts": self.ts,
            "team": team_id,
        }
        if self.blocks is not None:
            shown["blocks"] = self.blocks
        if self.thread_ts:
            shown["thread_ts"] = self.thread_ts
        if self.edits:
            shown["edited"] = {"user": self.user, "ts": f"{self.edits[-1].replaced_at:.6f}"}
        if self.reactions:
            shown["reactions"] = [
                {"name": name, "users": users, "count": len(users)} for name, users in self.reactions.items()
            ]
        return shown


@dataclass(frozen=True)
class SlackEphemeral:
    channel: str
    user: str
    text: str
    blocks: list[JSON] | None
    thread_ts: str | None
    message_ts: str


@dataclass
class SlackView:
    """A modal as Slack holds it; ``updates`` are its earlier payloads, oldest first."""

    id: str
    payload: JSON
    hash: str
    trigger_id: str
    external_id: str | None = None
    pushed: bool = False
    updates: list[JSON] = field(default_factory=list)

    def as_api(self, team_id: str, app_id: str, bot_id: str) -> JSON:
        return {
            "id": self.id,
            "team_id": team_id,
            "type": self.payload.get("type", "modal"),
            "blocks": self.payload.get("blocks", []),
            "private_metadata": self.payload.get("private_metadata", ""),
            "callback_id": self.payload.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self.hash,
            "title": self.payload.get("title"),
            "clear_on_close": False,
            "notify_on_close": False,
            "close": self.payload.get("close"),
            "submit": self.payload.get("submit"),
            "previous_view_id": None,
            "root_view_id": self.id,
            "app_id": app_id,
            "external_id": self.external_id or "",
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    real_name: str
    tz: str
    is_bot: bool
    locale: str


@dataclass
class SlackChannel:
    id: str
    name: str
    members: list[str]
    is_private: bool = False
    is_im: bool = False


@dataclass(frozen=True)
class RecordedCall:
    method: str
    args: JSON
    token: str | None
    status: int
    response: JSON
    implemented: bool = True
