"""The Slack adapter through bolt's own HTTP handling: signatures, who is staff, stats, modes, the client."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.adapters import slack_views as views
from bot.adapters.slack import SlackAdapter, choose_mode
from bot.app import BotApp
from bot.config import Settings
from bot.delivery.errors import PermanentFailure, RecipientGone, TransientFailure
from bot.messages import Markup, Reply
from bot.storage.audit import AuditEntry
from bot.storage.delivery import Delivery
from bot.storage.people import PlatformIdentity
from bot.storage.questions import Question
from tests.emulators import slack_payloads as payloads
from tests.emulators.slack import SlackEmulator
from tests.slack_harness import (
    CHANNEL_MEMBER,
    LISTED_STAFF,
    OUTSIDER,
    STAFF_CHANNEL,
    RunningBot,
    add_focal_point,
    running_platforms,
)


@pytest.fixture
async def bot(app: BotApp, settings: Settings, slack: SlackEmulator) -> AsyncIterator[RunningBot]:
    async with running_platforms(app, settings, slack) as running:
        yield running


async def test_forged_and_stale_requests_get_401_and_do_nothing(bot: RunningBot) -> None:
    command = payloads.slash_command(text="stats", user_id=CHANNEL_MEMBER)
    assert (await bot.post(*command, forged=True))[0] == 401
    assert (await bot.post(*command, timestamp=int(time.time()) - 6 * 60))[0] == 401
    assert not bot.slack.calls_to("conversations.members")  # no listener ran
    status, body = await bot.post(*command)
    assert status == 200 and "Focal points" in body


async def test_outsider_is_refused_politely_and_audited(bot: RunningBot) -> None:
    status, body = await bot.post(*payloads.slash_command(text="announce hi", user_id=OUTSIDER))
    assert status == 200 and "Sorry, this is only for the Strong Cities Network" in body
    assert not bot.slack.calls_to("views.open")
    trigger = bot.slack.issue_trigger_id()
    shortcut = payloads.message_shortcut(
        "announce_to_cities", "Hello", "1700000200.000100", user_id=OUTSIDER, trigger_id=trigger
    )
    assert (await bot.post(*shortcut))[0] == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.calls_to("views.open")))
    opened = json.dumps(bot.slack.calls_to("views.open")[0].args["view"])
    assert "only for the Strong Cities Network" in opened and views.COMPOSE not in opened
    async with bot.app.database.session() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [(e.platform, e.action, e.detail) for e in entries] == [
        ("slack", "refused", {"user": OUTSIDER, "action": "command:announce"}),
        ("slack", "refused", {"user": OUTSIDER, "action": "shortcut:announce"}),
    ]


@pytest.mark.parametrize("user", [LISTED_STAFF, CHANNEL_MEMBER])
async def test_listed_users_and_staff_channel_members_are_staff(bot: RunningBot, user: str) -> None:
    status, body = await bot.post(*payloads.slash_command(text="help", user_id=user))
    assert status == 200 and "/scn announce" in body


async def test_stats_counts_people_questions_and_deliveries(bot: RunningBot) -> None:
    app = bot.app
    await add_focal_point(app, "Amina", "ar", ("Amman", "Jordan", "MENA"))
    await add_focal_point(app, "Luis", "es", ("Bogotá", "Colombia", "Americas"))
    gone_chat = await add_focal_point(app, "Marie", "fr", ("Lyon", "France", "Europe"))
    now = app.services.clock.now()
    async with app.database.session() as session:
        identity = await session.scalar(
            select(PlatformIdentity).where(PlatformIdentity.chat_id == str(gone_chat))
        )
        assert identity is not None
        identity.unreachable_at = now
        session.add_all([
            Question(person_id=identity.person_id, language="fr", text="q1", created_at=now,
                     status="answered", forwarded_at=now, answered_at=now),
            Question(person_id=identity.person_id, language="fr", text="old", status="open",
                     created_at=now - timedelta(days=30)),
            Delivery(key="k1", platform="telegram", recipient="1", payload={}, status="sent",
                     not_before=now, created_at=now, updated_at=now),
        ])  # fmt: skip
    status, body = await bot.post(*payloads.slash_command(text="stats", user_id=LISTED_STAFF))
    assert status == 200
    assert "by status: reachable 2, unreachable 1" in body
    assert "by language: ar 1, es 1, fr 1" in body
    assert "could not answer: 1; handed off to staff: 1; answered by staff: 1" in body
    assert "Deliveries* by status: sent 1" in body
    assert "Upcoming events*: 0 (no events yet)" in body


async def test_announce_opens_the_form_with_the_audiences_we_have(bot: RunningBot) -> None:
    await add_focal_point(bot.app, "Amina", "ar", ("Amman", "Jordan", "MENA"))
    trigger = bot.slack.issue_trigger_id()
    command = payloads.slash_command(
        text="announce Meeting *moved*", user_id=CHANNEL_MEMBER, trigger_id=trigger
    )
    assert (await bot.post(*command))[0] == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.calls_to("views.open")))
    view = bot.slack.calls_to("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == views.COMPOSE
    text_input = next(b for b in view["blocks"] if b.get("block_id") == views.TEXT_BLOCK)
    assert text_input["element"]["initial_value"] == "Meeting *moved*"
    groups = next(b for b in view["blocks"] if b.get("block_id") == views.AUDIENCE_BLOCK)["element"]
    values = [o["value"] for g in groups["option_groups"] for o in g["options"]]
    assert values == ["all", "region:MENA", "country:Jordan", "language:ar", values[-1]]
    assert values[-1].startswith("city:")
    assert {b.get("block_id") for b in view["blocks"]} >= {"announce_text_fr", "announce_text_ar"}


async def test_mode_is_socket_with_an_app_token_else_http(app: BotApp) -> None:
    assert choose_mode("xapp-1-A0-1-abc", None) == "socket"
    assert choose_mode("xapp-1-A0-1-abc", "secret") == "socket"
    assert choose_mode(None, "secret") == "http"
    with pytest.raises(ValueError, match="SLACK_APP_TOKEN"):
        choose_mode(None, None)
    adapter = SlackAdapter("xoxb-test", app.services, app_token="xapp-1-A0-1-abc")
    assert adapter.mode == "socket" and adapter.socket_handler is not None
    assert adapter.socket_handler.app_token == "xapp-1-A0-1-abc"
    assert adapter.socket_handler.app is adapter.app
    with pytest.raises(ValueError, match="web server"):
        SlackAdapter("xoxb-test", app.services, signing_secret="s")


async def test_send_waits_out_a_429_and_maps_errors(bot: RunningBot) -> None:
    adapter = next(a for a in bot.runtime.adapters if isinstance(a, SlackAdapter))
    bot.slack.ratelimit_next(1, retry_after=0, method="chat.postMessage")
    ts = await adapter.send(STAFF_CHANNEL, Reply("<b>Q</b> &amp; <i>A</i> <x>", markup=Markup.HTML))
    assert [c.status for c in bot.slack.calls_to("chat.postMessage")] == [429, 200]
    assert bot.slack.messages(STAFF_CHANNEL)[-1].ts == ts
    assert bot.slack.messages(STAFF_CHANNEL)[-1].text == "*Q* &amp; _A_ &lt;x&gt;"
    bot.slack.error_next("chat.postMessage", "channel_not_found")
    with pytest.raises(RecipientGone):
        await adapter.send("C0GONE", Reply("x"))
    bot.slack.error_next("chat.postMessage", "msg_too_long")
    with pytest.raises(PermanentFailure):
        await adapter.send(STAFF_CHANNEL, Reply("x"))
    bot.slack.server_error_next(1, 503)
    with pytest.raises(TransientFailure):
        await adapter.send(STAFF_CHANNEL, Reply("x"))
