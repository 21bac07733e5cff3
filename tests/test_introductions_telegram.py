"""Introductions between two focal points on Telegram, end to end, in their languages.

Amina (English, Mombasa, with a public Telegram username) finds Marie (French, Lyon, no username) in
the directory, asks her for an introduction with a note, Marie accepts, they write to each other
through the bot (the relay) and Marie ends it. A decline and a block are never announced.

The real Telegram adapter talks to the Bot API emulator (polling and webhook); what the bot sends to
someone other than the person writing goes through the outbox, so a deliverer runs alongside. The app
runs on a fake clock, which never reaches the retry time of an outbox message that hit Telegram's flood
limit, and the per-chat limit would make the walks slow: the emulator here allows a larger per-chat
burst (the limits themselves are tested elsewhere).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.delivery.runner import DeliveryRunner
from bot.domain import introductions as intro
from bot.domain import profiles
from bot.i18n import Catalogs
from bot.storage.people import Person, PlatformIdentity
from run_bot import delivery_runner
from tests.emulators.telegram import SentMessage, TelegramEmulator, TelegramLimits
from tests.people import add_focal_point
from tests.telegram_harness import TelegramBotUnderTest, TelegramChat

MOMBASA = ("Mombasa", "KE", "Africa")
LYON = ("Lyon", "FR", "Europe")
MEDELLIN = ("Medellín", "CO", "Latin America")
NOTE = "Mombasa & Lyon <both> run youth campaigns against online hate: could we compare notes?"
ENDED = "This introduction has ended: messages are no longer passed on."
AMINA = "Amina Yusuf (Mombasa, Kenya)"
_CATALOGS = Catalogs(Path(__file__).resolve().parent.parent / "locales")


def fr(message: str, **params: object) -> str:
    """What Marie reads: the bot's text in French (whatever the translators wrote)."""
    return _CATALOGS.translator("fr").gettext(message, **params)


def es(message: str, **params: object) -> str:
    return _CATALOGS.translator("es").gettext(message, **params)


@pytest.fixture
async def telegram_emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(limits=TelegramLimits(per_chat_burst=100)) as emulator:
        yield emulator


@pytest.fixture
async def outbox(app: BotApp, telegram_bot: TelegramBotUnderTest) -> AsyncIterator[DeliveryRunner]:
    """The outbox deliverer for the Telegram adapter, as `run_bot` starts it."""
    runner = delivery_runner(app, app.settings)
    await runner.start([telegram_bot.adapter])
    try:
        yield runner
    finally:
        await runner.stop()


# ---- people ------------------------------------------------------------------------------------------
async def focal_point(
    app: BotApp,
    emulator: TelegramEmulator,
    name: str,
    language: str,
    city: tuple[str, str, str],
    username: str | None = None,
) -> TelegramChat:
    """A focal point whose Telegram account has `username` (the bot learns it when they first write)."""
    chat_id = await add_focal_point(app, name, language, city, telegram=emulator)
    return TelegramChat(emulator, emulator.user(chat_id, name, language_code=language, username=username))


async def save_profile(app: BotApp, chat: TelegramChat, values: profiles.ProfileValues) -> None:
    async with app.database.session() as session:
        person = await session.scalar(
            select(Person)
            .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
            .where(PlatformIdentity.platform == "telegram", PlatformIdentity.external_id == str(chat.chat_id))
        )
        assert person is not None
        await profiles.save(session, person, values, app.services.clock.now())


async def username_of(app: BotApp, chat: TelegramChat) -> str | None:
    async with app.database.session() as session:
        return await session.scalar(
            select(PlatformIdentity.username).where(
                PlatformIdentity.platform == "telegram", PlatformIdentity.external_id == str(chat.chat_id)
            )
        )


def amina_profile() -> profiles.ProfileValues:
    return profiles.ProfileValues(
        display_name="Amina Yusuf",
        job_title="Head of social cohesion",
        languages=("en", "sw"),
        topics=("youth_engagement", "online_hate"),
        listed=True,
        introductions=True,
    )


def marie_profile(*, listed: bool) -> profiles.ProfileValues:
    return profiles.ProfileValues(
        display_name="Marie",
        job_title="Adjointe au maire",
        languages=("fr", "en"),
        topics=("online_hate", "disinformation"),
        listed=listed,
        introductions=True,
    )


# ---- reading the chats -------------------------------------------------------------------------------
def text_of(message: SentMessage) -> str:
    return message.plain_text or ""


