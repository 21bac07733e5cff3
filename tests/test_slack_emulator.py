"""The Slack emulator behaves as Slack does for the real slack_sdk client and for slack-bolt."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request import payload_utils
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.emulators import slack_payloads as payloads
from tests.emulators.slack import ManualClock, SlackEmulator

STAFF_CHANNEL = "C0STAFF01"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MODAL = {
    "type": "modal",
    "callback_id": "announce_modal",
    "title": {"type": "plain_text", "text": "New announcement"},
    "blocks": [],
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emu(clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(clock=clock) as emulator:
        emulator.add_user("U0STAFF01", "amira.haddad", "Amira Haddad", tz="Asia/Amman")
        emulator.add_channel(STAFF_CHANNEL, "scn-staff", members=["U0STAFF01", "U0SCNBOT1"])
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=emu.bot_token, base_url=emu.base_url)


async def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


async def test_auth_test_names_the_bot(emu: SlackEmulator, client: AsyncWebClient) -> None:
    assert emu.base_url.startswith("http://127.0.0.1:") and emu.base_url.endswith("/api/")
    answer = await client.auth_test()
    assert (answer["user_id"], answer["team_id"]) == ("U0SCNBOT1", "T0SCN0001")


async def test_post_update_and_thread_replies(emu: SlackEmulator, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel=STAFF_CHANNEL, text="Sending to 120 cities")
    reply = await client.chat_postMessage(
        channel=STAFF_CHANNEL, thread_ts=parent["ts"], text="40 delivered", reply_broadcast=True
    )
    assert float(reply["ts"]) > float(parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*120 delivered*"}}]
    updated = await client.chat_update(channel=STAFF_CHANNEL, ts=parent["ts"], text="Done", blocks=blocks)
    assert updated["message"]["blocks"] == blocks
    [message, threaded] = emu.messages(STAFF_CHANNEL)
    assert message.text == "Done"
    assert [edit.text for edit in message.edits] == ["Sending to 120 cities"]
    assert threaded.reply_broadcast and threaded.thread_ts == parent["ts"]

    listed = await client.conversations_replies(channel=STAFF_CHANNEL, ts=parent["ts"])
    assert [m["text"] for m in listed["messages"]] == ["Done", "40 delivered"]
    assert listed["messages"][0]["reply_count"] == 1

    missing = await slack_error(client.chat_update(channel=STAFF_CHANNEL, ts="1.000001", text="x"))
    assert missing.response["error"] == "message_not_found"


async def test_wrong_or_absent_token(emu: SlackEmulator) -> None:
    wrong = AsyncWebClient(token="xoxb-not-ours", base_url=emu.base_url)
    error = await slack_error(wrong.chat_postMessage(channel=STAFF_CHANNEL, text="hi"))
    assert (error.response.status_code, error.response["error"]) == (200, "invalid_auth")
    absent = AsyncWebClient(base_url=emu.base_url)
    assert (await slack_error(absent.auth_test())).response["error"] == "not_authed"
    assert emu.messages(STAFF_CHANNEL) == []


async def test_token_and_arguments_in_a_form_body(emu: SlackEmulator) -> None:
    """slack_sdk also sends form bodies, with blocks as JSON text and the token as a field."""
    tokenless = AsyncWebClient(base_url=emu.base_url)
    blocks = json.dumps([{"type": "section", "text": {"type": "plain_text", "text": "Hello"}}])
    await tokenless.api_call(
        "chat.postMessage", data={"token": emu.bot_token, "channel": "#scn-staff", "blocks": blocks}
    )
    [message] = emu.messages(STAFF_CHANNEL)
    assert message.blocks == json.loads(blocks)


@pytest.mark.filterwarnings("ignore:The top-level `text` argument:UserWarning")
async def test_argument_and_content_errors(client: AsyncWebClient) -> None:
    error = await slack_error(client.api_call("chat.postMessage", json={"text": "hi"}))
    assert error.response["error"] == "invalid_arguments"
    assert error.response["response_metadata"]["messages"] == ["[ERROR] missing required field: channel"]
    too_long = client.chat_postMessage(channel=STAFF_CHANNEL, text="a" * 40_001)
    assert (await slack_error(too_long)).response["error"] == "msg_too_long"
    no_text = client.api_call("chat.postMessage", json={"channel": STAFF_CHANNEL})
    assert (await slack_error(no_text)).response["error"] == "no_text"
    bad_blocks = client.chat_postMessage(channel=STAFF_CHANNEL, blocks=[{"text": "no type"}])
    assert (await slack_error(bad_blocks)).response["error"] == "invalid_blocks"
    elsewhere = client.chat_postMessage(channel="C0NOWHERE", text="hi")
    assert (await slack_error(elsewhere)).response["error"] == "channel_not_found"


async def test_views_open_takes_each_fresh_trigger_once(
    emu: SlackEmulator, client: AsyncWebClient, clock: ManualClock
) -> None:
    trigger_id = emu.issue_trigger_id()
    opened = await client.views_open(trigger_id=trigger_id, view=MODAL)
    view_id = opened["view"]["id"]
    assert emu.views[view_id].payload["callback_id"] == "announce_modal" and opened["view"]["hash"]

    for stale in (trigger_id, "123.456.unknown"):
        error = await slack_error(client.views_open(trigger_id=stale, view=MODAL))
        assert error.response["error"] == "invalid_trigger_id"
    expired = emu.issue_trigger_id()
    clock.advance(3.5)
    error = await slack_error(client.views_open(trigger_id=expired, view=MODAL))
    assert error.response["error"] == "invalid_trigger_id"

    await client.views_update(view_id=view_id, view={**MODAL, "blocks": [{"type": "divider"}]})
    assert [update["blocks"] for update in emu.views[view_id].updates] == [[]]
    missing = await slack_error(client.views_update(view_id="V0NOPE", view=MODAL))
    assert missing.response["error"] == "not_found"


async def test_conversations_members_pages_with_cursor(emu: SlackEmulator, client: AsyncWebClient) -> None:
    everyone = [f"U{n:08d}" for n in range(7)]
    emu.add_channel("C0CITIES1", "focal-points", members=everyone)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await client.conversations_members(channel="C0CITIES1", limit=3, cursor=cursor)
        seen += page["members"]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert (seen, pages) == (everyone, 3)
    error = await slack_error(client.conversations_members(channel="C0GONE"))
    assert error.response["error"] == "channel_not_found"


async def test_ratelimited_call_carries_retry_after(emu: SlackEmulator, client: AsyncWebClient) -> None:
    emu.ratelimit_next(1, retry_after=7, method="chat.postMessage")
    error = await slack_error(client.chat_postMessage(channel=STAFF_CHANNEL, text="hi"))
    assert (error.response.status_code, error.response["error"]) == (429, "ratelimited")
    assert error.response.headers["Retry-After"] == "7"
    assert emu.messages(STAFF_CHANNEL) == []


async def test_retry_handler_waits_out_the_limit(emu: SlackEmulator) -> None:
    client = emu.client(retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    emu.ratelimit_next(1, retry_after=1)
    started = time.monotonic()
    await client.chat_postMessage(channel=STAFF_CHANNEL, text="after the wait")
    assert time.monotonic() - started >= 1.0
    assert [call.status for call in emu.calls_to("chat.postMessage")] == [429, 200]


async def test_post_message_limit_per_channel(
    emu: SlackEmulator, client: AsyncWebClient, clock: ManualClock
) -> None:
    emu.add_channel("C0OTHER01", "scn-other")
    for _ in range(emu.post_message_burst):
        await client.chat_postMessage(channel=STAFF_CHANNEL, text="burst")
    error = await slack_error(client.chat_postMessage(channel=STAFF_CHANNEL, text="one too many"))
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "1"
    await client.chat_postMessage(channel="C0OTHER01", text="another channel is not limited")
    clock.advance(1.0)
    await client.chat_postMessage(channel=STAFF_CHANNEL, text="a second later")
    emu.rate_limits = False
    for _ in range(5):
        await client.chat_postMessage(channel=STAFF_CHANNEL, text="limits off")


async def test_faults_on_demand_and_unknown_methods(emu: SlackEmulator, client: AsyncWebClient) -> None:
    emu.error_next("chat.postMessage", "is_archived")
    error = await slack_error(client.chat_postMessage(channel=STAFF_CHANNEL, text="hi"))
    assert error.response["error"] == "is_archived"
    emu.server_error_next(1)
    assert (await slack_error(client.auth_test())).response.status_code == 503
    await client.chat_postMessage(channel=STAFF_CHANNEL, text="healthy again")

    unknown = await slack_error(client.api_call("chat.postMesage"))
    assert unknown.response["error"] == "unknown_method"
    await client.pins_add(channel=STAFF_CHANNEL, timestamp="1.0")
    assert not emu.calls_to("pins.add")[0].implemented


async def test_other_methods(emu: SlackEmulator, client: AsyncWebClient) -> None:
    user = (await client.users_info(user="U0STAFF01", include_locale=True))["user"]
    assert (user["real_name"], user["tz"]) == ("Amira Haddad", "Asia/Amman")
    assert user["locale"] == "en-GB"
    nobody = await slack_error(client.users_info(user="U0NOBODY"))
    assert nobody.response["error"] == "user_not_found"
    info = await client.conversations_info(channel=STAFF_CHANNEL)
    assert info["channel"]["name"] == "scn-staff"

    await client.chat_postEphemeral(channel=STAFF_CHANNEL, user="U0STAFF01", text="only you")
    assert [(e.user, e.text) for e in emu.ephemerals] == [("U0STAFF01", "only you")]
    posted = await client.chat_postMessage(channel=STAFF_CHANNEL, text="Approved")
    link = await client.chat_getPermalink(channel=STAFF_CHANNEL, message_ts=posted["ts"])
    assert link["permalink"].endswith(posted["ts"].replace(".", ""))
    await client.reactions_add(channel=STAFF_CHANNEL, timestamp=posted["ts"], name="eyes")
    assert emu.messages(STAFF_CHANNEL)[0].reactions == {"eyes": ["U0SCNBOT1"]}
    pushed = await client.views_push(trigger_id=emu.issue_trigger_id(), view=MODAL)
    assert emu.views[pushed["view"]["id"]].pushed

    dm = await client.chat_postMessage(channel="U0STAFF01", text="a direct message")
    assert dm["channel"].startswith("D") and emu.messages("U0STAFF01")[0].text == "a direct message"


async def test_wait_for_wakes_on_calls_and_times_out(emu: SlackEmulator, client: AsyncWebClient) -> None:
    with pytest.raises(TimeoutError):
        await emu.wait_for(lambda: bool(emu.messages(STAFF_CHANNEL)), timeout=0.05)
    posting = asyncio.create_task(client.chat_postMessage(channel=STAFF_CHANNEL, text="now"))
    await emu.wait_for(lambda: len(emu.messages(STAFF_CHANNEL)) == 1, timeout=2.0)
    await posting


def test_signature_matches_slack_sdk_verifier() -> None:
    body, _ = payloads.slash_command(text="announce hello")
    now = int(time.time())
    verifier = SignatureVerifier(SIGNING_SECRET)
    assert verifier.is_valid_request(body, payloads.sign(SIGNING_SECRET, body, now))
    assert not verifier.is_valid_request(body, payloads.sign("forged-secret", body, now))
    assert not verifier.is_valid_request(body + b"x", payloads.sign(SIGNING_SECRET, body, now))
    assert not verifier.is_valid_request(body, payloads.sign(SIGNING_SECRET, body, now - 360))


def _bolt_request(built: tuple[bytes, str]) -> AsyncBoltRequest:
    body, content_type = built
    return AsyncBoltRequest(body=body.decode("utf-8"), headers={"content-type": content_type})


def test_builders_parse_in_bolt() -> None:
    command = _bolt_request(payloads.slash_command(text="announce Amman", trigger_id="1.2.3"))
    assert payload_utils.is_slash_command(command.body)
    assert (command.body["command"], command.body["text"]) == ("/scn", "announce Amman")
    assert (command.context.channel_id, command.context.user_id) == (STAFF_CHANNEL, "U0STAFF01")
    assert command.context.response_url is not None and command.body["trigger_id"] == "1.2.3"

    shortcut = _bolt_request(payloads.message_shortcut("forward", "Grant closes Friday", "17.01"))
    assert payload_utils.is_message_shortcut(shortcut.body)
    assert (shortcut.body["callback_id"], shortcut.body["message"]["text"]) == (
        "forward",
        "Grant closes Friday",
    )

    on_message = _bolt_request(payloads.block_actions("approve", "application:7", channel_id="C0X"))
    assert payload_utils.is_block_actions(on_message.body)
    assert on_message.context.channel_id == "C0X"
    assert on_message.body["actions"][0]["value"] == "application:7"
    modal = {"id": "V0M", "type": "modal"}
    in_modal = _bolt_request(payloads.block_actions("pick", "v", view=modal))
    assert in_modal.body["container"] == {"type": "view", "view_id": "V0M"}
    assert in_modal.context.channel_id is None

    values = {"announce_message": {"message_input": {"type": "plain_text_input", "value": "hi"}}}
    submission = _bolt_request(payloads.view_submission("announce_modal", values, '{"c": 1}'))
    assert payload_utils.is_view_submission(submission.body)
    view = submission.body["view"]
    assert (view["callback_id"], view["state"]["values"], view["private_metadata"]) == (
        "announce_modal",
        values,
        '{"c": 1}',
    )

    reply = payloads.load_fixture("event_callback_thread_message")["event"]
    event = _bolt_request(payloads.event_callback(reply, event_id="Ev0SCN000042"))
    assert payload_utils.is_message_event(event.body) and event.body["event_id"] == "Ev0SCN000042"
    assert (event.context.thread_ts, event.context.team_id) == ("1700000600.000200", "T0SCN0001")

    handshake = _bolt_request(payloads.url_verification("c-123"))
    assert (handshake.body["type"], handshake.body["challenge"]) == ("url_verification", "c-123")


async def test_signed_requests_through_a_bolt_app(emu: SlackEmulator) -> None:
    app = AsyncApp(client=emu.client(), signing_secret=SIGNING_SECRET)

    @app.command("/scn")
    async def announce(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel=command["channel_id"], text=f"ok: {command['text']}")

    runner = web.AppRunner(app.web_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        sender = payloads.SlackRequestSender(
            f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events", SIGNING_SECRET
        )
        command = payloads.slash_command(text="announce hello")
        assert (await sender.post(*command, forged=True))[0] == 401
        assert (await sender.post(*command, timestamp=int(time.time()) - 360))[0] == 401
        assert (await sender.post(*payloads.url_verification("c-9")))[1] == '{"challenge": "c-9"}'
        assert (await sender.post(*command))[0] == 200
        await emu.wait_for(lambda: bool(emu.messages(STAFF_CHANNEL)))
        assert [m.text for m in emu.messages(STAFF_CHANNEL)] == ["ok: announce hello"]
    finally:
        await runner.cleanup()
