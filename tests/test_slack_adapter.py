"""The Slack adapter through bolt's own HTTP handling: signatures, who is staff, modals from neutral
forms, field errors, the client, and forged requests from people who are not staff."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack_blocks import BUTTON_ACTION
from bot.adapters.slack_client import choose_mode
from bot.app import BotApp
from bot.config import Settings
from bot.delivery.errors import PermanentFailure, RecipientGone, TransientFailure
from bot.messages import Markup, Reply
from bot.storage.announcements import Announcement
from bot.storage.audit import AuditEntry
from bot.storage.delivery import Delivery
from bot.storage.people import Person, PlatformIdentity
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


def opened_view(bot: RunningBot, index: int = 0) -> dict[str, Any]:
    view = bot.slack.calls_to("views.open")[index].args["view"]
    return json.loads(view) if isinstance(view, str) else view


def announce_values(text: str, audience: str = "all", **versions: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "text": {"value": {"type": "plain_text_input", "value": text}},
        "audience": {"value": {"type": "static_select", "selected_option": {"value": audience}}},
    }
    for code, body in versions.items():
        values[f"text_{code}"] = {"value": {"type": "plain_text_input", "value": body}}
    return values


def announce_metadata() -> str:
    return json.dumps({"form": "announce", "context": {}, "rich": ["text", "text_fr", "text_ar"]})


async def test_forged_and_stale_requests_get_401_and_do_nothing(bot: RunningBot) -> None:
    command = payloads.slash_command(text="stats", user_id=CHANNEL_MEMBER)
    assert (await bot.post(*command, forged=True))[0] == 401
    assert (await bot.post(*command, timestamp=int(time.time()) - 6 * 60))[0] == 401
    assert not bot.slack.calls_to("conversations.members")  # no listener ran
    status, body = await bot.post(*command)
    assert status == 200 and "Focal points" in body


async def test_outsider_is_refused_politely_and_audited(bot: RunningBot) -> None:
    status, body = await bot.post(*payloads.slash_command(text="announce hi", user_id=OUTSIDER))
    assert status == 200 and "only for the Strong Cities Network" in body
    assert not bot.slack.calls_to("views.open")
    trigger = bot.slack.issue_trigger_id()
    shortcut = payloads.message_shortcut(
        "announce_to_cities", "Hello", "1700000200.000100", user_id=OUTSIDER, trigger_id=trigger
    )
    assert (await bot.post(*shortcut))[0] == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.calls_to("views.open")))
    opened = json.dumps(opened_view(bot))
    assert "only for the Strong Cities Network" in opened and "form:announce" not in opened
    async with bot.app.database.session() as session:
        outsider = (await session.scalars(
            select(Person).join(PlatformIdentity).where(PlatformIdentity.external_id == OUTSIDER)
        )).one()  # fmt: skip
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert outsider.role == "guest"
    assert [(e.person_id, e.platform, e.action, e.detail["outcome"]) for e in entries] == [
        (outsider.id, "slack", "command:announce", "refused"),
        (outsider.id, "slack", "command:announce", "refused"),
    ]


@pytest.mark.parametrize("user", [LISTED_STAFF, CHANNEL_MEMBER])
async def test_listed_users_and_staff_channel_members_are_staff(bot: RunningBot, user: str) -> None:
    status, body = await bot.post(*payloads.slash_command(text="help", user_id=user))
    assert status == 200 and "/announce" in body and "/scn" in body
    async with bot.app.database.session() as session:
        role = await session.scalar(
            select(Person.role).join(PlatformIdentity).where(PlatformIdentity.external_id == user)
        )
    assert role == "staff"


async def test_the_bot_itself_is_never_staff_though_it_sits_in_the_staff_channel(bot: RunningBot) -> None:
    status, body = await bot.post(*payloads.slash_command(text="stats", user_id=bot.slack.bot_user_id))
    assert status == 200 and "only for the Strong Cities Network" in body


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
    text = json.loads(body)["text"]
    assert "by status: reachable 2, unreachable 1" in text
    assert "by language: ar 1, es 1, fr 1" in text
    assert "could not answer: 1; handed off to staff: 1; answered by staff: 1" in text
    assert "*Deliveries* by status: sent 1" in text
    assert "*Upcoming events* 0" in text


async def test_a_form_opens_as_a_modal_with_the_audiences_we_have(bot: RunningBot) -> None:
    await add_focal_point(bot.app, "Amina", "ar", ("Amman", "Jordan", "MENA"))
    trigger = bot.slack.issue_trigger_id()
    command = payloads.slash_command(
        text="announce Meeting *moved*", user_id=CHANNEL_MEMBER, trigger_id=trigger
    )
    assert (await bot.post(*command))[0] == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.calls_to("views.open")))
    view = opened_view(bot)
    assert view["callback_id"] == "form:announce" and len(view["title"]["text"]) <= 24
    text_input = next(b for b in view["blocks"] if b.get("block_id") == "text")
    assert text_input["element"]["initial_value"] == "Meeting *moved*"
    assert text_input["element"]["multiline"] is True
    select_element = next(b for b in view["blocks"] if b.get("block_id") == "audience")["element"]
    values = [o["value"] for g in select_element["option_groups"] for o in g["options"]]
    assert values[:4] == ["all", "region:MENA", "country:Jordan", "language:ar"]
    assert values[-1].startswith("city:")
    assert select_element["initial_option"]["value"] == "all"
    assert {b.get("block_id") for b in view["blocks"]} >= {"text_fr", "text_ar"}
    optional = next(b for b in view["blocks"] if b.get("block_id") == "text_fr")
    assert optional["optional"] is True
    assert json.loads(view["private_metadata"])["form"] == "announce"


async def test_field_errors_go_back_as_response_action_errors(bot: RunningBot) -> None:
    sent = payloads.view_submission("form:announce", announce_values("   \n "), announce_metadata(),
                                    user_id=CHANNEL_MEMBER)  # fmt: skip
    answer = await bot.post_json(*sent)
    assert answer["response_action"] == "errors" and "fill in" in answer["errors"]["text"]
    too_long = payloads.view_submission(
        "form:announce", announce_values("fine", fr="y" * 3005), announce_metadata(), user_id=CHANNEL_MEMBER
    )
    answer = await bot.post_json(*too_long)
    assert list(answer["errors"]) == ["text_fr"] and "3,000" in answer["errors"]["text_fr"]
    unknown = payloads.view_submission(
        "form:announce", announce_values("fine", "planet:Mars"), announce_metadata(), user_id=CHANNEL_MEMBER
    )
    answer = await bot.post_json(*unknown)
    assert list(answer["errors"]) == ["audience"]
    async with bot.app.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 0


async def test_a_forged_submission_from_someone_not_staff_is_refused_and_changes_nothing(
    bot: RunningBot,
) -> None:
    await add_focal_point(bot.app, "Amina", "ar", ("Amman", "Jordan", "MENA"))
    forged = payloads.view_submission(
        "form:announce", announce_values("Hi"), announce_metadata(), user_id=OUTSIDER
    )
    answer = await bot.post_json(*forged)
    assert answer["response_action"] == "update"
    assert "only for the Strong Cities Network" in json.dumps(answer["view"])
    draft = await StaffDraft.make(bot)
    press = payloads.block_actions(f"{BUTTON_ACTION}:0", f"announce:send:{draft}", user_id=OUTSIDER,
                                   view={"id": "V0FORGED", "type": "modal"})  # fmt: skip
    assert (await bot.post(*press))[0] == 200
    await bot.slack.wait_for(lambda: bool(bot.slack.calls_to("views.update")))
    async with bot.app.database.session() as session:
        statuses = (await session.scalars(select(Announcement.status))).all()
        refused = (await session.scalars(
            select(AuditEntry.action).where(AuditEntry.detail["outcome"].as_string() == "refused")
        )).all()  # fmt: skip
    assert statuses == ["draft"]
    assert refused == ["form:announce", "button:announce"]
    assert not bot.slack.messages(STAFF_CHANNEL)


class StaffDraft:
    @staticmethod
    async def make(bot: RunningBot) -> int:
        sent = payloads.view_submission("form:announce", announce_values("Hi"), announce_metadata(),
                                        user_id=CHANNEL_MEMBER)  # fmt: skip
        answer = await bot.post_json(*sent)
        assert answer["response_action"] == "update"
        async with bot.app.database.session() as session:
            found = await session.scalar(select(Announcement.id))
        assert found is not None
        return found


async def test_mode_is_socket_with_an_app_token_else_http(app: BotApp) -> None:
    assert choose_mode("xapp-1-A0-1-abc", None) == "socket"
    assert choose_mode("xapp-1-A0-1-abc", "secret") == "socket"
    assert choose_mode(None, "secret") == "http"
    with pytest.raises(ValueError, match="SLACK_APP_TOKEN"):
        choose_mode(None, None)
    adapter = SlackAdapter("xoxb-test", app.handle, app_token="xapp-1-A0-1-abc")
    assert adapter.mode == "socket" and adapter.socket_handler is not None
    assert adapter.socket_handler.app_token == "xapp-1-A0-1-abc"
    assert adapter.socket_handler.app is adapter.app
    with pytest.raises(ValueError, match="web server"):
        SlackAdapter("xoxb-test", app.handle, signing_secret="s")


async def test_send_waits_out_a_429_and_maps_errors(bot: RunningBot) -> None:
    adapter = next(a for a in bot.runtime.adapters if isinstance(a, SlackAdapter))
    bot.slack.ratelimit_next(1, retry_after=0, method="chat.postMessage")
    ts = await adapter.send(STAFF_CHANNEL, Reply("<b>Q</b> &amp; <i>A</i> <x>", markup=Markup.HTML))
    assert [c.status for c in bot.slack.calls_to("chat.postMessage")] == [429, 200]
    assert bot.slack.messages(STAFF_CHANNEL)[-1].ts == ts
    assert bot.slack.messages(STAFF_CHANNEL)[-1].text == "*Q* &amp; _A_ &lt;x&gt;"
    edited = await adapter.send(STAFF_CHANNEL, Reply("second", replaces=ts))
    assert edited == ts and bot.slack.messages(STAFF_CHANNEL)[-1].text == "second"
    threaded = await adapter.send(STAFF_CHANNEL, Reply("under it", thread=ts))
    assert [m.ts for m in bot.slack.messages(STAFF_CHANNEL, ts)] == [ts, threaded]
    bot.slack.error_next("chat.postMessage", "channel_not_found")
    with pytest.raises(RecipientGone):
        await adapter.send("C0GONE", Reply("x"))
    bot.slack.error_next("chat.postMessage", "msg_too_long")
    with pytest.raises(PermanentFailure):
        await adapter.send(STAFF_CHANNEL, Reply("x"))
    bot.slack.server_error_next(1, 503)
    with pytest.raises(TransientFailure):
        await adapter.send(STAFF_CHANNEL, Reply("x"))
