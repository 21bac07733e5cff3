"""End to end through python-telegram-bot and the local Bot API emulator, in polling and webhook modes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.app import BotApp
from bot.callbacks import CallbackData
from bot.config import Settings
from bot.context import Context
from bot.delivery.errors import PermanentFailure, RateLimited, RecipientGone, TransientFailure
from bot.dispatcher import UNSUPPORTED
from bot.messages import Button, Markup, Reply
from bot.payloads import PayloadStore
from bot.routing import Router
from bot.storage.database import Database
from tests.emulators.telegram import TelegramEmulator
from tests.telegram_harness import (
    WEBHOOK_PATH,
    TelegramBotUnderTest,
    TelegramUserFactory,
    running_telegram_bot,
)

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"


def fixture(name: str) -> dict[str, object]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


async def test_start_welcomes_with_buttons(telegram_user: TelegramUserFactory) -> None:
    chat = await telegram_user("Amina")
    await chat.send("/start")
    reply = await chat.expect_reply()
    assert reply.plain_text is not None and reply.plain_text.startswith("Welcome, Amina!")
    assert reply.parse_mode == "HTML"
    assert ("Language", "lang:menu") in [b for row in reply.buttons for b in row]


async def test_arabic_hint_and_language_button_edits_the_menu(
    telegram_user: TelegramUserFactory, telegram_bot: TelegramBotUnderTest
) -> None:
    chat = await telegram_user("Omar", language_code="ar")
    await chat.send("/language")
    menu = await chat.expect_reply()
    assert "العربية" in [label for row in menu.buttons for label, _ in row]
    await chat.press(menu, "Français")
    await telegram_bot.emulator.wait_for_calls("answerCallbackQuery")
    edited = await _wait_for_edit(telegram_bot.emulator, chat.chat_id, menu.message_id)
    assert "français" in (edited or "")  # the confirmation, in French
    assert telegram_bot.emulator.callback_answers  # the spinner was stopped


async def _wait_for_edit(emulator: TelegramEmulator, chat_id: int, message_id: int) -> str | None:
    await emulator.wait_for_calls("editMessageText")
    for message in emulator.sent_messages(chat_id):
        if message.message_id == message_id:
            return message.plain_text
    return None


async def test_deep_link_start(
    telegram_user: TelegramUserFactory, telegram_bot: TelegramBotUnderTest
) -> None:
    chat = await telegram_user("Amina")
    await telegram_bot.emulator.send_command(chat.user, "start", args="invite-city-mombasa-2026")
    reply = await chat.expect_reply()  # a code nobody issued: said so, not ignored
    assert "not valid or has expired" in (reply.plain_text or "") and reply.buttons


async def test_user_text_is_escaped_in_html_replies(
    telegram_user: TelegramUserFactory, telegram_bot: TelegramBotUnderTest
) -> None:
    from sqlalchemy import update

    from bot.storage.people import City, Person

    chat = await telegram_user("Amina")
    await chat.send("/start")
    await chat.expect_reply()
    app = telegram_bot.app
    async with app.database.session() as session:  # a focal point of a member city
        city = City(name="Mombasa <script>", country="KE", created_at=app.services.clock.now())
        session.add(city)
        await session.flush()
        await session.execute(update(Person).values(role="focal_point", city_id=city.id))
    await chat.send("/profile")
    profile = await chat.expect_reply()
    await chat.press(profile, "Edit my profile")
    summary = await chat.expect_reply()  # prefilled: the summary, each field changeable
    await chat.press(summary, "Change: The name other focal points see")
    await chat.expect_reply()
    await chat.send("<b>Amina</b> & co")
    summary = await chat.expect_reply()
    await chat.press(summary, "Save my profile")
    saved = await chat.expect_reply()
    assert saved.text is not None and "Mombasa &lt;script&gt;" in saved.text
    assert saved.plain_text is not None and "<b>Amina</b> & co" in saved.plain_text
    assert saved.text is not None and "&lt;b&gt;Amina&lt;/b&gt; &amp; co" in saved.text


async def test_unsupported_updates_are_handled_politely(telegram_bot: TelegramBotUnderTest) -> None:
    emulator = telegram_bot.emulator
    for name in ("sticker", "voice", "edited_message", "channel_post", "group_no_mention"):
        await emulator.send_update(fixture(name))
    await emulator.send_update(fixture("group_mention"))
    sticker_chat, voice_chat, group = 5521873604, 6103948271, -1001987654321
    [sticker_reply] = await emulator.wait_for_messages(sticker_chat, 1)
    [voice_reply] = await emulator.wait_for_messages(voice_chat, 1)
    catalogs = telegram_bot.app.services.catalogs
    assert sticker_reply.plain_text == catalogs.translator("fr").gettext(UNSUPPORTED)  # recorded user: fr
    assert voice_reply.plain_text == catalogs.translator("ar").gettext(UNSUPPORTED)  # recorded user: ar
    [group_reply] = await emulator.wait_for_messages(group, 1)  # only the mention was answered
    assert len(emulator.sent_messages(-1001876543210)) == 0  # channel post ignored
    assert len(emulator.sent_messages(sticker_chat)) == 1  # the edited message got no answer
    assert group_reply.plain_text


async def test_private_data_is_never_shown_in_groups(telegram_bot: TelegramBotUnderTest) -> None:
    emulator = telegram_bot.emulator
    group = telegram_bot.group("Mayors")
    user = emulator.user(777, "Amina")
    await emulator.send_command(user, "profile", chat=group)
    [reply] = await emulator.wait_for_messages(group.id, 1)
    assert "private chat" in (reply.plain_text or "")


async def test_replayed_command_fixture(telegram_bot: TelegramBotUnderTest) -> None:
    await telegram_bot.emulator.send_update(fixture("command_start"))
    [reply] = await telegram_bot.emulator.wait_for_messages(6103948271, 1)
    assert "شبكة المدن القوية" in (reply.plain_text or "")  # the recorded user's language_code is "ar"
    assert reply.buttons


async def test_command_menus_registered_per_language(telegram_bot: TelegramBotUnderTest) -> None:
    commands = telegram_bot.emulator.commands
    default = next(v for (scope, lang), v in commands.items() if lang in (None, ""))
    assert ("help", "What I can do") in default
    assert any(lang == "ar" for _, lang in commands)


@pytest.fixture
async def bare_adapter(app: BotApp, telegram_emulator: TelegramEmulator) -> AsyncIterator[TelegramAdapter]:
    adapter = TelegramAdapter(
        telegram_emulator.token,
        app.handle,
        PayloadStore(app.database, app.services.clock),
        base_url=telegram_emulator.base_url,
    )
    await adapter.application.initialize()
    yield adapter
    await adapter.application.shutdown()


async def test_long_reply_is_split_on_paragraphs(
    bare_adapter: TelegramAdapter, telegram_emulator: TelegramEmulator
) -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 150 for i in range(12)]  # ~9,000 characters
    await bare_adapter.send("4242", Reply("\n\n".join(paragraphs), buttons=(Button("OK", "menu:ask"),)))
    sent = telegram_emulator.sent_messages(4242)
    assert len(sent) == 3
    assert all(len(m.plain_text or "") <= 4096 for m in sent)
    assert all(m.plain_text and m.plain_text.startswith("Paragraph") for m in sent)
    assert [bool(m.buttons) for m in sent] == [False, False, True]


async def test_html_markup_passes_through(
    bare_adapter: TelegramAdapter, telegram_emulator: TelegramEmulator
) -> None:
    await bare_adapter.send("4242", Reply("<b>Summit</b> in Cape Town", markup=Markup.HTML))
    [message] = telegram_emulator.sent_messages(4242)
    assert message.text == "<b>Summit</b> in Cape Town" and message.plain_text == "Summit in Cape Town"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("rate", RateLimited),
        ("blocked", RecipientGone),
        ("bad", PermanentFailure),
        ("server", TransientFailure),
        ("dropped", TransientFailure),
    ],
)
async def test_errors_map_to_neutral_delivery_errors(
    bare_adapter: TelegramAdapter, telegram_emulator: TelegramEmulator, fault: str, error: type[Exception]
) -> None:
    if fault == "rate":
        telegram_emulator.fail_next(1, status=429, retry_after=7)
    elif fault == "blocked":
        telegram_emulator.block_chat(4242)
    elif fault == "bad":
        telegram_emulator.fail_next(1, status=400)
    elif fault == "server":
        telegram_emulator.server_error_next(1, status=502)
    else:
        telegram_emulator.drop_next(1)
    with pytest.raises(error) as raised:
        await bare_adapter.send("4242", Reply("hello"))
    if fault == "rate":
        assert raised.value.retry_after == 7  # type: ignore[attr-defined]


echo_router = Router("echo")


@dataclass(frozen=True)
class LongButton(CallbackData, prefix="long"):
    text: str


@echo_router.button(LongButton)
async def echo_long(ctx: Context, pressed: LongButton) -> Reply:
    return Reply(f"got {len(ctx.incoming.button or '')} {ctx.incoming.button}")


async def test_long_button_payload_is_stored_behind_a_short_id(
    settings: Settings, sqlite_database: Database, telegram_emulator: TelegramEmulator
) -> None:
    app = BotApp(settings, [echo_router], database=sqlite_database, flood_limit=False)
    long_payload = "long:" + "x" * 100
    async with running_telegram_bot(app, "polling", telegram_emulator) as bot_under_test:
        chat = await bot_under_test.user("Amina")
        await bot_under_test.adapter.send(
            str(chat.chat_id), Reply("pick", buttons=(Button("Go", long_payload),))
        )
        menu = await chat.expect_reply()
        [[(_, data)]] = menu.buttons
        assert len(data.encode()) <= 64
        await chat.press(menu, "Go")
        echoed = await chat.expect_reply()
        assert echoed.plain_text == f"got {len(long_payload)} {long_payload}"
        forged = {
            "callback_query": {
                "id": "99",
                "from": chat.user.as_dict(),
                "chat_instance": "1",
                "data": "#forged-key",
                "message": {
                    "message_id": menu.message_id,
                    "date": 0,
                    "chat": {"id": chat.chat_id, "type": "private"},
                },
            }
        }
        await telegram_emulator.send_update(forged)
        expired = await chat.expect_reply()
        assert "expired" in (expired.plain_text or "")


async def test_webhook_checks_secret_body_and_size(app: BotApp, telegram_emulator: TelegramEmulator) -> None:
    async with running_telegram_bot(
        app, "webhook", telegram_emulator, webhook_secret="s3cret"
    ) as bot_under_test:
        url = f"http://127.0.0.1:{bot_under_test.web.port}{WEBHOOK_PATH}"
        update = json.dumps(fixture("command_start"))
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=update) as response:
                assert response.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with http.post(url, data=update, headers=headers) as response:
                assert response.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            async with http.post(url, data=b"{not json", headers=headers) as response:
                assert response.status == 400
            async with http.post(url, data=b'{"no": "update_id"}', headers=headers) as response:
                assert response.status == 400
            async with http.post(url, data=b"x" * (2 * 1024 * 1024), headers=headers) as response:
                assert response.status == 413
            async with http.get(f"http://127.0.0.1:{bot_under_test.web.port}/healthz") as response:
                assert response.status == 200
                assert await response.json() == {
                    "status": "ok",
                    "checks": {"database": True, "telegram": True},
                }
            await asyncio.sleep(0)  # let any (wrongly) queued update run before checking
            assert telegram_emulator.sent_messages(6103948271) == []
            async with http.post(url, data=update, headers=headers) as response:
                assert response.status == 200
        await telegram_emulator.wait_for_messages(6103948271, 1)


async def test_missing_set_my_commands_is_logged_and_serving_goes_on(
    app: BotApp, telegram_emulator: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    telegram_emulator.fail_next(5, status=404, method="setMyCommands")
    async with running_telegram_bot(app, "polling", telegram_emulator) as bot_under_test:
        chat = await bot_under_test.user("Amina")
        await chat.send("/help")
        assert "Here is what I can do" in ((await chat.expect_reply()).plain_text or "")
    assert sum("command menus not registered" in r.getMessage() for r in caplog.records) == 1


async def test_free_text_question_is_answered_in_the_users_language(
    telegram_user: TelegramUserFactory,
) -> None:
    chat = await telegram_user("Karim", language_code="ar")
    await chat.send("كيف يمكن لمدينتي الانضمام إلى الشبكة؟")
    reply = await chat.expect_reply()
    assert reply.plain_text is not None and "الانضمام" in reply.plain_text
    assert reply.parse_mode == "HTML"