def labels(message: SentMessage) -> list[str]:
    return [label for row in message.buttons for label, _ in row]


def label_starting(message: SentMessage, prefix: str) -> str:
    found = [label for label in labels(message) if label.startswith(prefix)]
    assert found, f"no button starting {prefix!r}: {labels(message)}"
    return found[0]


async def expect(chat: TelegramChat, *words: str) -> SentMessage:
    """The next message in the chat, which says every one of `words`."""
    message = await chat.expect_reply(timeout=10)
    for word in words:
        assert word in text_of(message), f"{word!r} not in {text_of(message)!r}"
    return message


async def settled(outbox: DeliveryRunner) -> None:
    """Everything the bot put in the outbox has been delivered."""
    assert await outbox.drain(within=10)


async def nothing_new(chat: TelegramChat, outbox: DeliveryRunner) -> None:
    await settled(outbox)
    assert len(chat.messages()) == chat.seen, [text_of(m) for m in chat.messages()[chat.seen :]]


async def list_marie_through_the_form(chat: TelegramChat) -> None:
    """Marie's profile is prefilled: the walk opens on its summary; she turns on the directory listing."""
    await chat.send("/profile")
    shown = await expect(chat, "Marie, Adjointe au maire", "Lyon, France · Europe")
    await chat.press(shown, "Modifier mon profil")
    listed = fr("List me in the directory of focal points")
    summary = await expect(chat, f"{listed}: {fr('No')}")
    assert fr("Save my profile") in labels(summary)
    await chat.press(summary, label_starting(summary, fr("Change: {field}", field=listed)))
    question = await expect(chat, listed)
    await chat.press(question, fr("Yes"))
    summary = await expect(chat, f"{listed}: {fr('Yes')}")
    await chat.press(summary, fr("Save my profile"))
    yes = fr("yes")
    await expect(
        chat,
        "C'est enregistré",
        fr("Listed in the directory: {answer}", answer=yes),
        fr("Introduction requests: {answer}", answer=yes),
    )


