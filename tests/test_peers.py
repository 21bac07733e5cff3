"""Profiles, the directory, introductions and matching rounds, through the core as the console drives them.

What reaches the other person goes through the outbox: the tests read it there (key, text, buttons).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.clock import FakeClock
from bot.config import Settings
from bot.domain import matching
from bot.storage.database import Database
from bot.storage.delivery import Delivery
from bot.storage.peers import Introduction, MatchRound, Profile
from bot.storage.people import Person, PlatformIdentity
from run_bot import build_app, build_scheduler
from scheduler.runner import VirtualScheduler
from tests.harness import ConsoleChat, StaffChat
from tests.people import add_focal_point

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
AMINA = ("Mombasa", "KE", "Africa")
BESA = ("Tirana", "AL", "Western Balkans")
MARIE = ("Lyon", "FR", "Europe")


@pytest.fixture
def start_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def peers_app(
    settings: Settings, sqlite_database: Database, start_clock: FakeClock
) -> AsyncIterator[BotApp]:
    app = build_app(settings, clock=start_clock, database=sqlite_database, flood_limit=False)
    await add_focal_point(app, "amina", "en", AMINA, platform="console")
    await add_focal_point(app, "besa", "en", BESA, platform="console")
    await add_focal_point(app, "marie", "fr", MARIE, platform="console")
    yield app


PROFILES: dict[str, dict[str, Any]] = {
    "amina": {"display_name": "Amina Yusuf", "role": "Head of cohesion", "languages": ["en", "sw"],
              "topics": ["youth_engagement", "online_hate"], "listed": "yes", "introductions": "yes"},
    "besa": {"display_name": "Besa Hoxha", "role": "Prevention officer", "languages": ["sq", "en"],
             "topics": ["online_hate", "schools"], "listed": "yes", "introductions": "yes"},
    "marie": {"display_name": "Marie Dubois", "role": "Adjointe au maire", "languages": ["fr"],
              "topics": ["polarisation"], "listed": "yes", "introductions": "no"},
}  # fmt: skip


async def with_profiles(app: BotApp, *names: str, **changes: dict[str, Any]) -> dict[str, ConsoleChat]:
    chats = {}
    for name in names:
        chat = ConsoleChat(app, name)
        [saved] = await chat.submit("profile", **{**PROFILES[name], **changes.get(name, {})})
        assert saved.form is None, saved.form and saved.form.errors
        chats[name] = chat
    return chats


async def outbox(app: BotApp, like: str) -> dict[str, dict[str, Any]]:
    async with app.database.session() as session:
        rows = (
            await session.scalars(select(Delivery).where(Delivery.key.like(like)).order_by(Delivery.id))
        ).all()
    return {row.key: row.payload for row in rows}


async def person_id(app: BotApp, name: str) -> int:
    async with app.database.session() as session:
        found = await session.scalar(
            select(PlatformIdentity.person_id).where(PlatformIdentity.external_id == name)
        )
    assert found is not None
    return found


def labels(payload: dict[str, Any]) -> list[str]:
    return [button["label"] for button in payload.get("buttons", [])]


def payload_of(payload: dict[str, Any], label: str) -> str:
    return next(b["payload"] for b in payload["buttons"] if b["label"] == label)


# ---- profile -----------------------------------------------------------------------------------------
async def test_the_profile_form_keeps_consents_off_until_given(peers_app: BotApp) -> None:
    chat = ConsoleChat(peers_app, "amina")
    [shown] = await chat.send("/profile")
    assert "Listed in the directory: no" in shown.text and "Introduction requests: no" in shown.text
    [editing] = await chat.press_label("Edit my profile")
    form = editing.form
    assert form is not None and form.id == "profile"
    assert [f.id for f in form.fields][:6] == [
        "display_name",
        "role",
        "languages",
        "topics",
        "listed",
        "introductions",
    ]
    assert form.values["listed"] == "no" and form.values["introductions"] == "no"
    assert form.values["languages"] == ("en",)  # their language, to start with
    topics = form.field("topics")
    assert topics is not None and {c.value for c in topics.choices} >= {"online_hate", "youth_engagement"}
    [saved] = await chat.submit("profile", **PROFILES["amina"])
    assert (
        "Amina Yusuf, Head of cohesion" in saved.text
        and "Works on: Youth engagement, Online hate" in saved.text
    )
    assert "Listed in the directory: yes" in saved.text


async def test_a_taxonomy_value_that_does_not_exist_is_named_and_nothing_is_lost(peers_app: BotApp) -> None:
    chat = ConsoleChat(peers_app, "amina")
    [rejected] = await chat.submit("profile", **{**PROFILES["amina"], "topics": ["online_hate", "knitting"]})
    assert rejected.form is not None
    assert rejected.form.errors["topics"] == "knitting is not one of the options offered."
    assert rejected.form.values["display_name"] == "Amina Yusuf"  # what was typed is kept
    async with peers_app.database.session() as session:
        assert await session.get(Profile, await person_id(peers_app, "amina")) is None


async def test_profile_labels_are_in_the_readers_language(peers_app: BotApp) -> None:
    await with_profiles(peers_app, "amina")
    marie = ConsoleChat(peers_app, "marie")
    [page] = await marie.send("/peers")
    assert "Amina Yusuf" in page.text and "Engagement des jeunes" in page.text and "Kenya" in page.text


# ---- directory ---------------------------------------------------------------------------------------
async def test_the_directory_lists_only_who_consented_and_never_a_contact(peers_app: BotApp) -> None:
    async with peers_app.database.session() as session:  # Besa has a Telegram username: never shown
        besa = await person_id(peers_app, "besa")
        session.add(
            PlatformIdentity(
                person_id=besa, platform="telegram", external_id="77", chat_id="77", username="besa_h"
            )
        )
    chats = await with_profiles(peers_app, "amina", "besa", "marie", marie={"listed": "no"})
    [page] = await chats["amina"].send("/peers")
    assert "Besa Hoxha, Prevention officer" in page.text and "Tirana, Albania · Western Balkans" in page.text
    assert "Marie" not in page.text  # not listed
    assert "Amina" not in page.text.split("\n", 1)[1]  # never yourself
    assert "besa_h" not in page.text and "@" not in page.text and "77" not in page.text
    assert "Ask Besa for an introduction" in chats["amina"].buttons()
    [page] = await chats["besa"].send("/peers")
    assert "Ask Amina for an introduction" in chats["besa"].buttons()
    # someone who takes no requests is listed without the button
    await with_profiles(peers_app, "marie")
    await chats["amina"].send("/peers")
    assert "Marie Dubois" in chats["amina"].last[0].text and not any(
        "Marie" in b for b in chats["amina"].buttons()
    )


async def test_only_focal_points_see_the_directory(peers_app: BotApp) -> None:
    [refused] = await ConsoleChat(peers_app, "guest").send("/peers")
    assert "verified focal points" in refused.text
    [answer] = await ConsoleChat(peers_app, "guest").send("Who works on online hate in the Western Balkans?")
    assert "Besa" not in answer.text


async def test_filters_by_challenge_region_country_and_language_with_buttons(peers_app: BotApp) -> None:
    chats = await with_profiles(peers_app, "amina", "besa", "marie")
    marie = chats["marie"]
    await marie.send("/peers")
    assert "2 " in marie.last[0].text  # Amina and Besa
    fr = peers_app.services.catalogs.translator("fr").gettext
    await marie.press_label(fr("By challenge"))
    online = next(label for label in marie.buttons() if label.startswith("Haine en ligne"))
    assert online.endswith("(2)")
    [page] = await marie.press_label(online)
    assert "Amina" in page.text and "Besa" in page.text
    await marie.press_label(fr("By region"))
    balkans = next(label for label in marie.buttons() if label.startswith("Balkans occidentaux"))
    [page] = await marie.press_label(balkans)
    assert "Besa" in page.text and "Amina" not in page.text
    [page] = await marie.send("/peers Kenya")
    assert "Amina" in page.text and "Besa" not in page.text
    [page] = await marie.send("/peers swahili")
    assert "Amina" in page.text and "Besa" not in page.text
    [page] = await marie.send("/peers knitting circles")
    assert "knitting circles" in page.text and "Amina" in page.text  # nothing recognised: everyone


async def test_a_free_text_question_about_peers_opens_the_filtered_directory(peers_app: BotApp) -> None:
    chats = await with_profiles(peers_app, "amina", "besa", "marie")
    [page] = await chats["amina"].send("Who works on online hate in the Western Balkans?")
    assert "Online hate · Western Balkans" in page.text and "Besa Hoxha" in page.text
    [page] = await chats["marie"].send("Qui travaille sur la jeunesse en Afrique ?")
    assert "Amina Yusuf" in page.text and "Besa" not in page.text
    [answer] = await chats["amina"].send("How do I join the network?")  # an ordinary question still
    assert "Besa" not in answer.text


async def test_the_directory_is_paged(peers_app: BotApp) -> None:
    for number in range(12):
        name = f"peer{number}"
        await add_focal_point(peers_app, name, "en", (f"City {number}", "KE", "Africa"), platform="console")
        chat = ConsoleChat(peers_app, name)
        await chat.submit("profile", **{**PROFILES["amina"], "display_name": f"Peer {number:02d}"})
    chat = ConsoleChat(peers_app, "besa")
    [first] = await chat.send("/peers")
    assert "Page 1 of 3" in first.text and "Peer 00" in first.text and "Peer 05" not in first.text
    [second] = await chat.press_label("Next")
    assert "Page 2 of 3" in second.text and "Peer 05" in second.text and second.edit


# ---- introductions -----------------------------------------------------------------------------------
async def ask(chat: ConsoleChat, name: str, note: str | None = None) -> str:
    await chat.send("/peers")
    await chat.press_label(f"Ask {name} for an introduction")
    if note is None:
        [sent] = await chat.press_label("Send the request")
    else:
        [form] = await chat.press_label("Add a note first")
        assert form.form is not None and form.form.id == "introduction"
        [sent] = await chat.submit("introduction", form.form.context, note=note)
    return sent.text


async def test_request_accept_and_relay_between_two_focal_points(peers_app: BotApp) -> None:
    chats = await with_profiles(peers_app, "amina", "besa")
    besa_id = await person_id(peers_app, "besa")
    sent = await ask(chats["amina"], "Besa", note="We run a youth programme against online hate.")
    assert "Your request went to Besa Hoxha" in sent and "14 days" in sent
    [request] = (await outbox(peers_app, f"intro:%:p{besa_id}:request")).values()
    assert "Amina Yusuf (Mombasa, Kenya) would like to be introduced to you." in request["text"]
    assert "Their note: We run a youth programme" in request["text"] and "Head of cohesion" in request["text"]
    assert labels(request) == ["Accept", "Decline", "Block"]
    [accepted] = await chats["besa"].press(payload_of(request, "Accept"))
    assert "You accepted: you are introduced to Amina Yusuf" in accepted.text
    assert "write to them here" in accepted.text  # no Telegram username: the relay
    told = await outbox(peers_app, "intro:%:accepted")
    [message] = told.values()
    assert "Besa Hoxha (Tirana, Albania) accepted your request" in message["text"]
    # Amina writes through the bot
    [prompt] = await chats["amina"].press(payload_of(message, "Write to Besa"))
    assert "Write your message for Besa Hoxha" in prompt.text
    [done] = await chats["amina"].send("Hello Besa! When could we talk?")
    assert "Passed on to Besa Hoxha" in done.text
    [relayed] = (await outbox(peers_app, f"intro:%:p{besa_id}:relay:%")).values()
    assert relayed["text"] == "Amina Yusuf (Mombasa, Kenya) writes:\n\nHello Besa! When could we talk?"
    assert labels(relayed) == ["Reply", "End the introduction", "Block"]
    # the next message is an ordinary one again
    [answer] = await chats["amina"].send("How do I join the network?")
    assert "Passed on" not in answer.text
    # Besa ends it; Amina is told; writing again is refused clearly
    [ended] = await chats["besa"].press(payload_of(relayed, "End the introduction"))
    assert "You ended the introduction with Amina Yusuf (Mombasa, Kenya)" in ended.text
    assert any(
        "Besa Hoxha (Tirana, Albania) ended the introduction" in p["text"]
        for p in (await outbox(peers_app, "intro:%:ended")).values()
    )
    [refused] = await chats["amina"].press(payload_of(message, "Write to Besa"))
    assert "This introduction has ended" in refused.text
    assert len(await outbox(peers_app, f"intro:%:p{besa_id}:relay:%")) == 1


async def test_a_decline_is_never_announced_and_expiry_says_no_response(
    peers_app: BotApp, start_clock: FakeClock
) -> None:
    chats = await with_profiles(peers_app, "amina", "besa")
    amina_id = await person_id(peers_app, "amina")
    scheduler = build_scheduler(peers_app, start_clock)
    assert isinstance(scheduler, VirtualScheduler)
    await scheduler.start()
    await ask(chats["amina"], "Besa")
    [request] = (await outbox(peers_app, "intro:%:request")).values()
    [declined] = await chats["besa"].press(payload_of(request, "Decline"))
    assert "is not told" in declined.text
    assert await outbox(peers_app, f"intro:%:p{amina_id}:%") == {}  # nothing to the requester
    [listing] = await chats["amina"].send("/introductions")
    assert "waiting for an answer" in listing.text and "Besa Hoxha" in listing.text  # looks open
    await scheduler.advance_to(START + timedelta(days=13, hours=23))
    assert await outbox(peers_app, f"intro:%:p{amina_id}:%") == {}
    await scheduler.advance_to(START + timedelta(days=14, minutes=1))
    [told] = (await outbox(peers_app, f"intro:%:p{amina_id}:expired")).values()
    assert told["text"].startswith(
        "Your request to be introduced to Besa Hoxha (Tirana, Albania) had no response."
    )
    [listing] = await chats["amina"].send("/introductions")
    assert "no response" in listing.text
    [late] = await chats["besa"].press(payload_of(request, "Accept"))
    assert "no longer open" in late.text


async def test_an_unanswered_request_expires_the_same_way(peers_app: BotApp, start_clock: FakeClock) -> None:
    chats = await with_profiles(peers_app, "amina", "besa")
    scheduler = build_scheduler(peers_app, start_clock)
    assert isinstance(scheduler, VirtualScheduler)
    await scheduler.start()
    await ask(chats["amina"], "Besa")
    await scheduler.advance_to(START + timedelta(days=15))
    [told] = (await outbox(peers_app, "intro:%:expired")).values()
    assert "had no response" in told["text"]
    async with peers_app.database.session() as session:
        assert (await session.scalar(select(Introduction.status))) == "expired"


async def test_requests_that_cannot_be_made_get_a_clear_reply(peers_app: BotApp) -> None:
    chats = await with_profiles(peers_app, "amina", "besa", "marie")
    amina, besa_id, marie_id = (
        chats["amina"],
        await person_id(peers_app, "besa"),
        await person_id(peers_app, "marie"),
    )
    amina_id = await person_id(peers_app, "amina")
    [me] = await amina.press(f"askintro:ask:{amina_id}")
    assert "cannot ask for an introduction to yourself" in me.text
    [opted_out] = await amina.press(f"askintro:send:{marie_id}")
    assert "Marie Dubois (Lyon, France) is not taking introduction requests" in opted_out.text
    await ask(amina, "Besa")
    [again] = await amina.press(f"askintro:send:{besa_id}")
    assert "already asked Besa Hoxha" in again.text
    [theirs] = await chats["besa"].press(f"askintro:send:{amina_id}")
    assert "has already asked to be introduced to you" in theirs.text
    [nobody] = await amina.press("askintro:send:99999")
    assert "no longer in the directory" in nobody.text
    async with peers_app.database.session() as session:
        assert len((await session.scalars(select(Introduction))).all()) == 1


async def test_at_most_five_requests_wait_at_once(peers_app: BotApp) -> None:
    chats = await with_profiles(peers_app, "amina")
    for number in range(6):
        name = f"peer{number}"
        await add_focal_point(peers_app, name, "en", (f"Town {number}", "KE", "Africa"), platform="console")
        await ConsoleChat(peers_app, name).submit(
            "profile", **{**PROFILES["besa"], "display_name": f"Peer {number}"}
        )
    ids = [await person_id(peers_app, f"peer{n}") for n in range(6)]
    for target in ids[:5]:
        [sent] = await chats["amina"].press(f"askintro:send:{target}")
        assert "Your request went to" in sent.text
    [sixth] = await chats["amina"].press(f"askintro:send:{ids[5]}")
    assert "5 requests waiting for an answer" in sixth.text
    [listing] = await chats["amina"].send("/introductions")
    withdraw = next(label for label in chats["amina"].buttons() if label.startswith("Withdraw"))
    assert "Peer 0" in listing.text
    await chats["amina"].press_label(withdraw)
    [sixth] = await chats["amina"].press(f"askintro:send:{ids[5]}")
    assert "Your request went to" in sixth.text


async def test_a_block_is_silent_and_stops_requests_and_relays(peers_app: BotApp) -> None:
    chats = await with_profiles(peers_app, "amina", "besa")
    amina_id = await person_id(peers_app, "amina")
    await ask(chats["amina"], "Besa")
    [request] = (await outbox(peers_app, "intro:%:request")).values()
    [blocked] = await chats["besa"].press(payload_of(request, "Block"))
    assert "They are not told" in blocked.text
    assert await outbox(peers_app, f"intro:%:p{amina_id}:%") == {}  # nothing told
    besa_id = await person_id(peers_app, "besa")
    [refused] = await chats["amina"].press(f"askintro:send:{besa_id}")
    assert "is not taking introduction requests" in refused.text  # the same words as for an opt-out
    [page] = await chats["besa"].send("/peers")
    assert "Amina" not in page.text  # the blocker no longer sees them
    [listing] = await chats["besa"].send("/introductions")
    assert "You blocked:" in listing.text and "Amina Yusuf" in listing.text
    [unblocked] = await chats["besa"].press_label("Unblock Amina")
    assert "is unblocked" in unblocked.text


async def test_forgetting_one_side_leaves_the_other_a_focal_point_who_has_left(peers_app: BotApp) -> None:
    chats = await with_profiles(peers_app, "amina", "besa")
    amina_id, besa_id = await person_id(peers_app, "amina"), await person_id(peers_app, "besa")
    await ask(chats["amina"], "Besa", note="My note")
    [request] = (await outbox(peers_app, "intro:%:request")).values()
    await chats["besa"].press(payload_of(request, "Accept"))
    await chats["amina"].press(
        next(iter((await outbox(peers_app, "intro:%:accepted")).values()))["buttons"][0]["payload"]
    )
    await chats["amina"].send("A message from Amina")
    [export] = (await chats["amina"].send("/mydata"))[0].attachments
    data = json.loads(export.content)
    assert data["directory_profile"]["topics"] == ["youth_engagement", "online_hate"]
    assert data["introductions"]["introductions"][0]["note"] == "My note"
    # Amina erases her data (in the real flow: /forget, then the confirmation)
    [confirm] = await chats["amina"].send("/forget")
    erase = next(b.payload for b in confirm.buttons if b.payload and "confirm" in b.payload)
    await chats["amina"].press(erase)
    async with peers_app.database.session() as session:
        assert await session.get(Person, amina_id) is None
        assert await session.get(Profile, amina_id) is None
        introduction = await session.scalar(select(Introduction))
        assert introduction is not None and introduction.requester_id is None and introduction.note == ""
        assert introduction.status == "ended"
        texts = [json.dumps(row.payload) for row in (await session.scalars(select(Delivery))).all()]
    assert not any("Amina" in text or "My note" in text or "A message from Amina" in text for text in texts)
    [listing] = await chats["besa"].send("/introductions")
    assert "a focal point who has left" in listing.text
    [page] = await chats["besa"].send("/peers")
    assert "Amina" not in page.text
    [refused] = await chats["besa"].press(f"intro:write:{introduction.id}")
    assert "has ended" in refused.text
    del besa_id


# ---- staff and matching rounds -----------------------------------------------------------------------
async def test_staff_see_counts_not_contents(peers_app: BotApp) -> None:
    chats = await with_profiles(peers_app, "amina", "besa")
    await ask(chats["amina"], "Besa", note="Secret plans")
    [stats] = await StaffChat(peers_app).send("/stats")
    assert "asked for: 1; accepted: 0; waiting for an answer: 1" in stats.text
    assert "Besa" not in stats.text and "Secret" not in stats.text and "Amina" not in stats.text
    [peers] = await StaffChat(peers_app).send("/peers")
    assert "verified focal points" in peers.text


async def test_matching_run_pairs_people_as_accepted_introductions(peers_app: BotApp) -> None:
    await with_profiles(
        peers_app,
        "amina",
        "besa",
        "marie",
        amina={"matching": "yes"},
        besa={"matching": "yes"},
        marie={"matching": "yes", "languages": ["fr", "en"]},
    )
    [refused] = await ConsoleChat(peers_app, "amina").send("/matching run")
    assert "only for the Strong Cities Network's Management Unit" in refused.text
    [report] = await StaffChat(peers_app).send("/matching run")
    assert report.text == "Matching round #1: 3 taking part, 0 pairs, 1 trios, 0 without a match."
    matched = await outbox(peers_app, "match:1:%:matched")
    assert len(matched) == 3
    amina_id = await person_id(peers_app, "amina")
    mine = matched[f"match:1:p{amina_id}:matched"]
    assert "two focal points, as a group of three" in mine["text"]
    assert "Besa Hoxha, Prevention officer" in mine["text"] and "A question to start with:" in mine["text"]
    assert {label for label in labels(mine)} == {"Write to Besa", "Write to Marie"}
    async with peers_app.database.session() as session:
        pairs = (await session.scalars(select(Introduction).where(Introduction.round_id == 1))).all()
    assert len(pairs) == 3 and {p.status for p in pairs} == {"accepted"}
    # the matched pair can write to each other at once
    [prompt] = await ConsoleChat(peers_app, "amina").press(payload_of(mine, "Write to Besa"))
    assert "Write your message for Besa Hoxha" in prompt.text


async def test_matching_avoids_blocked_and_recent_pairs_and_tells_who_is_left_out(peers_app: BotApp) -> None:
    chats = await with_profiles(
        peers_app, "amina", "besa", amina={"matching": "yes"}, besa={"matching": "yes"}
    )
    [report] = await StaffChat(peers_app).send("/matching run")
    assert "1 pairs" in report.text
    peers_app.services.clock.advance(days=1)  # type: ignore[attr-defined]
    [report] = await StaffChat(peers_app).send("/matching run")  # they met last round
    assert report.text.endswith("0 pairs, 0 trios, 2 without a match.")
    assert any(
        "could not find you a match" in p["text"]
        for p in (await outbox(peers_app, "match:2:%:none")).values()
    )
    del chats


async def test_focal_points_join_skip_and_leave_matching_rounds(
    peers_app: BotApp, start_clock: FakeClock
) -> None:
    peers_app.services.settings.matching_enabled = True
    chats = await with_profiles(peers_app, "amina", "besa")
    [status] = await chats["amina"].send("/matching")
    assert "You are not taking part" in status.text
    await chats["amina"].press_label("Join matching rounds")
    await chats["besa"].send("/matching")
    await chats["besa"].press_label("Join matching rounds")
    scheduler = build_scheduler(peers_app, start_clock)
    assert isinstance(scheduler, VirtualScheduler)
    await scheduler.start()
    # announced a day before the 1st of January, 09:00 UTC, with a skip button
    await scheduler.advance_to(datetime(2026, 12, 31, 8, 59, tzinfo=UTC))
    assert await outbox(peers_app, "match:%:announce") == {}
    await scheduler.advance_to(datetime(2026, 12, 31, 9, 0, tzinfo=UTC))
    announced = await outbox(peers_app, "match:%:announce")
    assert len(announced) == 2
    amina_id = await person_id(peers_app, "amina")
    notice = next(p for k, p in announced.items() if f":p{amina_id}:" in k)
    assert "The next matching round is on" in notice["text"] and "Skip this round" in labels(notice)
    [skipped] = await chats["amina"].press(payload_of(notice, "Skip this round"))
    assert "You skip the round of" in skipped.text
    await scheduler.advance_to(datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    async with peers_app.database.session() as session:
        done = await session.scalar(select(MatchRound).where(MatchRound.status == "done"))
    assert done is not None and done.taking_part == 1 and done.unmatched == 1
    # the next round is a month later
    async with peers_app.database.session() as session:
        plan = await matching.plan(session, matching.Schedule(), start_clock.now())
    assert plan is not None and plan.run_at == datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    await chats["amina"].send("/matching")
    [left] = await chats["amina"].press_label("Leave matching rounds")
    assert "You left matching rounds" in left.text
