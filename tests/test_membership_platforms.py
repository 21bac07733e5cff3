"""Applying on Telegram through the emulator, reviewed in Slack through signed payloads, and an
invitation opened from its Telegram deep link."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.storage.membership import MembershipApplication
from bot.storage.people import Person
from tests.emulators import slack_payloads as payloads
from tests.emulators.slack import SlackMessage
from tests.people import add_focal_point
from tests.slack_harness import CHANNEL_MEMBER, OUTSIDER, STAFF_CHANNEL, RunningBot
from tests.telegram_harness import TelegramChat


def button_of(message: SlackMessage, label: str) -> dict[str, Any]:
    for block in message.blocks or []:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["text"]["text"] == label:
                return element
    raise AssertionError(f"no button {label!r} in {message.blocks}")


async def apply_on_telegram(bot: RunningBot) -> TelegramChat:
    """Amina applies for Mombasa County, field by field, in Russian, on Telegram."""
    assert bot.telegram is not None
    user = bot.telegram.user(9001, "Amina", language_code="ru")
    chat = TelegramChat(bot.telegram, user)
    await chat.send("/apply")
    first = await chat.expect_reply()
    assert first.text is not None and "1" in first.text  # the first question, in Russian
    for answer in ("Mombasa County", "Кения"):
        await chat.send(answer)
        await chat.expect_reply()
    level = chat.messages()[-1]
    await chat.emulator.press_button(user, level, level.callback_data[3])  # County or district
    await chat.expect_reply()
    for answer in ("1200000", "Amina Yusuf", "Head of cohesion", "not an email"):
        await chat.send(answer)
        await chat.expect_reply()
    assert "@" in (chat.messages()[-1].plain_text or "")  # the email asked again, with an example
    for answer in ("amina@mombasa.go.ke", "To learn from other cities.", "-"):
        await chat.send(answer)
        await chat.expect_reply()
    summary = chat.messages()[-1]
    assert "Mombasa County" in (summary.plain_text or "") and "Кения" in (summary.plain_text or "")
    await chat.emulator.press_button(
        user, summary, summary.callback_data[0]
    )  # send it: the summary is edited
    await chat.emulator.wait_for(lambda: summary.edits != [])
    return chat


async def told(chat: TelegramChat, words: str) -> str:
    """The next message to this chat that says `words`."""
    await chat.emulator.wait_for(
        lambda: any(words in (m.plain_text or "") for m in chat.messages()), timeout=10
    )
    return next(m.plain_text or "" for m in chat.messages() if words in (m.plain_text or ""))


async def test_apply_on_telegram_review_in_slack_and_hear_the_answer(bot: RunningBot) -> None:
    chat = await apply_on_telegram(bot)
    await bot.slack.wait_for(lambda: bool(bot.slack.messages(STAFF_CHANNEL)))
    card = bot.slack.messages(STAFF_CHANNEL)[0]
    assert "Application #1: Mombasa County, Kenya" in card.text and "Amina Yusuf" in card.text
    approve = button_of(card, "Approve")
    message = {"type": "message", "text": card.text, "ts": card.ts}
    # someone not staff presses Approve: refused, nothing changes
    forged = payloads.block_actions(
        approve["action_id"], approve["value"], user_id=OUTSIDER, channel_id=STAFF_CHANNEL, message=message
    )
    assert (await bot.post(*forged))[0] == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.messages(OUTSIDER)))
    async with bot.app.database.session() as session:
        assert (await session.get(MembershipApplication, 1)).status == "pending"  # type: ignore[union-attr]
    press = payloads.block_actions(
        approve["action_id"],
        approve["value"],
        user_id=CHANNEL_MEMBER,
        channel_id=STAFF_CHANNEL,
        message=message,
    )
    assert (await bot.post(*press))[0] == 200
    await bot.slack.wait_for(lambda: "approved by amira.haddad" in card.text, timeout=10)
    assert not card.blocks or "Approve" not in json.dumps(card.blocks)  # decided: no buttons any more
    assert "Mombasa County" in await told(chat, "Mombasa County")
    async with bot.app.database.session() as session:
        amina = await session.scalar(select(Person).where(Person.display_name == "Amina"))
    assert amina is not None and amina.role == "focal_point" and amina.city_id is not None


async def test_declining_in_slack_opens_the_comment_form_as_a_modal(bot: RunningBot) -> None:
    chat = await apply_on_telegram(bot)
    await bot.slack.wait_for(lambda: bool(bot.slack.messages(STAFF_CHANNEL)))
    card = bot.slack.messages(STAFF_CHANNEL)[0]
    decline = button_of(card, "Decline")
    trigger = bot.slack.issue_trigger_id()
    press = payloads.block_actions(
        decline["action_id"],
        decline["value"],
        user_id=CHANNEL_MEMBER,
        channel_id=STAFF_CHANNEL,
        message={"type": "message", "text": card.text, "ts": card.ts},
        trigger_id=trigger,
    )
    assert (await bot.post(*press))[0] == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.calls_to("views.open")))
    view = bot.slack.calls_to("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "form:review"
    values = {
        "comment": {"value": {"type": "plain_text_input", "value": "Please apply as the county, not a ward."}}
    }
    answer = await bot.post_json(
        *payloads.view_submission("form:review", values, view["private_metadata"], user_id=CHANNEL_MEMBER)
    )
    assert answer["response_action"] == "update" and "declined" in json.dumps(answer["view"]), answer
    assert await told(chat, "Please apply as the county, not a ward.")


async def test_an_invitation_deep_link_makes_a_focal_point_on_telegram(bot: RunningBot) -> None:
    assert bot.telegram is not None
    await add_focal_point(bot.app, "existing", "ar", ("Saida", "LB", "MENA"))
    trigger = bot.slack.issue_trigger_id()
    assert (
        await bot.post(*payloads.slash_command(text="invite", user_id=CHANNEL_MEMBER, trigger_id=trigger))
    )[0] == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.calls_to("views.open")))
    view = bot.slack.calls_to("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    city = next(b for b in view["blocks"] if b.get("block_id") == "city")["element"]
    city_id = (city.get("options") or city["option_groups"][0]["options"])[0]["value"]
    values = {
        "city": {"value": {"type": "static_select", "selected_option": {"value": city_id}}},
        "expected_name": {"value": {"type": "plain_text_input", "value": "Rana"}},
    }
    answer = await bot.post_json(
        *payloads.view_submission("form:invite", values, view["private_metadata"], user_id=CHANNEL_MEMBER)
    )
    shown = json.dumps(answer["view"])
    link = f"https://t.me/{bot.telegram.bot_username}?start="
    assert link in shown
    token = shown.split(link)[1].split("\\n")[0].split('"')[0].split(" ")[0]
    user = bot.telegram.user(9100, "Rana", language_code="ar")
    await bot.telegram.send_command(user, "start", args=token)
    [welcome] = await bot.telegram.wait_for_messages(9100, 1)
    assert welcome.plain_text is not None and "Saida, لبنان" in welcome.plain_text  # the country in Arabic