# ---- the whole flow ----------------------------------------------------------------------------------
async def test_introduction_from_directory_to_relay_and_end(
    app: BotApp, telegram_bot: TelegramBotUnderTest, outbox: DeliveryRunner
) -> None:
    emulator = telegram_bot.emulator
    amina = await focal_point(app, emulator, "Amina", "en", MOMBASA, username="amina_ke")
    marie = await focal_point(app, emulator, "Marie", "fr", LYON)
    await save_profile(app, amina, amina_profile())
    await save_profile(app, marie, marie_profile(listed=False))

    # Not listed yet: not in the directory.
    await amina.send("Who works on online hate in Europe?")
    await expect(amina, "0 focal points match Online hate · Europe", "Nobody listed matches that yet")
    await list_marie_through_the_form(marie)

    # 1. The directory: Marie's card, and never a contact handle.
    await amina.send("Who works on online hate in Europe?")
    directory = await expect(
        amina,
        "1 focal point matches Online hate · Europe:",
        "Marie, Adjointe au maire",
        "Lyon, France · Europe",
        "Works on: Online hate, Disinformation",
    )
    assert "@" not in text_of(directory) and str(marie.chat_id) not in text_of(directory)
    assert all(str(marie.chat_id) not in data for data in directory.callback_data)

    # 2. Asking, with a note typed in the form walk.
    await amina.press(directory, "Ask Marie for an introduction")
    confirm = await expect(amina, "Ask Marie (Lyon, France) for an introduction?")
    assert labels(confirm) == ["Send the request", "Add a note first", "Cancel"]
    await amina.press(confirm, "Add a note first")
    await expect(amina, "A short note for them (optional", "Why you would like to talk")  # asked at once
    await amina.send(NOTE)  # the only field: sent as soon as it is answered
    await expect(amina, "Your request went to Marie (Lyon, France).", "open for 14 days")

    # 3. Marie gets the request in French, with Amina's card and note, but not her contact yet.
    request = await expect(
        marie,
        fr(intro.REQUEST, name=AMINA),
        "Amina Yusuf, Head of social cohesion",
        "Mombasa, Kenya · Afrique",  # the region in French
        "Haine en ligne",  # the challenge in French
        fr(intro.REQUEST_NOTE, note=NOTE),
        "8 déc. 2026",  # open for 14 days, the date in French
    )
    assert "@" not in text_of(request) and str(amina.chat_id) not in text_of(request)
    assert labels(request) == [fr(intro.ACCEPT), fr(intro.DECLINE), fr(intro.BLOCK)]

    # 4. Marie accepts: she gets Amina's username; Amina, who cannot get one, gets the relay.
    await marie.press(request, fr(intro.ACCEPT))
    await emulator.wait_for(lambda: "@amina_ke" in text_of(request), timeout=10)
    assert fr(intro.YOU_ACCEPTED, name=AMINA) in text_of(request)
    assert fr(intro.CONTACT_USERNAME, username="amina_ke") in text_of(request)
    assert labels(request) == [fr(intro.WRITE, name="Amina"), fr(intro.END), fr(intro.BLOCK)]
    accepted = await expect(
        amina,
        "Marie (Lyon, France) accepted your request: you are introduced.",
        "They have no public Telegram username, so write to them here",
    )
    assert "@" not in text_of(accepted)
    assert labels(accepted) == ["Write to Marie", "End the introduction", "Block"]

    # 5. Amina writes through the bot; Marie answers with a Telegram reply.
    await amina.press(accepted, "Write to Marie")
    await expect(amina, "Write your message for Marie (Lyon, France)")
    await amina.send("Bonjour Marie! How do you moderate <hate> on your city's pages?")
    passed = await expect(amina, "Passed on to Marie (Lyon, France).")
    assert labels(passed) == ["Write again to Marie"]
    relayed = await expect(
        marie,
        fr(intro.RELAYED, name=AMINA),
        "Bonjour Marie! How do you moderate <hate> on your city's pages?",
    )
    assert labels(relayed) == [fr("Reply"), fr(intro.END), fr(intro.BLOCK)]
    await settled(outbox)  # the relayed message's Telegram id is recorded: a reply to it is known
    await emulator.send_text(marie.user, "Avec une équipe de deux & une charte claire.", reply_to=relayed)
    await expect(marie, fr("Passed on to {name}.", name=AMINA))
    await expect(amina, "Marie (Lyon, France) writes:", "Avec une équipe de deux & une charte claire.")

    # 6. Marie ends it: Amina is told, and her old Write button passes nothing on.
    await marie.press(relayed, fr(intro.END))
    await expect(marie, fr(intro.YOU_ENDED, name=AMINA))
    await expect(amina, "Marie (Lyon, France) ended the introduction: messages are no longer passed on.")
    await amina.press(accepted, "Write to Marie")
    await expect(amina, ENDED)
    await nothing_new(marie, outbox)
    await emulator.send_text(marie.user, "Encore une chose...", reply_to=relayed)  # a Telegram reply
    await expect(marie, fr(ENDED))
    await nothing_new(amina, outbox)


async def test_a_decline_is_never_announced_and_a_block_is_silent(
    app: BotApp, telegram_bot: TelegramBotUnderTest, outbox: DeliveryRunner
) -> None:
    emulator = telegram_bot.emulator
    amina = await focal_point(app, emulator, "Amina", "en", MOMBASA, username="amina_ke")
    marie = await focal_point(app, emulator, "Marie", "fr", LYON)
    lucia = await focal_point(app, emulator, "Lucía", "es", MEDELLIN)
    await save_profile(app, amina, amina_profile())
    await save_profile(app, marie, marie_profile(listed=True))

    # Amina asks without a note; Marie declines; Amina hears nothing and her request looks open.
    await amina.send("/peers")
    directory = await expect(amina, "1 focal point in the directory:", "Marie, Adjointe au maire")
    await amina.press(directory, "Ask Marie for an introduction")
    await amina.press(await expect(amina, "Ask Marie"), "Send the request")
    await expect(amina, "Your request went to Marie (Lyon, France).")
    request = await expect(marie, fr(intro.REQUEST, name=AMINA))
    assert fr(intro.REQUEST_NOTE, note="") not in text_of(request)
    await marie.press(request, fr(intro.DECLINE))
    await emulator.wait_for(lambda: not request.buttons, timeout=10)
    assert AMINA in text_of(request) and fr(intro.REQUEST, name=AMINA) not in text_of(request)
    await nothing_new(amina, outbox)
    await amina.send("/introductions")
    await expect(amina, "Your requests waiting for an answer:", "Marie (Lyon, France) (open until")
    await amina.press(directory, "Ask Marie for an introduction")
    await expect(amina, "You have already asked Marie (Lyon, France); the request is waiting")
    await nothing_new(amina, outbox)

    # Lucía sees both cards, and not Amina's username although the bot knows it.
    assert await username_of(app, amina) == "amina_ke"
    await lucia.send("/peers")
    found = await expect(
        lucia,
        es("{count} focal point in the directory:", count=2).split(" ")[0],
        "Amina Yusuf, Head of social cohesion",
        "Marie, Adjointe au maire",
        "Lyon, Francia · Europa",  # the country and region in Spanish
    )
    assert "@" not in text_of(found) and "amina_ke" not in text_of(found)
    assert str(amina.chat_id) not in text_of(found) and str(marie.chat_id) not in text_of(found)
    ask_marie = es("Ask {name} for an introduction", name="Marie")
    assert labels(found)[:2] == [es("Ask {name} for an introduction", name="Amina"), ask_marie]

    # Lucía asks; Marie blocks her; Lucía is never told, and can no longer ask.
    await lucia.press(found, ask_marie)
    await lucia.press(await expect(lucia, "Marie (Lyon, Francia)"), es("Send the request"))
    await expect(lucia, "Marie (Lyon, Francia)")
    request = await expect(marie, fr(intro.REQUEST, name="Lucía (Medellín, Colombie)"))
    await marie.press(request, fr(intro.BLOCK))
    await emulator.wait_for(lambda: not request.buttons, timeout=10)
    assert "Lucía" in text_of(request)
    await nothing_new(lucia, outbox)
    await lucia.press(found, ask_marie)
    await expect(lucia, es(intro.NOT_TAKING, name="Marie (Lyon, Francia)"))
    await nothing_new(lucia, outbox)
    await nothing_new(marie, outbox)


