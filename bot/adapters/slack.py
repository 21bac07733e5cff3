"""The Slack adapter, on slack-bolt's AsyncApp: where the Management Unit works. It translates only.

Socket Mode when an app token is set (no public URL needed); otherwise HTTP mode, serving signed requests
at `/slack/events` on the shared web server (bolt answers 401 to a bad or stale signature). Every
Slack event becomes an `Incoming` for the dispatcher, which decides what anyone may do:
- `/scn <verb> [args]` is the command `/<verb> [args]` (`/scn` alone is `/help`);
- the "Announce to cities" message shortcut is `/announce <that message>`;
- a modal's submission is a form submission; a button is a button press;
- a reply in a thread under one of the bot's posts is a reply to that post (`Incoming.reply_to`);
- a direct message to the bot is a private text.
The adapter vouches for who is staff (the users in `SLACK_STAFF_USER_IDS` and the human members of
`SLACK_STAFF_CHANNEL`; never a bot, never the bot itself) and renders the replies: a form opens as a
modal, replies to a modal go in the modal, replies to a command are shown only to the person, replies
to a thread go in the thread. `send` is the outbox's way out and maps Slack's errors to the neutral ones.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.adapters.base import MAX_BODY_NESTING, Handle, json_nesting
from bot.adapters.slack_blocks import (
    BUTTON_ACTION,
    FORM_PREFIX,
    field_errors,
    form_view,
    has_buttons,
    message_blocks,
    message_view,
    read_submission,
    reply_to_mrkdwn,
)
from bot.adapters.slack_client import StaffDirectory, choose_mode, neutral_error, web_client
from bot.adapters.slack_markup import decode_entities, mrkdwn_to_html
from bot.adapters.web import WebServer
from bot.config import Settings
from bot.delivery.errors import TransientFailure
from bot.messages import Incoming, Markup, Reply

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
COMMAND = "/scn"
SHORTCUT = "announce_to_cities"
STAFF_CHANNEL_ONLY = "Announce from a message in the staff channel (<#{channel}>)."


def _user(body: dict[str, Any]) -> tuple[str, str]:
    user = body.get("user") or {}
    return str(user.get("id") or ""), str(user.get("username") or user.get("name") or "")


# The envelope fields bolt's middleware and our listeners read before anything is validated, with the
# types Slack sends them in (None is allowed: bolt treats it as absent).
_OBJECTS = frozenset({"event", "view", "message", "previous_message", "container", "state", "item"})
_ID_OR_OBJECT = frozenset({"user", "team", "channel", "enterprise"})
_LISTS_OF_OBJECTS = frozenset({"authorizations", "actions"})
_STRINGS = frozenset({
    "type", "subtype", "token", "id", "team_id", "user_id", "channel_id", "enterprise_id", "api_app_id",
    "trigger_id", "callback_id", "command", "ts", "thread_ts", "response_url", "bot_id", "user_team",
    "event_ts", "action_id", "block_id", "value", "private_metadata", "hash",
})  # fmt: skip
_FLAGS = frozenset({"is_ext_shared_channel", "is_enterprise_install", "is_bot"})
_ENVELOPE_DEPTH = 3  # the envelope, its event or view, their user/team/message: blocks are not read here


def _envelope_ok(document: object, depth: int = 0) -> bool:
    """Whether the envelope's fields have the types Slack sends (see the sets above)."""
    if not isinstance(document, dict):
        return False
    if depth >= _ENVELOPE_DEPTH:
        return True
    for key, value in document.items():
        if value is None:
            continue
        if key in _OBJECTS:
            ok = _envelope_ok(value, depth + 1)
        elif key in _ID_OR_OBJECT:
            ok = isinstance(value, str) or _envelope_ok(value, depth + 1)
        elif key in _LISTS_OF_OBJECTS:
            ok = isinstance(value, list) and all(_envelope_ok(item, depth + 1) for item in value)
        elif key in _STRINGS:
            ok = isinstance(value, str)
        elif key in _FLAGS:
            ok = isinstance(value, bool)
        else:
            continue
        if not ok:
            return False
    return True


