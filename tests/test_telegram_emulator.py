"""The Telegram emulator, driven by the real python-telegram-bot client.

What is promised: PTB works against it unchanged, and it refuses what api.telegram.org refuses
with the statuses PTB turns into the same exceptions (BadRequest, RetryAfter, Forbidden,
NetworkError, Conflict, InvalidToken).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter

from tests.emulators.telegram import TelegramEmulator
from tests.emulators.telegram_limits import TelegramLimits

# PTB 22 warns, even while raising RetryAfter, that retry_after will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emulator:
        yield emulator


def ptb_bot(emu: TelegramEmulator) -> telegram.Bot:
    return telegram.Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url)


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[telegram.Bot]:
    async with ptb_bot(emu) as client:
        yield client


def seconds(err: RetryAfter) -> int:
    value = err.retry_after
    return value if isinstance(value, int) else int(value.total_seconds())


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.upper(), callback_data=d) for d in data]])


async def test_get_me_describes_the_bot(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert (me.username, me.id, me.is_bot) == ("scn_test_bot", emu.bot_id, True)
    assert [c.method for c in emu.calls][:1] == ["getMe"]  # Bot.initialize asked first


async def test_send_message_is_recorded_with_buttons_and_returned_as_message(
    emu: TelegramEmulator, bot: telegram.Bot
) -> None:
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Apply", callback_data="apply"),
                InlineKeyboardButton("Site", url="https://example.org"),
            ]
        ]
    )
    message = await bot.send_message(42, "<b>Welcome</b> &amp; hello", parse_mode="HTML", reply_markup=markup)
    assert message.from_user is not None and message.from_user.id == emu.bot_id
    assert message.text == "Welcome & hello"
    [sent] = emu.sent_messages(42)
    assert (sent.message_id, sent.text, sent.plain_text) == (
        message.message_id,
        "<b>Welcome</b> &amp; hello",
        "Welcome & hello",
    )
    assert sent.buttons == [[("Apply", "apply"), ("Site", "https://example.org")]]


async def test_text_over_4096_characters_is_refused(bot: telegram.Bot) -> None:
    await bot.send_message(42, "x" * 4096)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(43, "x" * 4097)


async def test_callback_data_over_64_bytes_is_refused(bot: telegram.Bot) -> None:
    await bot.send_message(42, "ok", reply_markup=keyboard("é" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(43, "too long", reply_markup=keyboard("a" * 65))


async def test_per_chat_rate_limit_answers_retry_after_from_the_clock() -> None:
    clock = FakeClock()
    limits = TelegramLimits(per_chat_per_second=0.25, per_chat_burst=2)
    async with TelegramEmulator(limits=limits, clock=clock) as emu, ptb_bot(emu) as bot:
        await bot.send_message(42, "one")
        await bot.send_message(42, "two")
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(42, "three")
        assert seconds(refused.value) == 4
        await bot.send_message(7, "another chat has its own budget")
        clock.now += 2.5
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(42, "three")
        assert seconds(refused.value) == 2
        clock.now += 1.5
        await bot.send_message(42, "three")
        assert [m.text for m in emu.sent_messages(42)] == ["one", "two", "three"]


async def test_group_rate_limit_is_twenty_per_minute() -> None:
    clock = FakeClock()
    async with TelegramEmulator(clock=clock) as emu, ptb_bot(emu) as bot:
        group = emu.group(-1001987654321, "Focal points")
        for n in range(20):
            clock.now += 1.0  # stays inside the per-chat budget
            await bot.send_message(group.id, f"notice {n}")
        clock.now += 1.0
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(group.id, "one too many")
        assert seconds(refused.value) == 40  # the first of the 20 was sent at t+1 s
        clock.now += 40
        await bot.send_message(group.id, "one too many")


async def test_fail_next_429_raises_retry_after(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    emu.fail_next(1, status=429, retry_after=7)
    await bot.get_me()  # unscoped faults leave non-sending methods alone
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(42, "hi")
    assert seconds(refused.value) == 7
    await bot.send_message(42, "hi")
    assert [c.status for c in emu.calls if c.method == "sendMessage"] == [429, 200]


async def test_blocked_chat_raises_forbidden(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    emu.block_chat(42)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(42, "hi")
    await bot.send_message(43, "others still receive")
    assert emu.sent_messages(42) == []


async def test_server_error_raises_network_error(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    emu.server_error_next(1, status=502, method="sendMessage")
    with pytest.raises(NetworkError, match="(?i)Bad Gateway"):
        await bot.send_message(42, "hi")
    await bot.send_message(42, "hi")


async def test_dropped_connection_raises_network_error(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    emu.drop_next(1)
    with pytest.raises(NetworkError):
        await bot.send_message(42, "hi")
    assert emu.sent_messages(42) == []
    await bot.send_message(42, "hi")


async def test_long_poll_receives_a_simulated_text_and_offsets_confirm(
    emu: TelegramEmulator, bot: telegram.Bot
) -> None:
    amina = emu.user(5521873604, "Amina", language_code="fr")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await emu.wait_for_poller()
    sent = await emu.send_text(amina, "Bonjour /help @scn_test_bot")
    [update] = await asyncio.wait_for(poll, 5)
    assert update.message is not None and update.message.from_user is not None
    assert update.update_id == sent["update_id"]
    assert update.message.text == "Bonjour /help @scn_test_bot"
    assert update.message.from_user.language_code == "fr"
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [
        ("bot_command", 8, 5),
        ("mention", 14, 13),
    ]
    assert len(await bot.get_updates(timeout=0)) == 1  # not confirmed yet
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert emu.pending_update_count == 0


async def test_second_poller_terminates_the_first(emu: TelegramEmulator) -> None:
    async with ptb_bot(emu) as first, ptb_bot(emu) as second:
        waiting = asyncio.create_task(first.get_updates(timeout=5))
        await emu.wait_for_poller()
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="(?i)terminated by other getUpdates request"):
            await asyncio.wait_for(waiting, 5)


async def test_get_updates_conflicts_while_a_webhook_is_set(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/telegram")
    with pytest.raises(Conflict, match="(?i)webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_webhook_delivery_carries_the_secret_token(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=200 if len(received) == 1 else 500)

    app = web.Application()
    app.router.add_post("/telegram", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/telegram"
        await bot.set_webhook(url, secret_token="scn-Secret_1")
        amina = emu.user(5521873604, "Amina")
        first = await emu.send_text(amina, "hello")
        await emu.send_text(amina, "again")
        assert received[0] == ("scn-Secret_1", first)
        assert [d.status for d in emu.webhook_deliveries] == [200, 500]
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (url, 1)
    finally:
        await runner.cleanup()


async def test_call_listeners_see_each_answered_call_as_it_is_recorded(
    emu: TelegramEmulator, bot: telegram.Bot
) -> None:
    seen: list[tuple[str, int, int | None]] = []
    emu.call_listeners.append(lambda c: seen.append((c.method, c.status, c.params.get("chat_id"))))
    await bot.send_message(42, "hello")
    with pytest.raises(BadRequest):
        await bot.send_message(42, " ")
    assert seen == [("sendMessage", 200, 42), ("sendMessage", 400, 42)]
    assert [m.plain_text for m in emu.sent_messages(42)] == ["hello"] and emu.sent_messages(43) == []


async def test_webhook_listeners_see_each_update_before_it_is_posted(
    emu: TelegramEmulator, bot: telegram.Bot
) -> None:
    received: list[int] = []
    announced: list[tuple[int, int]] = []  # (update_id, updates received by then)

    async def receive(request: web.Request) -> web.Response:
        received.append((await request.json())["update_id"])
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/telegram", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    emu.webhook_listeners.append(lambda update: announced.append((update["update_id"], len(received))))
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/telegram")
        amina = emu.user(5521873604, "Amina")
        first = await emu.send_text(amina, "hello")
        second = await emu.send_text(amina, "again")
        assert announced == [(first["update_id"], 0), (second["update_id"], 1)]
        assert received == [first["update_id"], second["update_id"]]
    finally:
        await runner.cleanup()


async def test_send_document_multipart_upload_is_recorded(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    message = await bot.send_document(42, InputFile(ics, filename="summit.ics"), caption="Summit")
    [sent] = emu.sent_messages(42)
    assert (sent.document_filename, sent.document_bytes, sent.plain_text) == ("summit.ics", ics, "Summit")
    assert message.document is not None and message.document.file_name == "summit.ics"
    downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == ics


async def raw_post(
    emu: TelegramEmulator, method: str, token: str | None = None, **fields: Any
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.base_url}{token or emu.token}/{method}", data=fields) as answer,
    ):
        return answer.status, await answer.json()


async def test_spec_validation_with_raw_requests(emu: TelegramEmulator) -> None:
    assert await raw_post(emu, "sendMesage", chat_id=1, text="x") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    status, body = await raw_post(emu, "sendMessage", text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await raw_post(emu, "sendMessage", chat_id=1)
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body = await raw_post(emu, "editMessageText", chat_id=1, message_id="ten", text="x")
    assert (status, body["description"]) == (400, 'Bad Request: field "message_id" must be of type Integer')
    status, body = await raw_post(
        emu,
        "sendMessage",
        chat_id=1,
        text="x",
        reply_markup='{"inline_keyboard": [[{"callback_data": "a"}]]}',
    )
    assert status == 400 and "inline_keyboard[0][0].text" in body["description"]
    status, body = await raw_post(emu, "getMe", token="1:wrong")
    assert (status, body["description"]) == (401, "Unauthorized")
    assert (await raw_post(emu, "SENDMESSAGE", chat_id=1, text="any case"))[0] == 200
    assert emu.sent_messages(1)[0].text == "any case"


async def test_json_bodies_and_get_query_strings_are_accepted(emu: TelegramEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{emu.base_url}{emu.token}"
        async with session.post(
            f"{url}/sendMessage",
            json={
                "chat_id": 5,
                "text": "json",
                "reply_markup": {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
            },
        ) as answer:
            assert answer.status == 200
        async with session.get(f"{url}/sendMessage", params={"chat_id": 5, "text": "get"}) as a:
            assert a.status == 200
    assert [(m.text, m.buttons) for m in emu.sent_messages(5)] == [("json", [[("Go", "go")]]), ("get", [])]


async def test_malformed_html_is_refused(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(42, "<b>bold <i>both</b></i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match='(?i)Unsupported start tag "div"'):
        await bot.send_message(42, "<div>block</div>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(42, "1 < 2", parse_mode="HTML")


async def test_button_press_and_edit_round_trip(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    amina = emu.user(5521873604, "Amina")
    await bot.send_message(amina.id, "Join the summit?", reply_markup=keyboard("yes", "no"))
    [question] = await emu.wait_for_messages(amina.id, 1)
    await emu.press_button(amina, question, "yes")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.message is not None
    assert query.data == "yes" and query.message.message_id == question.message_id
    await query.answer("Saved")
    await query.edit_message_text("You are registered.")
    assert [a["text"] for a in emu.callback_answers] == ["Saved"]
    assert question.plain_text == "You are registered." and question.reply_markup is None
    assert question.edits[0].plain_text == "Join the summit?"
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await query.edit_message_text("You are registered.")


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
async def test_replayed_fixture_reaches_get_updates_unchanged(
    emu: TelegramEmulator, bot: telegram.Bot, fixture: Path
) -> None:
    recorded = json.loads(fixture.read_text(encoding="utf-8"))
    queued = await emu.send_update(recorded)
    await bot.get_updates(allowed_updates=[])  # PTB de-jsons every fixture
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.base_url}{emu.token}/getUpdates") as answer,
    ):
        [delivered] = (await answer.json())["result"]
    assert delivered == recorded | {"update_id": queued["update_id"]}


async def test_limits_switched_off_allow_fifty_quick_sends() -> None:
    async with TelegramEmulator(limits=TelegramLimits.off(), clock=FakeClock()) as emu, ptb_bot(emu) as bot:
        for n in range(50):
            await bot.send_message(42, f"announcement {n}")
        await bot.send_message(42, "x" * 5000)
    assert len(emu.sent_messages(42)) == 51


async def test_commands_are_kept_per_scope_and_language(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    await bot.set_my_commands([("start", "Start"), ("events", "Events")])
    await bot.set_my_commands([("start", "Commencer")], language_code="fr")
    assert emu.commands[("default", "fr")] == [("start", "Commencer")]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "events"]
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Start-Now", "bad")])
    await bot.delete_my_commands(language_code="fr")
    assert ("default", "fr") not in emu.commands


async def test_unmodelled_spec_methods_answer_plausibly(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    await bot.send_chat_action(42, "typing")
    photo = await bot.send_photo(42, "AgACAgQAAxkBAAIECGdPhotoLarge", caption="Workshop")
    assert photo.caption == "Workshop"
    assert await bot.set_my_description("Assistant of the Strong Cities Network")
    assert [c.method for c in emu.calls[-3:]] == ["sendChatAction", "sendPhoto", "setMyDescription"]


async def test_slow_answers_still_arrive(emu: TelegramEmulator, bot: telegram.Bot) -> None:
    emu.slow(0.2, method="getMe")
    started = asyncio.get_running_loop().time()
    await bot.get_me()
    assert asyncio.get_running_loop().time() - started >= 0.2
