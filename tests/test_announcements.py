"""Announcements: the audience, the preview, bad input, markup, and delivery through both emulators."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.adapters import slack_views as views
from bot.app import BotApp
from bot.domain import announcements
from bot.domain.announcements import HEADING, MAX_TEXT_LENGTH, Audience
from bot.slack_markup import decode_entities, mrkdwn_to_html
from bot.storage.announcements import Announcement
from bot.storage.delivery import Delivery
from bot.storage.people import City, PlatformIdentity
from tests.emulators import slack_payloads as payloads
from tests.slack_harness import (
    CHANNEL_MEMBER,
    STAFF_CHANNEL,
    RunningBot,
    add_focal_point,
)

LISBON, AMMAN, MOMBASA = (
    ("Lisbon", "Portugal", "Europe"),
    ("Amman", "Jordan", "MENA"),
    ("Mombasa", "Kenya", "Africa"),
)


def compose_values(text: str, audience: str = "all", **versions: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        views.TEXT_BLOCK: {views.TEXT_ACTION: {"type": "plain_text_input", "value": text}},
        views.AUDIENCE_BLOCK: {views.AUDIENCE_ACTION: {"type": "static_select",
                                                       "selected_option": {"value": audience}}},
    }  # fmt: skip
    for code, body in versions.items():
        values[f"{views.VERSION_PREFIX}{code}"] = {
            views.TEXT_ACTION: {"type": "plain_text_input", "value": body}
        }
    return values


async def submit_compose(
    bot: RunningBot, text: str, audience: str = "all", **versions: str
) -> dict[str, Any]:
    metadata = json.dumps({"channel": STAFF_CHANNEL, "source": "command"})
    return await bot.post_json(
        *payloads.view_submission(
            views.COMPOSE, compose_values(text, audience, **versions), metadata, user_id=CHANNEL_MEMBER
        )
    )


async def confirm(bot: RunningBot, preview: dict[str, Any]) -> dict[str, Any]:
    return await bot.post_json(
        *payloads.view_submission(
            views.CONFIRM,
            {},
            preview["view"]["private_metadata"],
            user_id=CHANNEL_MEMBER,
            view_id="V0PREVIEW1",
        )
    )


# ---- the audience ----------------------------------------------------------------------------------
async def test_audience_by_region_country_language_city_skips_others(app: BotApp) -> None:
    await add_focal_point(app, "Ana", "pt", LISBON)
    await add_focal_point(app, "Rui", None, LISBON)  # no stored language: reads the default (en)
    await add_focal_point(app, "Amina", "ar", AMMAN)
    await add_focal_point(app, "Guest", "ar", AMMAN, role="guest")
    blocked = await add_focal_point(app, "Zawadi", "sw", MOMBASA)
    async with app.database.session() as session:
        identity = await session.scalar(
            select(PlatformIdentity).where(PlatformIdentity.chat_id == str(blocked))
        )
        assert identity is not None
        identity.unreachable_at = app.services.clock.now()
        lisbon = await session.scalar(select(City.id).where(City.name == "Lisbon"))

    async def people(raw: str) -> tuple[int, dict[str, int]]:
        async with app.database.session() as session:
            counted = await announcements.preview(session, Audience.parse(raw))
        return counted.people, counted.by_language

    assert await people("all") == (3, {"ar": 1, "en": 1, "pt": 1})
    assert await people("region:Europe") == (2, {"en": 1, "pt": 1})
    assert await people("country:Jordan") == (1, {"ar": 1})
    assert await people("language:en") == (1, {"en": 1})
    assert await people(f"city:{lisbon}") == (2, {"en": 1, "pt": 1})
    assert await people("country:Kenya") == (0, {})  # the only focal point there blocked the bot
    with pytest.raises(announcements.AnnouncementRefused):
        Audience.parse("planet:Mars")


# ---- bad input -------------------------------------------------------------------------------------
async def test_empty_and_over_long_texts_are_refused_with_the_limit_named(bot: RunningBot) -> None:
    answer = await submit_compose(bot, "   \n ")
    assert answer["response_action"] == "errors" and "empty" in answer["errors"][views.TEXT_BLOCK]
    answer = await submit_compose(bot, "x" * (MAX_TEXT_LENGTH + 1))
    assert f"the limit is {MAX_TEXT_LENGTH}" in answer["errors"][views.TEXT_BLOCK]
    answer = await submit_compose(bot, "fine", fr="y" * (MAX_TEXT_LENGTH + 5))
    assert list(answer["errors"]) == ["announce_text_fr"]
    trigger = bot.slack.issue_trigger_id()
    shortcut = payloads.message_shortcut(
        "announce_to_cities", "z" * 5000, "1700000200.000100", user_id=CHANNEL_MEMBER, trigger_id=trigger
    )
    assert (await bot.post(*shortcut))[0] == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.calls_to("views.open")))
    assert f"the limit is {MAX_TEXT_LENGTH}" in json.dumps(bot.slack.calls_to("views.open")[0].args["view"])
    async with bot.app.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 0


async def test_an_audience_of_nobody_shows_0_and_cannot_be_confirmed(bot: RunningBot) -> None:
    await add_focal_point(bot.app, "Amina", "ar", AMMAN, telegram=bot.telegram)
    preview = await submit_compose(bot, "Hello", "country:Atlantis")
    assert preview["response_action"] == "push"
    assert "*0 people*" in json.dumps(preview["view"]) and "submit" not in preview["view"]
    answer = await confirm(bot, preview)  # a forged confirmation of the unconfirmable preview
    assert answer["response_action"] == "update" and "submit" not in answer["view"]
    async with bot.app.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert (await session.scalars(select(Announcement.status))).all() == ["draft"]
    assert not bot.slack.messages(STAFF_CHANNEL)


# ---- markup -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mrkdwn", "telegram_html"),
    [
        ("*Bold* _it_ ~old~ `a<b`", "<b>Bold</b> <i>it</i> <s>old</s> <code>a&lt;b</code>"),
        ("```line *1*\n<tag>```", "<pre>line *1*\n&lt;tag&gt;</pre>"),
        (
            "<https://example.org/?a=1&b=2|the *site*>",
            '<a href="https://example.org/?a=1&amp;b=2">the *site*</a>',
        ),
        ("hi <@U0AB12> and <@U0CD|omar> in <#C0EF|scn-staff> <!here>", "hi  and @omar in #scn-staff "),
        ("*a _b* c_ snake_case_name 2*3*4", "<b>a _b</b> c_ snake_case_name 2*3*4"),
        (
            "<javascript:alert(1)|x> <b>raw</b> & co",
            "&lt;javascript:alert(1)|x&gt; &lt;b&gt;raw&lt;/b&gt; &amp; co",
        ),
    ],
)
def test_slack_markup_becomes_safe_telegram_html(mrkdwn: str, telegram_html: str) -> None:
    assert mrkdwn_to_html(mrkdwn) == telegram_html


def test_slack_entities_are_decoded_once() -> None:
    assert (
        mrkdwn_to_html(decode_entities("a &lt;b&gt; &amp;lt; <https://x.org|x &amp; y>"))
        == 'a &lt;b&gt; &amp;lt; <a href="https://x.org">x &amp; y</a>'
    )


# ---- end to end --------------------------------------------------------------------------------------
async def test_an_announcement_reaches_three_focal_points_in_their_languages(bot: RunningBot) -> None:
    assert bot.telegram is not None
    chats = {
        "fr": await add_focal_point(bot.app, "Marie", "fr", LISBON, telegram=bot.telegram),
        "ar": await add_focal_point(bot.app, "Amina", "ar", AMMAN, telegram=bot.telegram),
        "sw": await add_focal_point(bot.app, "Zawadi", "sw", MOMBASA, telegram=bot.telegram),
    }
    preview = await submit_compose(
        bot,
        "Regional meeting *moved* to <https://scn.org/m|14 March> & more",
        fr="Réunion *déplacée* au 14 mars",
        ar="تم *نقل* الاجتماع",
    )
    assert preview["response_action"] == "push" and preview["view"]["callback_id"] == views.CONFIRM
    assert "reach 3 people" in json.dumps(preview["view"], ensure_ascii=False)
    assert (await confirm(bot, preview)) == {"response_action": "clear"}
    catalogs = bot.app.services.catalogs
    received = {lang: (await bot.telegram.wait_for_messages(chat, 1))[0] for lang, chat in chats.items()}
    assert (
        received["fr"].text
        == f"<b>{catalogs.translator('fr').gettext(HEADING)}</b>\n\nRéunion <b>déplacée</b> au 14 mars"
    )
    assert received["ar"].text is not None and "تم <b>نقل</b> الاجتماع" in received["ar"].text
    assert received["sw"].text is not None and received["sw"].text.endswith(  # no Swahili version: original
        'Regional meeting <b>moved</b> to <a href="https://scn.org/m">14 March</a> &amp; more'
    )
    assert all(m.parse_mode == "HTML" for m in received.values())
    parent = bot.slack.messages(STAFF_CHANNEL)[0]
    assert parent.text.startswith(f"*Announcement* from <@{CHANNEL_MEMBER}> to all focal points")
    await bot.slack.wait_for(lambda: any(t.startswith("*Done:*") for t in bot.thread(parent.ts)))
    thread = bot.thread(parent.ts)
    assert thread[-1] == "*Done:* 3 sent, 0 failed, 0 blocked (of 3).\nNo failures."
    report = bot.slack.messages(STAFF_CHANNEL, parent.ts)[1]
    assert "sent 3" in report.text and "100%" in report.text and report.edits  # edited live
    answer = await confirm(bot, preview)  # confirming again sends nothing more
    assert answer == {"response_action": "clear"}
    async with bot.app.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 3


async def test_the_summary_lists_failures_by_city(bot: RunningBot) -> None:
    assert bot.telegram is not None
    await add_focal_point(bot.app, "Marie", "fr", LISBON, telegram=bot.telegram)
    blocked = await add_focal_point(bot.app, "Amina", "ar", AMMAN, telegram=bot.telegram)
    bot.telegram.block_chat(blocked)
    await confirm(bot, await submit_compose(bot, "Hello"))
    await bot.slack.wait_for(lambda: bool(bot.slack.messages(STAFF_CHANNEL)))  # after the modal closed
    parent = bot.slack.messages(STAFF_CHANNEL)[0]
    await bot.slack.wait_for(lambda: any(t.startswith("*Done:*") for t in bot.thread(parent.ts)))
    assert bot.thread(parent.ts)[-1] == (
        "*Done:* 1 sent, 0 failed, 1 blocked (of 2).\n"
        "*Failures by city:*\n• Amman, Jordan: 0 failed, 1 blocked"
    )


async def test_the_message_shortcut_prefills_the_form_with_the_message(bot: RunningBot) -> None:
    trigger = bot.slack.issue_trigger_id()
    shortcut = payloads.message_shortcut(
        "announce_to_cities",
        "Grant closes &lt;Friday&gt; <https://x.org|here>",
        "1700000200.000100",
        user_id=CHANNEL_MEMBER,
        trigger_id=trigger,
    )
    assert (await bot.post(*shortcut))[0] == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.calls_to("views.open")))
    view = bot.slack.calls_to("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert (
        view["callback_id"] == views.COMPOSE and json.loads(view["private_metadata"])["source"] == "shortcut"
    )
    field = next(b for b in view["blocks"] if b.get("block_id") == views.TEXT_BLOCK)["element"]
    assert field["initial_value"] == "Grant closes <Friday> <https://x.org|here>"
    other = payloads.message_shortcut(
        "announce_to_cities",
        "Hi",
        "1.2",
        channel_id="C0ELSEWHERE",
        user_id=CHANNEL_MEMBER,
        trigger_id=bot.slack.issue_trigger_id(),
    )
    assert (await bot.post(*other))[0] == 200
    await bot.slack.wait_for(lambda: len(bot.slack.calls_to("views.open")) == 2)
    assert "Staff channel only" in json.dumps(bot.slack.calls_to("views.open")[1].args["view"])


async def test_an_announcement_interrupted_before_queueing_is_resumed_once(bot: RunningBot) -> None:
    from datetime import timedelta

    from bot.adapters.slack import SlackAdapter

    assert bot.telegram is not None
    chat = await add_focal_point(bot.app, "Marie", "fr", LISBON, telegram=bot.telegram)
    now = bot.app.services.clock.now()
    async with bot.app.database.session() as session:  # confirmed, then the process stopped
        session.add(Announcement(created_by=CHANNEL_MEMBER, created_at=now, text="Summit *moved*",
                                 status="sending", confirmed_at=now - timedelta(minutes=10),
                                 staff_channel=STAFF_CHANNEL))  # fmt: skip
    slack_adapter = next(a for a in bot.runtime.adapters if isinstance(a, SlackAdapter))
    assert await slack_adapter.tools.resume_interrupted() == 1
    assert await slack_adapter.tools.resume_interrupted() == 0  # taken once, even by several instances
    [received] = await bot.telegram.wait_for_messages(chat, 1)
    assert received.text is not None and received.text.endswith("Summit <b>moved</b>")
    parent = bot.slack.messages(STAFF_CHANNEL)[0]
    assert "resumed after a restart" in parent.text
    await bot.slack.wait_for(lambda: any(t.startswith("*Done:*") for t in bot.thread(parent.ts)))
    assert bot.thread(parent.ts)[-1].startswith("*Done:* 1 sent")
