"""What staff do in Slack: `/scn announce|stats`, the "Announce to cities" shortcut, the announcement
modals, answers to handed-off questions (a reply in the question's thread), and knowledge suggestions.

Every listener checks that the user is staff first; anyone else gets a polite refusal and an audit
entry. The rules live in the core (`bot.domain`); this module only
reads Slack payloads, calls them, and shows the outcome.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters import slack_views as views
from bot.adapters.slack_reports import ThreadReporter, owner_for
from bot.domain import announcements, questions, stats
from bot.domain.announcements import AnnouncementRefused, Audience
from bot.services import Services
from bot.slack_markup import decode_entities, mrkdwn_to_html
from bot.storage.announcements import Announcement, AnnouncementStatus
from bot.storage.audit import AuditEntry

if TYPE_CHECKING:
    from bot.adapters.slack import StaffDirectory

log = logging.getLogger(__name__)
# An announcement still unqueued this long after its confirmation was interrupted by a stop.
RESUME_GRACE = timedelta(minutes=2)
COMMAND = "/scn"
SHORTCUT = "announce_to_cities"
SUGGEST_ACTION = "suggest_kb_entry"
REFUSAL = (
    "Sorry, this is only for the Strong Cities Network Management Unit. If you should have "
    "access, ask to be added to the staff channel."
)
HELP = (
    "`/scn announce [text]`: send an announcement to focal points (with a preview first)\n"
    "`/scn stats`: focal points, questions, deliveries and events this week\n"
    "Shortcut *Announce to cities* on a message in the staff channel announces that message. "
    "Reply in the thread of a forwarded question to answer the focal point."
)


def register(app: AsyncApp, tools: StaffTools) -> None:
    app.command(COMMAND)(tools.command)
    app.shortcut(SHORTCUT)(tools.shortcut)
    app.view(views.COMPOSE)(tools.preview)
    app.view(views.CONFIRM)(tools.confirm)
    app.action(SUGGEST_ACTION)(tools.suggest)
    app.event("message")(tools.thread_reply)


class StaffTools:
    def __init__(
        self,
        services: Services,
        staff: StaffDirectory,
        client: AsyncWebClient,
        staff_channel: str | None,
        reporter: ThreadReporter,
    ) -> None:
        self.services = services
        self.staff = staff
        self.client = client
        self.staff_channel = staff_channel
        self.reporter = reporter
        self._bot_id: str | None = None

    @property
    def _default_language(self) -> str:
        return self.services.catalogs.default_language

    async def _allowed(self, user_id: str, action: str) -> bool:
        """True for staff; otherwise audits the refusal (the caller tells the user)."""
        if await self.staff.is_staff(user_id):
            return True
        log.warning("slack request refused: not staff action=%s", action)
        async with self.services.database.session() as session:
            session.add(
                AuditEntry(
                    at=self.services.clock.now(),
                    person_id=None,
                    platform="slack",
                    action="refused",
                    detail={"user": user_id, "action": action},
                )
            )
        return False

    # ---- /scn -------------------------------------------------------------------------------------
    async def command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        user, text = command.get("user_id", ""), str(command.get("text") or "").strip()
        sub, _, rest = text.partition(" ")
        if not await self._allowed(user, f"command:{sub or 'help'}"):
            await ack(text=REFUSAL)
            return
        if sub == "announce":
            await ack()
            metadata = {"channel": command.get("channel_id", ""), "source": "command"}
            await self._open(command["trigger_id"], await self._compose(metadata, rest))
        elif sub == "stats":
            async with self.services.database.session() as session:
                numbers = await stats.gather(
                    session, self.services.clock.now(), default_language=self._default_language
                )
            await ack(text=stats.as_text(numbers))
        else:
            await ack(text=HELP)

    async def shortcut(self, ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        trigger, user = shortcut["trigger_id"], shortcut.get("user", {}).get("id", "")
        channel = shortcut.get("channel", {}).get("id", "")
        if not await self._allowed(user, "shortcut:announce"):
            await self._open(trigger, views.notice_view("Not available", REFUSAL))
            return
        if self.staff_channel and channel != self.staff_channel:
            note = f"Announce from a message in <#{self.staff_channel}>, the staff channel."
            await self._open(trigger, views.notice_view("Staff channel only", note))
            return
        text = decode_entities(str(shortcut.get("message", {}).get("text") or ""))
        problem = announcements.text_problem(text)
        if problem is not None:
            await self._open(trigger, views.notice_view("Cannot announce this", problem))
            return
        await self._open(trigger, await self._compose({"channel": channel, "source": "shortcut"}, text))

    async def _compose(self, metadata: dict[str, str], text: str) -> views.JSON:
        async with self.services.database.session() as session:
            choices = await announcements.audience_choices(session, default_language=self._default_language)
        return views.compose_view(choices, self.services.catalogs.languages, metadata, text=text)

    async def _open(self, trigger_id: str, view: views.JSON) -> None:
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error"))

    # ---- the modals ---------------------------------------------------------------------------------
    async def preview(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body.get("user", {}).get("id", "")
        if not await self._allowed(user, "announce:preview"):
            await ack(response_action="errors", errors={views.TEXT_BLOCK: REFUSAL})
            return
        text, audience_code, versions = views.read_compose(view.get("state", {}).get("values", {}))
        errors = {views.TEXT_BLOCK: problem} if (problem := announcements.text_problem(text)) else {}
        for code, version in versions.items():
            if version.strip() and (problem := announcements.text_problem(version)):
                errors[f"{views.VERSION_PREFIX}{code}"] = problem
        try:
            audience = Audience.parse(audience_code)
        except AnnouncementRefused as refused:
            errors[views.AUDIENCE_BLOCK] = str(refused)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        metadata = _metadata(view)
        async with self.services.database.session() as session:
            draft = await announcements.save_draft(
                session, self.services.clock.now(), created_by=user, text=text, audience=audience,
                versions=versions, source=str(metadata.get("source") or "command"),
            )  # fmt: skip
            draft.staff_channel = self.staff_channel or str(metadata.get("channel") or "") or None
            counted = await announcements.preview(session, audience, default_language=self._default_language)
            words = await announcements.describe(session, audience)
            draft_id, kept = draft.id, sorted(draft.versions)
        shown = views.html_to_mrkdwn(mrkdwn_to_html(text))
        await ack(response_action="push", view=views.preview_view(draft_id, words, counted, shown, kept))

    async def confirm(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body.get("user", {}).get("id", "")
        if not await self._allowed(user, "announce:confirm"):
            await ack(response_action="update", view=views.notice_view("Not available", REFUSAL))
            return
        raw_id = _metadata(view).get("announcement")
        async with self.services.database.session() as session:
            draft = await session.get(Announcement, int(raw_id)) if isinstance(raw_id, int) else None
            if draft is None or draft.status != AnnouncementStatus.DRAFT.value:
                await ack(response_action="clear")  # already confirmed (a double submit) or unknown
                return
            audience = Audience(draft.audience_kind, draft.audience_value)
            counted = await announcements.preview(session, audience, default_language=self._default_language)
            words = await announcements.describe(session, audience)
        if not counted.can_confirm:
            shown = views.html_to_mrkdwn(mrkdwn_to_html(draft.text))
            await ack(
                response_action="update",
                view=views.preview_view(draft.id, words, counted, shown, sorted(draft.versions)),
            )
            return
        await ack(response_action="clear")
        await self._send(draft.id, user, words)

    async def _send(self, announcement_id: int, user: str, words: str) -> None:
        """Claim the confirmed draft, open the thread and its report, then queue the batch."""
        async with self.services.database.session() as session:
            claimed = await announcements.claim(session, announcement_id, self.services.clock.now())
            if claimed is None:
                return
            channel, text = claimed.staff_channel or self.staff_channel or "", claimed.text
        await self._open_and_queue(announcement_id, channel, text, user, words)

    async def resume_interrupted(self, grace: timedelta = RESUME_GRACE) -> int:
        """Queue announcements confirmed before a stop that were never queued; returns how many."""
        async with self.services.database.session() as session:
            stuck = await announcements.take_interrupted(session, self.services.clock.now(), grace)
            work = []
            for item in stuck:
                words = await announcements.describe(
                    session, announcements.Audience(item.audience_kind, item.audience_value)
                )
                work.append((item.id, item.staff_channel or self.staff_channel or "", item.text,
                             item.created_by, f"{words} (resumed after a restart)"))  # fmt: skip
        for announcement_id, channel, text, user, words in work:
            log.warning("announcement %s was confirmed but not queued: resuming", announcement_id)
            await self._open_and_queue(announcement_id, channel, text, user, words)
        return len(work)

    async def _open_and_queue(
        self, announcement_id: int, channel: str, text: str, user: str, words: str
    ) -> None:
        quoted = "\n".join(f">{line}" for line in views.html_to_mrkdwn(mrkdwn_to_html(text)).split("\n"))
        try:
            parent = await self.client.chat_postMessage(
                channel=channel, text=f"*Announcement* from <@{user}> to {words}:\n{quoted}"
            )
            report = await self.client.chat_postMessage(
                channel=channel, thread_ts=parent["ts"], text="*Delivery report*: queuing…"
            )
        except SlackApiError as error:
            log.error("announcement %s: thread not opened (%s)", announcement_id, error.response.get("error"))
            async with self.services.database.session() as session:
                await announcements.release(session, announcement_id)
            return
        async with self.services.database.session() as session:
            claimed = await session.get(Announcement, announcement_id)
            assert claimed is not None
            progress = await announcements.enqueue(
                session, self.services.outbox, self.services.catalogs, claimed,
                owner=owner_for(channel, parent["ts"]), staff_channel=channel, staff_ts=parent["ts"],
                report_ts=report["ts"],
            )  # fmt: skip
        await self.reporter(progress)

    # ---- questions handed off -----------------------------------------------------------------------
    async def thread_reply(self, event: dict[str, Any]) -> None:
        thread_ts, ts = event.get("thread_ts"), event.get("ts")
        if event.get("subtype") not in (None, "thread_broadcast") or not thread_ts or thread_ts == ts:
            return
        channel, user = str(event.get("channel") or ""), str(event.get("user") or "")
        if event.get("bot_id") or (self.staff_channel and channel != self.staff_channel):
            return
        if not await self._question_thread(channel, str(thread_ts)):
            return
        if not await self._allowed(user, "question:answer"):
            await self._ephemeral(channel, user, REFUSAL)
            return
        text = decode_entities(str(event.get("text") or "")).strip()
        if not text:
            return
        async with self.services.database.session() as session:
            question = await questions.question_for_thread(session, channel, str(thread_ts))
            assert question is not None
            answered = await questions.answer(
                session, self.services.outbox, self.services.catalogs, question,
                answer_html=mrkdwn_to_html(text), answer_text=text, answered_by=user,
                message_ref=str(ts), now=self.services.clock.now(),
            )  # fmt: skip
        if answered is not None and not answered.new:
            return  # Slack delivered the same event again
        if answered is None:
            note, blocks = "This person cannot be reached any more: the answer was not sent.", None
        else:
            note = (
                f"Sent to {answered.person} ({answered.city}) on {answered.platform}, marked as "
                "coming from the team. The question is marked answered."
            )
            blocks = [
                {"type": "section", "text": {"type": "mrkdwn", "text": views.escape(note)}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": SUGGEST_ACTION,
                            "value": str(answered.question_id),
                            "text": {"type": "plain_text", "text": "Suggest for the knowledge base"},
                        }
                    ],
                },
            ]
        await self._post(channel, str(thread_ts), note, blocks)

    async def _question_thread(self, channel: str, thread_ts: str) -> bool:
        """Whether `thread_ts` is a forwarded question's thread: known from the outbox, else read back."""
        async with self.services.database.session() as session:
            if await questions.question_for_thread(session, channel, thread_ts) is not None:
                return True
        try:
            if self._bot_id is None:
                self._bot_id = str((await self.client.auth_test()).get("bot_id") or "")
            replies = await self.client.conversations_replies(channel=channel, ts=thread_ts, limit=1)
        except SlackApiError as error:
            log.warning("thread %s not read: %s", thread_ts, error.response.get("error"))
            return False
        parent = (replies.get("messages") or [{}])[0]
        if not self._bot_id or parent.get("bot_id") != self._bot_id or parent.get("ts") != thread_ts:
            return False
        async with self.services.database.session() as session:
            text = decode_entities(str(parent.get("text") or ""))
            return await questions.adopt_thread(session, text, channel, thread_ts) is not None

    async def suggest(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = body.get("user", {}).get("id", "")
        channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id", "")
        message = body.get("message") or {}
        thread_ts = str(message.get("thread_ts") or message.get("ts") or "")
        if not await self._allowed(user, "question:suggest"):
            await self._ephemeral(channel, user, REFUSAL)
            return
        value = str((body.get("actions") or [{}])[0].get("value") or "")
        async with self.services.database.session() as session:
            suggestion = (
                await questions.suggest_entry(session, int(value), user, self.services.clock.now())
                if value.isdigit()
                else None
            )
            kept = suggestion.id if suggestion is not None else None
        if kept is None:
            await self._ephemeral(channel, user, "There is no answer to suggest for this question yet.")
            return
        await self._post(
            channel,
            thread_ts,
            f"Kept for review as suggested knowledge-base entry #{kept} (by <@{user}>).",
            None,
        )

    async def _post(self, channel: str, thread_ts: str, text: str, blocks: list[Any] | None) -> None:
        try:
            await self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts or None, text=text, blocks=blocks
            )
        except SlackApiError as error:
            log.warning("slack post failed: %s", error.response.get("error"))

    async def _ephemeral(self, channel: str, user: str, text: str) -> None:
        """Tell `user` alone: in the channel if they are in it, else in a direct message."""
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        except SlackApiError as error:
            log.info("ephemeral not posted (%s); writing directly", error.response.get("error"))
        try:
            await self.client.chat_postMessage(channel=user, text=text)
        except SlackApiError as error:
            log.warning("direct message failed: %s", error.response.get("error"))


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
