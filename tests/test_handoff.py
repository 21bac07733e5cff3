"""A question the knowledge base could not answer goes to staff; their answer comes back.

Through Slack (a reply in the question's thread, kept as a thread reply) and from the console
(`/questions`, `/answer <id>`), with the answer kept as a suggested knowledge-base entry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from bot.adapters.slack_blocks import BUTTON_ACTION
from bot.app import BotApp
from bot.domain.questions import ANSWER_HEADING
from bot.storage.audit import AuditEntry
from bot.storage.delivery import Delivery
from bot.storage.questions import KnowledgeSuggestion, Question
from tests.emulators import slack_payloads as payloads
from tests.emulators.slack import SlackMessage
from tests.emulators.telegram import TgUser
from tests.harness import ConsoleChat, StaffChat
from tests.people import add_focal_point
from tests.slack_harness import CHANNEL_MEMBER, OUTSIDER, STAFF_CHANNEL, RunningBot
from tests.telegram_harness import TelegramChat

QUESTION = "Faut-il prévoir un visa pour venir à la réunion de Lisbonne en mars ?"


async def forwarded_question(bot: RunningBot) -> tuple[TelegramChat, SlackMessage]:
    """Marie, focal point for Lisbon, asks in French, the bot is unsure, she sends it to the team."""
    assert bot.telegram is not None
    chat_id = await add_focal_point(
        bot.app, "Marie", "fr", ("Lisbon", "Portugal", "Europe"), telegram=bot.telegram
    )
    chat = TelegramChat(bot.telegram, TgUser(chat_id, "Marie", "fr", None))
    await chat.send(QUESTION)
    unsure = await chat.expect_reply()
    await chat.press(
        unsure, bot.app.services.catalogs.translator("fr").gettext("Send my question to the team")
    )
    await bot.slack.wait_for(lambda: bool(bot.slack.messages(STAFF_CHANNEL)))  # posted by the outbox
    assert bot.runtime.deliveries is not None and await bot.runtime.deliveries.drain(within=5)  # recorded
    return chat, bot.slack.messages(STAFF_CHANNEL)[0]


def thread_reply(parent_ts: str, text: str, ts: str, user: str = CHANNEL_MEMBER) -> tuple[bytes, str]:
    event: dict[str, Any] = {
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "thread_ts": parent_ts,
        "parent_user_id": "U0SCNBOT1",
        "channel": STAFF_CHANNEL,
        "event_ts": ts,
        "channel_type": "channel",
        "team": "T0SCN0001",
    }
    return payloads.event_callback(event, event_id=f"Ev{ts.replace('.', '')}")


async def test_a_staff_reply_in_the_thread_reaches_the_focal_point_as_from_the_team(bot: RunningBot) -> None:
    chat, post = await forwarded_question(bot)
    assert bot.telegram is not None
    assert "Marie" in post.text and "Lisbon, Portugal" in post.text and "French (fr)" in post.text
    assert QUESTION in post.text and "Question #1 from a focal point" in post.text
    answer = "Light rain, bring an umbrella: *see* <https://scn.org/weather|the forecast> &amp; more"
    status, _ = await bot.post(*thread_reply(post.ts, answer, "1800000000.000100"))
    assert status == 200
    messages = await bot.telegram.wait_for_messages(chat.chat_id, chat.seen + 1)
    delivered = messages[-1]
    heading = bot.app.services.catalogs.translator("fr").gettext(ANSWER_HEADING)
    assert delivered.text == (
        f"<b>{heading}</b>\n\nLight rain, bring an umbrella: <b>see</b> "
        '<a href="https://scn.org/weather">the forecast</a> &amp; more'
    )
    async with bot.app.database.session() as session:
        question = (await session.scalars(select(Question))).one()
    assert question.status == "answered" and question.answered_by_id is not None
    assert question.answer_text is not None and question.answer_text.startswith("Light rain")
    await bot.slack.wait_for(lambda: len(bot.slack.messages(STAFF_CHANNEL, post.ts)) == 2)
    confirmation = bot.slack.messages(STAFF_CHANNEL, post.ts)[1]
    assert "Sent to Marie (Lisbon, Portugal) on telegram" in confirmation.text

    # Slack delivers the same event again: nothing is sent twice.
    assert (await bot.post(*thread_reply(post.ts, answer, "1800000000.000100")))[0] == 200
    await bot.post(*payloads.slash_command(text="help", user_id=CHANNEL_MEMBER))  # a request after it
    assert len(bot.telegram.sent_messages(chat.chat_id)) == len(messages)

    # The answer becomes a suggested knowledge-base entry, kept for review.
    button = next(e for b in confirmation.blocks or [] if b["type"] == "actions" for e in b["elements"])
    assert button["action_id"].startswith(BUTTON_ACTION) and button["value"] == "question:suggest:1"
    message = {"type": "message", "text": confirmation.text, "ts": confirmation.ts, "thread_ts": post.ts}
    click = payloads.block_actions(
        button["action_id"],
        button["value"],
        user_id=CHANNEL_MEMBER,
        channel_id=STAFF_CHANNEL,
        message=message,
    )
    assert (await bot.post(*click))[0] == 200
    await bot.slack.wait_for(lambda: len(bot.slack.messages(STAFF_CHANNEL, post.ts)) == 3)
    assert "Kept for review" in bot.slack.messages(STAFF_CHANNEL, post.ts)[2].text
    async with bot.app.database.session() as session:
        suggestion = (await session.scalars(select(KnowledgeSuggestion))).one()
    assert (suggestion.status, suggestion.language, suggestion.question_text) == ("pending", "fr", QUESTION)
    assert (
        suggestion.answer_text.startswith("Light rain")
        and suggestion.suggested_by_id == question.answered_by_id
    )


async def test_a_reply_from_someone_not_staff_is_not_sent_and_is_audited(bot: RunningBot) -> None:
    chat, post = await forwarded_question(bot)
    status, _ = await bot.post(*thread_reply(post.ts, "I'll answer!", "1800000000.000200", user=OUTSIDER))
    assert status == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.messages(OUTSIDER)))  # not in the channel: a DM
    assert "only for the Strong Cities Network" in bot.slack.messages(OUTSIDER)[0].text
    assert bot.telegram is not None and len(bot.telegram.sent_messages(chat.chat_id)) == chat.seen
    async with bot.app.database.session() as session:
        question = (await session.scalars(select(Question))).one()
        refusals = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.detail["outcome"].as_string() == "refused")
            )
        ).all()
    assert question.status == "forwarded"
    assert refusals == ["reply"]


async def test_a_thread_the_outbox_did_not_record_is_read_back_from_slack(bot: RunningBot) -> None:
    """A crash between posting and recording leaves the post unrecorded; its thread still works."""
    chat, post = await forwarded_question(bot)
    async with bot.app.database.session() as session:
        await session.execute(update(Delivery).values(platform_message_id=None))
    assert (await bot.post(*thread_reply(post.ts, "Yes.", "1800000000.000300")))[0] == 200
    assert bot.telegram is not None
    delivered = (await bot.telegram.wait_for_messages(chat.chat_id, chat.seen + 1))[-1]
    assert delivered.text is not None and delivered.text.endswith("\n\nYes.")


async def test_staff_list_and_answer_questions_from_the_console(app: BotApp) -> None:
    await add_focal_point(app, "marie", "fr", ("Lisbon", "Portugal", "Europe"), platform="console")
    marie = ConsoleChat(app, "marie")
    staff = StaffChat(app)
    assert "No question is waiting" in (await staff.send("/questions"))[0].text
    [unsure] = await marie.send(QUESTION)
    await marie.press(
        next(b.payload for b in unsure.buttons if b.payload and b.payload.startswith("ask:")) or ""
    )
    async with app.database.session() as session:  # with no staff channel, staff members are told
        notice = await session.scalar(select(Delivery).where(Delivery.key == "question:1:staff:console:sara"))
    assert notice is not None and "Question #1 from a focal point" in notice.payload["text"]
    [listing] = await staff.send("/questions")
    assert "#1 marie (Lisbon, Portugal), fr: Faut-il prévoir" in listing.text
    await staff.press(staff.buttons()["Answer #1"])
    form = staff.form()
    assert form.id == "answer" and form.values["question"] == "1"
    [bad] = await staff.submit("answer", question="1", text="   ")
    assert bad.form is not None and "text" in bad.form.errors
    [sent] = await staff.submit("answer", question="1", text="It will be <sunny>")
    assert "Sent to marie (Lisbon, Portugal) on console" in sent.text
    [again] = await staff.submit("answer", question="1", text="It will be <sunny>")
    assert "already sent" in again.text
    async with app.database.session() as session:
        answer = (
            await session.scalars(select(Delivery).where(Delivery.key.like("question:1:answer:%")))
        ).one()
        question = (await session.scalars(select(Question))).one()
    assert answer.recipient == "marie" and answer.payload["text"].endswith("It will be &lt;sunny&gt;")
    assert question.status == "answered"
    [nothing] = await staff.send("/answer 99")
    assert "no question #99" in nothing.text