def _readable_body(body: bytes, content_type: str) -> bool:
    """Whether bolt can read `body` as Slack sends it: a JSON object (events), or a form whose `payload`,
    if any, is a JSON object (interactivity), with the envelope's fields of the right types. Bolt's
    middleware would raise on anything else (a 500 and an error in the log)."""
    try:
        text = body.decode("utf-8")
        if not text:
            return True
        if content_type == "application/json" or text.startswith("{"):
            return _envelope_ok(json.loads(text))
        form = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" not in text:
            return True
        payload = form.get("payload")
        return payload is None or _envelope_ok(json.loads(payload))
    except (UnicodeDecodeError, ValueError):
        return False


class SlackAdapter:
    platform = PLATFORM

    def __init__(
        self,
        bot_token: str,
        handle: Handle,
        *,
        app_token: str | None = None,
        signing_secret: str | None = None,
        staff_user_ids: frozenset[str] = frozenset(),
        staff_channel: str | None = None,
        base_url: str | None = None,
        web_server: WebServer | None = None,
        path: str = EVENTS_PATH,
    ) -> None:
        self.mode = choose_mode(app_token, signing_secret)
        if self.mode == "http" and web_server is None:
            raise ValueError("Slack HTTP mode needs the web server")
        self.client = web_client(bot_token, base_url)
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret or "", logger=log)
        self.staff = StaffDirectory(self.client, staff_user_ids, staff_channel)
        self.staff_channel = staff_channel
        self._handle = handle
        self.path = path
        self._web = web_server
        self.socket_handler = AsyncSocketModeHandler(self.app, app_token) if self.mode == "socket" else None
        self._running = False
        self.app.command(COMMAND)(self._on_command)
        self.app.shortcut(SHORTCUT)(self._on_shortcut)
        self.app.view(re.compile(f"^{FORM_PREFIX}"))(self._on_submission)
        self.app.action(re.compile(f"^{BUTTON_ACTION}:"))(self._on_button)
        self.app.event("message")(self._on_message)

    @classmethod
    def from_settings(cls, settings: Settings, handle: Handle, web_server: WebServer) -> SlackAdapter:
        def secret(value: Any) -> str | None:
            return value.get_secret_value() if value is not None else None

        token = secret(settings.slack_bot_token)
        if not token:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        return cls(
            token, handle, app_token=secret(settings.slack_app_token),
            signing_secret=secret(settings.slack_signing_secret), staff_user_ids=settings.staff_user_ids,
            staff_channel=settings.slack_staff_channel, base_url=settings.slack_api_base_url,
            web_server=web_server,
        )  # fmt: skip

    async def start(self) -> None:
        await self.staff.learn_self()
        if self.socket_handler is not None:
            await self.socket_handler.connect_async()  # type: ignore[no-untyped-call]
        else:
            assert self._web is not None
            self._web.add_post(self.path, self._http)
        self._running = True
        log.info("slack adapter started mode=%s", self.mode)

    async def stop(self) -> None:
        self._running = False
        if self.socket_handler is not None:
            await self.socket_handler.close_async()  # type: ignore[no-untyped-call]

    async def healthy(self) -> bool:
        return self._running

    # ---- the outbox's way out ---------------------------------------------------------------------
    async def send(self, chat_id: str, reply: Reply) -> str:
        """Post `reply` to a channel or user id (under `reply.thread`, or editing `reply.replaces`);
        returns the message's ts. Raises neutral errors."""
        text = reply_to_mrkdwn(reply)
        blocks = message_blocks([reply])[1] if has_buttons(reply) or reply.replaces else None
        try:
            if reply.replaces:  # the new blocks replace the old ones (buttons of a decided card go)
                await self.client.chat_update(channel=chat_id, ts=reply.replaces, text=text, blocks=blocks)
                return reply.replaces
            answer = await self.client.chat_postMessage(
                channel=chat_id, text=text, blocks=blocks, thread_ts=reply.thread,
                unfurl_links=False, unfurl_media=False,
            )  # fmt: skip
        except SlackApiError as error:
            raise neutral_error(error) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientFailure(f"{type(error).__name__}: {error}") from error
        return str(answer["ts"])

    async def _http(self, request: web.Request) -> web.Response:
        """Bolt checks the signature (401 when bad or stale), acknowledges, and runs the listener. A body
        nested deeper than any Slack payload is refused first (400): parsing it would recurse."""
        body = await request.read()
        if json_nesting(body) > MAX_BODY_NESTING:
            log.warning("slack request body nested deeper than %d levels", MAX_BODY_NESTING)
            return web.Response(status=400)
        if not _readable_body(body, request.content_type):
            log.warning("slack request body is not what Slack sends (%d bytes)", len(body))
            return web.Response(status=400)
        try:
            response = await self.app.async_dispatch(await to_bolt_request(request))
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as error:
            # bolt reads ids from the envelope before any listener runs; a field of the wrong shape
            # (`"authorizations": "x"`) is a body Slack never sends: refused, not a 500 to retry
            log.warning("slack request body could not be read (%s)", type(error).__name__)
            return web.Response(status=400)
        return await to_aiohttp_response(response)

    # ---- events in ------------------------------------------------------------------------------
    async def _incoming(self, user: str, name: str, **fields: Any) -> Incoming:
        vouched = await self.staff.is_staff(user)
        return Incoming(
            PLATFORM, user, fields.pop("chat_id", user), display_name=name, staff_vouched=vouched,
            native_forms=True, markup=Markup.HTML, **fields,
        )  # fmt: skip

    async def _command_incoming(self, user: str, name: str, text: str) -> Incoming:
        verb, _, rest = text.strip().partition(" ")
        verb = verb.lower().lstrip("/") or "help"
        return await self._incoming(
            user, name, command=verb, args=mrkdwn_to_html(decode_entities(rest.strip()))
        )

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        user, name = str(command.get("user_id") or ""), str(command.get("user_name") or "")
        incoming = await self._command_incoming(user, name, str(command.get("text") or ""))
        replies = await self._handle(incoming)
        form = next((r for r in replies if r.form is not None), None)
        if form is not None:
            await ack()
            lead = "\n\n".join(reply_to_mrkdwn(r) for r in replies if r.form is None or r.text)
            await self._open(str(command.get("trigger_id") or ""), form_view(form.form, lead))  # type: ignore[arg-type]
            return
        shown = [r for r in replies if r.text or r.attachments]
        text, blocks = message_blocks(shown)
        await ack(response_type="ephemeral", text=text, blocks=blocks)

    async def _on_shortcut(self, ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        user, name = _user(shortcut)
        trigger = str(shortcut.get("trigger_id") or "")
        channel = str((shortcut.get("channel") or {}).get("id") or "")
        if self.staff_channel and channel != self.staff_channel and await self.staff.is_staff(user):
            note = Reply(STAFF_CHANNEL_ONLY.format(channel=self.staff_channel))
            await self._open(trigger, message_view([note], "Staff channel only"))
            return
        text = decode_entities(str((shortcut.get("message") or {}).get("text") or ""))
        incoming = await self._incoming(user, name, command="announce", args=mrkdwn_to_html(text))
        await self._show_in_new_modal(trigger, await self._handle(incoming))

    async def _on_submission(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        submission = read_submission(view)
        if submission is None:
            await ack()
            return
        user, name = _user(body)
        replies = await self._handle(await self._incoming(user, name, form=submission))
        rejected = next(
            (r.form for r in replies if r.form and r.form.id == submission.form_id and r.form.errors), None
        )
        if rejected is not None:
            await ack(response_action="errors", errors=field_errors(rejected))
            return
        await ack(response_action="update", view=self._view_for(replies))

    async def _on_button(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        payload = str(action.get("value") or "")
        user, name = _user(body)
        view = body.get("view")
        container = body.get("container") or {}
        if view:  # a button inside a modal: its replies replace the modal
            replies = await self._handle(await self._incoming(user, name, button=payload))
            await self._update_view(str(view.get("id") or ""), self._view_for(replies))
            return
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        message = body.get("message") or {}
        ts = str(message.get("ts") or container.get("message_ts") or "")
        thread = str(message.get("thread_ts") or "") or None
        private = bool(container.get("is_ephemeral")) or channel.startswith("D")
        incoming = await self._incoming(
            user, name, button=payload, message_id=ts or None, is_private=private,
            chat_id=user if private else channel,
        )  # fmt: skip
        replies = await self._handle(incoming)
        form = next((r.form for r in replies if r.form is not None), None)
        if form is not None:
            await self._open(str(body.get("trigger_id") or ""), form_view(form))
            return
        shown = [r for r in replies if r.text or r.attachments]
        if not shown:
            return
        if any(r.edit for r in shown) and ts and not container.get("is_ephemeral"):
            text, blocks = message_blocks(shown)
            await self._call(
                "chat.update", self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            )
            return
        public = not private and incoming.staff_vouched is True
        await self._tell(channel, user, shown, thread=thread or (ts if public else None), public=public)

    async def _on_message(self, event: dict[str, Any]) -> None:
        if event.get("subtype") not in (None, "thread_broadcast") or event.get("bot_id"):
            return
        channel, user = str(event.get("channel") or ""), str(event.get("user") or "")
        ts, thread_ts = str(event.get("ts") or ""), str(event.get("thread_ts") or "")
        text = mrkdwn_to_html(decode_entities(str(event.get("text") or "")))
        if not user or user == self.staff.bot_user_id:
            return
        if event.get("channel_type") == "im" and not thread_ts:
            incoming = await self._incoming(user, "", text=text, chat_id=channel, message_id=ts)
            await self._tell(channel, user, await self._handle(incoming), public=True)
            return
        if not thread_ts or thread_ts == ts or (self.staff_channel and channel != self.staff_channel):
            return
        parent = await self._own_post(channel, thread_ts)
        if parent is None:
            return  # a thread under someone else's message: not for the bot
        incoming = await self._incoming(
            user, "", text=text, chat_id=channel, is_private=False, addressed=False, reply_to=thread_ts,
            reply_to_text=parent, message_id=ts,
        )  # fmt: skip
        replies = await self._handle(incoming)
        await self._tell(channel, user, replies, thread=thread_ts, public=incoming.staff_vouched is True)

    async def _own_post(self, channel: str, ts: str) -> str | None:
        """The text of `ts` when it is a post of this bot (read back from Slack), else None."""
        try:
            found = await self.client.conversations_replies(channel=channel, ts=ts, limit=1)
        except SlackApiError as error:
            log.warning("thread %s not read: %s", ts, error.response.get("error"))
            return None
        parent = (found.get("messages") or [{}])[0]
        if not self.staff.bot_id or parent.get("bot_id") != self.staff.bot_id or parent.get("ts") != ts:
            return None
        return decode_entities(str(parent.get("text") or ""))

    # ---- replies out ----------------------------------------------------------------------------
    def _view_for(self, replies: Sequence[Reply]) -> dict[str, Any]:
        form = next((r.form for r in replies if r.form is not None), None)
        if form is not None:
            lead = "\n\n".join(reply_to_mrkdwn(r) for r in replies if r.form is None and r.text)
            return form_view(form, lead)
        return message_view([r for r in replies if r.text or r.attachments] or [Reply("✓")], "Strong Cities")

    async def _show_in_new_modal(self, trigger: str, replies: Sequence[Reply]) -> None:
        await self._open(trigger, self._view_for(replies))

    async def _open(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self._call("views.open", self.client.views_open(trigger_id=trigger_id, view=view))

    async def _update_view(self, view_id: str, view: dict[str, Any]) -> None:
        await self._call("views.update", self.client.views_update(view_id=view_id, view=view))

    async def _tell(
        self, channel: str, user: str, replies: Sequence[Reply], *, thread: str | None = None, public: bool
    ) -> None:
        """Post replies where the person spoke: visibly (staff, in a thread or a DM), else to them alone."""
        shown = [r for r in replies if r.text or r.attachments]
        if not shown:
            return
        text, blocks = message_blocks(shown)
        if public:
            await self._call("chat.postMessage", self.client.chat_postMessage(
                channel=channel, thread_ts=thread, text=text, blocks=blocks))  # fmt: skip
            return
        try:
            await self.client.chat_postEphemeral(
                channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread
            )
            return
        except SlackApiError as error:
            log.info("ephemeral not posted (%s); writing directly", error.response.get("error"))
        await self._call(
            "chat.postMessage", self.client.chat_postMessage(channel=user, text=text, blocks=blocks)
        )

    async def _call(self, method: str, call: Any) -> None:
        try:
            await call
        except SlackApiError as error:
            log.warning("%s failed: %s", method, error.response.get("error"))