# ---- known problems ------------------------------------------------------------------------------------
async def ask(requester: TelegramChat, recipient: TelegramChat, name: str) -> SentMessage:
    """`requester` asks `name` from /peers without a note; the request as `recipient` gets it."""
    await requester.send("/peers")
    directory = await expect(requester, name)
    await requester.press(directory, f"Ask {name} for an introduction")
    await requester.press(await expect(requester, f"Ask {name}"), "Send the request")
    await expect(requester, "Your request went to")
    return await expect(recipient, fr(intro.REQUEST, name=AMINA))


async def test_a_message_for_someone_the_bot_cannot_reach_is_not_confirmed(
    app: BotApp, telegram_bot: TelegramBotUnderTest, outbox: DeliveryRunner
) -> None:
    emulator = telegram_bot.emulator
    amina = await focal_point(app, emulator, "Amina", "en", MOMBASA, username="amina_ke")
    marie = await focal_point(app, emulator, "Marie", "fr", LYON)
    await save_profile(app, amina, amina_profile())
    await save_profile(app, marie, marie_profile(listed=True))
    await marie.press(await ask(amina, marie, "Marie"), fr(intro.ACCEPT))
    accepted = await expect(amina, "Marie (Lyon, France) accepted your request")
    emulator.block_chat(marie.chat_id)  # Marie blocks the bot: the first relayed message is "gone"
    await amina.press(accepted, "Write to Marie")
    await expect(amina, "Write your message for Marie")
    await amina.send("Are you there?")
    await expect(amina, "Passed on to Marie (Lyon, France).")  # not known yet: delivered later
    await settled(outbox)
    async with app.database.session() as session:
        unreachable = await session.scalar(
            select(PlatformIdentity.unreachable_at).where(PlatformIdentity.external_id == str(marie.chat_id))
        )
    assert unreachable is not None  # the bot now knows it cannot reach Marie
    await amina.press(accepted, "Write to Marie")
    await expect(amina, "Write your message for Marie")
    await amina.send("Hello again?")
    answer = await amina.expect_reply(timeout=10)
    assert "Passed on" not in text_of(answer), text_of(answer)


async def test_a_reply_to_a_pending_request_does_not_say_it_ended(
    app: BotApp, telegram_bot: TelegramBotUnderTest, outbox: DeliveryRunner
) -> None:
    emulator = telegram_bot.emulator
    amina = await focal_point(app, emulator, "Amina", "en", MOMBASA, username="amina_ke")
    marie = await focal_point(app, emulator, "Marie", "fr", LYON)
    await save_profile(app, amina, amina_profile())
    await save_profile(app, marie, marie_profile(listed=True))
    request = await ask(amina, marie, "Marie")
    await settled(outbox)
    await emulator.send_text(marie.user, "Who is this?", reply_to=request)
    answer = await marie.expect_reply(timeout=10)
    assert fr(ENDED) not in text_of(answer), text_of(answer)  # the request is open, nothing has ended
    await nothing_new(amina, outbox)
