"""Announcements: the audience, the preview, markup, delivery through both emulators, the live report,
and an announcement interrupted between its confirmation and its queueing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.adapters.slack_blocks import BUTTON_ACTION
from bot.adapters.slack_markup import decode_entities, mrkdwn_to_html
from bot.app import BotApp
from bot.domain import audience as audiences
from bot.domain.announcements import HEADING
from bot.domain.audience import Audience, AudienceError
from bot.storage.announcements import Announcement
from bot.storage.delivery import Delivery
from bot.storage.people import City, PlatformIdentity
from scheduler.jobs import queue_announcements
from tests.emulators import slack_payloads as payloads
from tests.harness import ConsoleChat, StaffChat
from tests.people import add_focal_point
from tests.slack_harness import CHANNEL_MEMBER, STAFF_CHANNEL, RunningBot

LISBON, AMMAN, MOMBASA = (
    ("Lisbon", "Portugal", "Europe"),
    ("Amman", "Jordan", "MENA"),
    ("Mombasa", "Kenya", "Africa"),
)


def values(text: str, audience: str = "all", **versions: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "text": {"value": {"type": "plain_text_input", "value": text}},
        "audience": {"value": {"type": "static_select", "selected_option": {"value": audience}}},
    }
    for code, body in versions.items():
        found[f"text_{code}"] = {"value": {"type": "plain_text_input", "value": body}}
    return found


async def submit(bot: RunningBot, text: str, audience: str = "all", **versions: str) -> dict[str, Any]:
    metadata = json.dumps(
        {"form": "announce", "context": {}, "rich": ["text", *(f"text_{c}" for c in versions)]}
    )
    return await bot.post_json(
        *payloads.view_submission("form:announce", values(text, audience, **versions), metadata,
                                  user_id=CHANNEL_MEMBER, view_id="V0ANNOUNCE1")
    )  # fmt: skip


def buttons(view: dict[str, Any]) -> dict[str, str]:
    """Label -> payload of the buttons in a modal."""
    return {
        element["text"]["text"]: element["value"]
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if "value" in element
    }


async def press_in_modal(bot: RunningBot, payload: str) -> None:
    press = payloads.block_actions(f"{BUTTON_ACTION}:0", payload, user_id=CHANNEL_MEMBER,
                                   view={"id": "V0ANNOUNCE1", "type": "modal"})  # fmt: skip
    before = len(bot.slack.calls_to("views.update"))
    assert (await bot.post(*press))[0] == 200
    await bot.slack.wait_for(lambda: len(bot.slack.calls_to("views.update")) > before)


# ---- the audience ----------------------------------------------------------------------------------
async def test_audience_by_region_country_language_city_skips_others(app: BotApp) -> None:
    await add_focal_point(app, "Ana", "pt", LISBON)
    await add_focal_point(app, "Rui", None, LISBON)  # no stored language: reads the default (en)
    await add_focal_point(app, "Amina", "ar", AMMAN)
    await add_focal_point(app, "Guest", "ar", AMMAN, role="guest")
    blocked = await add_focal_point(app, "Zawadi", "sw", MOMBASA)
    await add_focal_point(app, "Omar", "ar", AMMAN, platform="console")  # a console demo person
    async with app.database.session() as session:
        identity = await session.scalar(
            select(PlatformIdentity).where(PlatformIdentity.chat_id == str(blocked))
        )
        assert identity is not None
        identity.unreachable_at = app.services.clock.now()
        lisbon = await session.scalar(select(City.id).where(City.name == "Lisbon"))

    async def people(raw: str) -> tuple[int, dict[str, int]]:
        async with app.database.session() as session:
            counted = await audiences.reach(session, Audience.parse(raw))
        return counted.people, counted.by_language

    assert await people("all") == (4, {"ar": 2, "en": 1, "pt": 1})
    assert await people("region:Europe") == (2, {"en": 1, "pt": 1})
    assert await people("country:Jordan") == (2, {"ar": 2})
    assert await people("language:en") == (1, {"en": 1})
    assert await people(f"city:{lisbon}") == (2, {"en": 1, "pt": 1})
    assert await people("country:Kenya") == (0, {})  # the only focal point there blocked the bot
    with pytest.raises(AudienceError):
        Audience.parse("planet:Mars")


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
def test_slack_markup_becomes_safe_html(mrkdwn: str, telegram_html: str) -> None:
    assert mrkdwn_to_html(mrkdwn) == telegram_html


def test_slack_entities_are_decoded_once() -> None:
    assert (
        mrkdwn_to_html(decode_entities("a &lt;b&gt; &amp;lt; <https://x.org|x &amp; y>"))
        == 'a &lt;b&gt; &amp;lt; <a href="https://x.org">x &amp; y</a>'
    )


# ---- the console: no Slack at all ----------------------------------------------------------------------
async def test_staff_announce_from_the_console_to_focal_points(app: BotApp) -> None:
    await add_focal_point(app, "marie", "fr", LISBON, platform="console")
    await add_focal_point(app, "amina", "ar", AMMAN, platform="console")
    staff = StaffChat(app)
    await staff.send("/announce")
    form = staff.form()
    assert [f.id for f in form.fields][:2] == ["text", "audience"] and form.field("text_fr") is not None
    [preview] = await staff.submit(
        "announce", text="Summit <moved>", audience="all", text_fr="Sommet déplacé"
    )
    assert "reach 2 people" in preview.text and "By language: ar 1, fr 1" in preview.text
    assert "Summit &lt;moved&gt;" in preview.text  # plain text is escaped, shown as typed
    [sending] = await staff.press(staff.buttons()["Send to 2"])
    assert "Sending announcement #1 to 2 people" in sending.text
    assert await queue_announcements(app.services) == 1
    assert await queue_announcements(app.services) == 0  # queued once
    async with app.database.session() as session:
        rows = {d.key: d for d in (await session.scalars(select(Delivery))).all()}
    catalogs = app.services.catalogs
    assert rows["announcement:1:console:marie"].payload["text"] == (
        f"<b>{catalogs.translator('fr').gettext(HEADING)}</b>\n\nSommet déplacé"
    )
    assert rows["announcement:1:console:amina"].payload["text"].endswith("Summit &lt;moved&gt;")
    assert rows["announcement:1:post"].recipient == "sara"  # staff without a channel: their own chat
    assert rows["batch:1:report"].thread_key == "announcement:1:post"
    [again] = await staff.press("announce:send:1")
    assert "already been sent" in again.text


async def test_nobody_in_the_audience_cannot_be_confirmed(app: BotApp) -> None:
    staff = StaffChat(app)
    [preview] = await staff.submit("announce", text="Hello", audience="all")
    assert "0 people" in preview.text and "Send to" not in " ".join(staff.buttons())
    [shown] = await staff.press("announce:send:1")  # a forged press of the missing button
    assert "0 people" in shown.text
    async with app.database.session() as session:
        assert (await session.scalars(select(Announcement.status))).all() == ["draft"]


async def test_edit_reopens_the_form_with_what_was_written(app: BotApp) -> None:
    await add_focal_point(app, "marie", "fr", LISBON, platform="console")
    staff = StaffChat(app)
    await staff.submit("announce", text="First try", audience="all")
    await staff.press(staff.buttons()["Edit"])
    assert staff.form().values["text"] == "First try"
    [preview] = await staff.submit("announce", text="Second try", audience="all")
    assert "Second try" in preview.text
    async with app.database.session() as session:
        assert (await session.scalars(select(Announcement.status).order_by(Announcement.id))).all() == [
            "cancelled",
            "draft",
        ]


async def test_an_announcement_interrupted_before_queueing_is_resumed_by_the_scheduler(app: BotApp) -> None:
    """Confirmed, then the process stopped before its batch was built: the scheduler's job resumes it,
    with no Slack adapter running, and only one of two instances takes it."""
    from bot.clock import FakeClock
    from scheduler.jobs import default_jobs
    from scheduler.runner import VirtualScheduler

    clock = app.services.clock
    assert isinstance(clock, FakeClock)
    await add_focal_point(app, "marie", "fr", LISBON, platform="console")
    staff = StaffChat(app)
    await staff.submit("announce", text="Summit moved", audience="all")
    await staff.press(staff.buttons()["Send to 1"])
    async with app.database.session() as session:  # a first job took it, then the process died
        announcement = (await session.scalars(select(Announcement))).one()
        announcement.queue_taken_at = clock.now()
    scheduler = VirtualScheduler(app.services, clock, default_jobs())
    await scheduler.start()  # the grace of the first taker has not passed: left alone
    async with app.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 1  # the staff post
    await scheduler.advance_to(clock.now() + timedelta(minutes=3))
    async with app.database.session() as session:
        keys = set((await session.scalars(select(Delivery.key))).all())
        status = await session.scalar(select(Announcement.status))
    assert "announcement:1:console:marie" in keys and status == "queued"


# ---- Slack and Telegram end to end ---------------------------------------------------------------------
async def test_an_announcement_reaches_three_focal_points_in_their_languages(bot: RunningBot) -> None:
    assert bot.telegram is not None
    chats = {
        "fr": await add_focal_point(bot.app, "Marie", "fr", LISBON, telegram=bot.telegram),
        "ar": await add_focal_point(bot.app, "Amina", "ar", AMMAN, telegram=bot.telegram),
        "sw": await add_focal_point(bot.app, "Zawadi", "sw", MOMBASA, telegram=bot.telegram),
    }
    preview = await submit(
        bot,
        "Regional meeting *moved* to <https://scn.org/m|14 March> & more",
        fr="Réunion *déplacée* au 14 mars",
        ar="تم *نقل* الاجتماع",
    )
    assert preview["response_action"] == "update"
    assert "reach 3 people" in json.dumps(preview["view"], ensure_ascii=False)
    await press_in_modal(bot, buttons(preview["view"])["Send to 3"])
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
    await bot.slack.wait_for(lambda: bool(bot.slack.messages(STAFF_CHANNEL)))
    parent = bot.slack.messages(STAFF_CHANNEL)[0]
    assert parent.text.startswith("*Announcement #1 from amira.haddad to all focal points (3 people):*")
    await bot.slack.wait_for(lambda: any(t.startswith("*Done:") for t in bot.thread(parent.ts)), timeout=10)
    thread = bot.thread(parent.ts)
    assert thread[-1] == "*Done: 3 sent, 0 failed, 0 blocked (of 3).*\nNo failures."
    report = bot.slack.messages(STAFF_CHANNEL, parent.ts)[1]
    await bot.slack.wait_for(lambda: "100%" in report.text, timeout=10)
    assert "sent 3" in report.text and report.text.startswith("*Delivery report (finished)") and report.edits
    await press_in_modal(bot, buttons(preview["view"])["Send to 3"])  # confirming again sends nothing more
    async with bot.app.database.session() as session:
        recipients = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.key.like("announcement:1:telegram:%"))
        )
    assert recipients == 3


async def test_the_summary_lists_failures_by_city(bot: RunningBot) -> None:
    assert bot.telegram is not None
    await add_focal_point(bot.app, "Marie", "fr", LISBON, telegram=bot.telegram)
    blocked = await add_focal_point(bot.app, "Amina", "ar", AMMAN, telegram=bot.telegram)
    bot.telegram.block_chat(blocked)
    preview = await submit(bot, "Hello")
    await press_in_modal(bot, buttons(preview["view"])["Send to 2"])
    await bot.slack.wait_for(lambda: bool(bot.slack.messages(STAFF_CHANNEL)))
    parent = bot.slack.messages(STAFF_CHANNEL)[0]
    await bot.slack.wait_for(lambda: any(t.startswith("*Done:") for t in bot.thread(parent.ts)), timeout=10)
    assert bot.thread(parent.ts)[-1] == (
        "*Done: 1 sent, 0 failed, 1 blocked (of 2).*\nFailures by city:\n• Amman, Jordan: 0 failed, 1 blocked"
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
    assert view["callback_id"] == "form:announce"
    field = next(b for b in view["blocks"] if b.get("block_id") == "text")["element"]
    assert field["initial_value"] == "Grant closes &lt;Friday&gt; <https://x.org|here>"
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


async def test_a_guest_cannot_announce_from_the_console(app: BotApp) -> None:
    [reply] = await ConsoleChat(app, "omar").send("/announce")
    assert "only for the Strong Cities Network" in reply.text and reply.form is None
