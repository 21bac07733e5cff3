"""Soak: the whole bot under mixed traffic for a long while, watched for anything that grows without bound.

`make soak` (= `python -m bench.soak`): 30 minutes on SQLite; `--database postgres` runs on a fresh
PostgreSQL schema. Not part of `make test` or `make bench`. A quick check of the soak itself:
`python -m bench.soak --minutes 2 --interval 0.5`.

Set-up (the building blocks of bench/inbound.py): the bot as `run_bot.py` runs it, `build_app`,
`start_platforms` and the scheduler (`build_scheduler`), with the TelegramAdapter in webhook mode and
the SlackAdapter in HTTP mode on the shared web server, the outbox deliverers and the log at INFO (to a
file). The Telegram emulator (rate limits lifted), the Slack emulator and every simulated person run in
a child process, so their CPU and memory are not the bot's. The database is seeded with the demo
network (`bot.domain.demo`: cities, focal points with profiles, an event, an application); its focal
points are moved onto Telegram and more are added in the same cities, `--users` of them in all.

Traffic, for the whole run:
- each focal point is a closed loop (one update, wait for the bot's answer, a pause of about
  `--think` seconds, the next): /start, questions from tests/data/qa in its own and in another
  language, menu and related-topic buttons, /language and a language button, /peers and the
  directory's page and filter buttons, /events and an event's card, RSVP buttons of the invitations
  and reminders it received, /help, /introductions, asking a peer for an introduction now and then,
  and accepting (sometimes declining) the requests it received;
- a staff member on Slack (a member of the staff channel) in turn: an event (the form in a modal,
  then Publish) starting 11-12 minutes later with reminders 10 and 5 minutes before, so reminders
  fire within the run; announcements to everyone or a region or a language (form, preview, Send), so
  the outbox delivers batches and the live report is posted and edited in the staff channel;
  `/scn stats`, `/scn event list`, `/scn questions`.

Measured in the bot's process at the start (before any traffic), every `--interval` minutes and at
the end (under load), then once more after the load stopped and the outbox drained ("settled",
shown, not judged): resident memory (VmRSS, after a `gc.collect()`), open file descriptors, asyncio
tasks, threads (aiosqlite keeps one per connection), the SQLAlchemy pool (connections checked out,
and open = checked out + idle in the pool), on PostgreSQL the server's connections to the database
(`pg_stat_activity` for the current database: other clients of that database count too), Python
objects tracked by the garbage collector (shown, not judged), and per interval the messages the core
handled, the outbox messages sent and the simulated people's latency (update sent to first answer).

Verdict, over the samples under load; the first of them (after one interval) is the warm-up:
- resident memory fails when the last sample is more than 25% above the warm-up, or when, over the
  second half of the samples (at least three, spanning at least 10 minutes: a shorter run is judged
  by the 25% alone), it rose at every sample and its least-squares slope is over 2 MB per 5 minutes;
- file descriptors, tasks, threads, pool connections (checked out, open) and PostgreSQL connections
  each fail when they are higher at every sample than at the one before and the last is above the
  warm-up by more than a small allowance (10 fds, 20 tasks, 4 threads, 4 checked out, 2 open, 2 on
  the server);
- with fewer than three samples under load there is no growth verdict (said so);
- the run also fails when the traffic stops: an interval in which the core handled nothing, or the
  emulator process failing.
Exit 0 when nothing failed, 1 otherwise (each failure on its own line), 2 when PostgreSQL is asked
for and unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import logging
import math
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.inbound import (
    LANGUAGES,
    POSTGRES_URL,
    REPLY_METHODS,
    STEP_TIMEOUT_S,
    WEBHOOK_PATH,
    WEBHOOK_SECRET,
    _close_log,
    _drop_schema,
    _free_port,
    _postgres_reachable,
    _questions,
    _receive,
    _Users,
    percentile,
)

MINUTES = 30.0
INTERVAL = 5.0  # minutes between samples
USERS = 20
THINK_S = 0.5  # a simulated person's pause between two updates, on average
FIRST_CHAT = 30_000_001  # Telegram ids of the simulated focal points
PRESS_GRACE_S = 5.0  # after a press was answered, how long its message may take
SETTLE_S = 60.0  # after the load: at most this long for the outbox to drain
EVENT_ZONE = "Africa/Nairobi"
EVENT_LEAD = timedelta(minutes=11)  # an event starts 11-12 minutes after staff creates it
EVENT_REMINDERS = "10m,5m"  # so both reminders fire 1-2 and 6-7 minutes after it was published

RSS_GROWTH = 0.25  # the last sample may be at most 25% above the warm-up
RSS_SLOPE_MB_PER_5_MIN = 2.0
SLOPE_SPAN_MIN = 10.0  # the slope is judged over at least this many minutes (else not at all)
# metric -> how far above the warm-up a steady rise may end before it counts as growth
ALLOWANCE: dict[str, float] = {
    "fds": 10,
    "tasks": 20,
    "threads": 4,
    "db_out": 4,
    "db_open": 2,
    "pg_conns": 2,
}

# Staff's turns on Slack, in order, over and over.
STAFF_TURNS = ("event", "announce", "stats", "announce", "event list", "event", "announce", "questions")
AUDIENCES = ("all", "all", "region:Africa", "all", "language:fr")
ANNOUNCEMENTS: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "The *regional hub call* is on Thursday at 14:00 UTC. Agenda: <https://strongcitiesnetwork.org/|here>.",
        {"fr": "L'appel du *hub régional* a lieu jeudi à 14h00 UTC.",
         "ar": "مكالمة *المركز الإقليمي* يوم الخميس الساعة 14:00 بالتوقيت العالمي."},
    ),
    (
        "A new toolkit on _youth engagement_ against online hate is out: share it with your teams.",
        {"es": "Ya está disponible una nueva guía sobre _participación juvenil_ frente al odio en línea.",
         "sw": "Mwongozo mpya kuhusu _ushiriki wa vijana_ dhidi ya chuki mtandaoni umetoka."},
    ),
    (
        "Registration for the Global Summit is open until the end of the month.",
        {"ru": "Регистрация на Глобальный саммит открыта до конца месяца.",
         "sq": "Regjistrimi për Samitin Global është i hapur deri në fund të muajit."},
    ),
)  # fmt: skip
PEER_FILTERS = ("", "", "", "youth", "Africa", "online hate", "MENA", "schools")


# -- the child process: both emulators and every simulated person --------------------------------------


@dataclass
class _Person:
    index: int
    user: Any  # TgUser
    home: str
    other: str
    rng: random.Random
    pressed: set[int] = field(default_factory=set)  # message ids of invitations/requests answered
    asked: int = 0


class _Traffic:
    """The simulated focal points (Telegram) and the staff member (Slack), until `stop`."""

    def __init__(self, telegram: Any, slack: Any, plan: dict[str, Any]) -> None:
        from tests.emulators import slack_payloads
        from tests.slack_harness import SIGNING_SECRET

        self.telegram, self.slack, self.plan = telegram, slack, plan
        self.sender = slack_payloads.SlackRequestSender(f"{plan['bot_url']}/slack/events", SIGNING_SECRET)
        self.questions = _questions()
        self.counts: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.replies: defaultdict[int, int] = defaultdict(int)  # chat -> reply calls seen
        self.answered: set[str] = set()  # callback query ids answered, not yet taken by their waiter
        self.query_chats: dict[str, int] = {}
        self.wakeups: dict[int, asyncio.Event] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.stopping = False
        self.staff_turn = 0
        telegram.call_listeners.append(self._on_call)
        telegram.webhook_listeners.append(self._on_post)

    # -- what the emulator saw -----------------------------------------------------------------------

    def _on_post(self, update: dict[str, Any]) -> None:
        query = update.get("callback_query")
        if query is not None:
            self.query_chats[str(query["id"])] = int(query["message"]["chat"]["id"])

    def _on_call(self, call: Any) -> None:
        if call.method == "answerCallbackQuery":
            chat = self.query_chats.pop(str(call.params.get("callback_query_id")), None)
            if chat is None:
                return
            self.answered.add(str(call.params.get("callback_query_id")))
        elif call.method in REPLY_METHODS:
            chat = call.params.get("chat_id")
            if not isinstance(chat, int):
                return
            if call.status != 200:
                self.counts["refused calls"] += 1
                return
            self.replies[chat] += 1
        else:
            return
        wakeup = self.wakeups.get(chat)
        if wakeup is not None:
            wakeup.set()

    async def _wait(self, chat: int, ready: Callable[[], bool], within: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        wakeup = self.wakeups.setdefault(chat, asyncio.Event())
        while not ready():
            wakeup.clear()
            left = deadline - loop.time()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(wakeup.wait(), left)
            except TimeoutError:
                return ready()
        return True

    # -- one update and its answer ---------------------------------------------------------------------

    async def _text(self, me: _Person, text: str, kind: str) -> bool:
        chat = int(me.user.id)
        before, started = self.replies[chat], time.perf_counter()
        await self.telegram.send_text(me.user, text)
        answered = await self._wait(chat, lambda: self.replies[chat] > before, STEP_TIMEOUT_S)
        return self._done(kind, started, answered)

    async def _command(self, me: _Person, name: str, args: str = "") -> bool:
        return await self._text(me, f"/{name} {args}".strip(), f"/{name}")

    async def _press(self, me: _Person, message: Any, data: str, kind: str) -> bool:
        chat = int(me.user.id)
        before, started = self.replies[chat], time.perf_counter()
        update = await self.telegram.press_button(me.user, message, data)
        query = str(update["callback_query"]["id"])
        answered = await self._wait(chat, lambda: query in self.answered, STEP_TIMEOUT_S)
        self.answered.discard(query)
        if answered:
            await self._wait(chat, lambda: self.replies[chat] > before, PRESS_GRACE_S)
        return self._done(kind, started, answered)

    def _done(self, kind: str, started: float, answered: bool) -> bool:
        self.counts[kind] += 1
        if answered:
            self.latencies.append((time.perf_counter() - started) * 1000)
        else:
            self.counts[f"unanswered {kind}"] += 1
        return answered

    def _newest(
        self, me: _Person, wanted: Callable[[str], bool], depth: int = 12, fresh: bool = False
    ) -> tuple[Any, list[str]] | None:
        """The newest of the chat's last `depth` messages with buttons `wanted`, and those buttons."""
        for message in reversed(self.telegram.sent_messages(int(me.user.id))[-depth:]):
            if fresh and message.message_id in me.pressed:
                continue
            found = [data for data in message.callback_data if wanted(data)]
            if found:
                return message, found
        return None

    # -- a focal point ---------------------------------------------------------------------------------

    async def focal_point(self, me: _Person) -> None:
        actions: tuple[tuple[Callable[[_Person], Awaitable[None]], int], ...] = (
            (self._start, 6), (self._ask_home, 16), (self._ask_other, 6), (self._menu, 5),
            (self._topic, 5), (self._language, 3), (self._peers, 6), (self._events, 4),
            (self._rsvp, 6), (self._help, 3), (self._introductions, 2), (self._ask_introduction, 2),
        )  # fmt: skip
        doers, weights = zip(*actions, strict=True)
        await asyncio.sleep(me.rng.uniform(0, 2))
        while not self.stopping:
            request = self._newest(me, lambda d: d.startswith("intro:accept:"), fresh=True)
            try:
                if request is not None and me.rng.random() < 0.5:
                    await self._answer_request(me, *request)
                else:
                    await me.rng.choices(doers, weights)[0](me)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a step the simulation got wrong: counted, and on to the next
                self.counts["step errors"] += 1
                if len(self.errors) < 20:
                    self.errors.append(f"focal point {me.index}: {type(error).__name__}: {error}")
            think = float(self.plan["think"])
            await asyncio.sleep(me.rng.uniform(0.5 * think, 1.5 * think))

    def _question(self, me: _Person, language: str) -> str:
        pool = self.questions[language]
        me.asked += 1
        return pool[(me.index * 7 + me.asked) % len(pool)]

    async def _start(self, me: _Person) -> None:
        await self._command(me, "start")

    async def _ask_home(self, me: _Person) -> None:
        await self._text(me, self._question(me, me.home), "question")

    async def _ask_other(self, me: _Person) -> None:
        await self._text(me, self._question(me, me.other), "question (other language)")

    async def _help(self, me: _Person) -> None:
        await self._command(me, "help")

    async def _introductions(self, me: _Person) -> None:
        await self._command(me, "introductions")

    async def _menu(self, me: _Person) -> None:
        found = self._newest(me, lambda d: d in ("menu:ask", "menu:help", "lang:menu"), depth=4)
        if found is None:
            await self._start(me)
            return
        message, buttons = found
        await self._press(me, message, me.rng.choice(buttons), "menu button")

    async def _topic(self, me: _Person) -> None:
        found = self._newest(me, lambda d: d.startswith("topic:"), depth=3)
        if found is None:
            await self._ask_home(me)
            return
        message, buttons = found
        await self._press(me, message, me.rng.choice(buttons), "topic button")

    async def _language(self, me: _Person) -> None:
        if not await self._command(me, "language"):
            return
        language = me.other if me.rng.random() < 0.3 else me.home
        found = self._newest(me, lambda d: d == f"lang:set:{language}", depth=2)
        if found is not None:
            await self._press(me, found[0], found[1][0], "language button")

    async def _peers(self, me: _Person) -> None:
        if not await self._command(me, "peers", me.rng.choice(PEER_FILTERS)):
            return
        for _ in range(me.rng.choice((0, 1, 1, 2))):  # pages, filters and their choices (edits)
            found = self._newest(me, lambda d: d.startswith(("peers:", "#")), depth=2)
            if found is None:
                return
            message, buttons = found
            if not await self._press(me, message, me.rng.choice(buttons), "directory button"):
                return

    async def _events(self, me: _Person) -> None:
        if not await self._command(me, "events") or me.rng.random() < 0.5:
            return
        found = self._newest(me, lambda d: d.startswith("events:"), depth=2)
        if found is not None:
            await self._press(me, found[0], me.rng.choice(found[1]), "event card button")

    async def _rsvp(self, me: _Person) -> None:
        found = self._newest(me, lambda d: d.startswith("rsvp:"), depth=20, fresh=True)
        if found is None:
            await self._events(me)
            return
        message, buttons = found
        me.pressed.add(message.message_id)
        choice = me.rng.choices(buttons, weights=[5, 3, 2][: len(buttons)])[0]
        await self._press(me, message, choice, "RSVP button")

    async def _ask_introduction(self, me: _Person) -> None:
        if not await self._command(me, "peers"):
            return
        found = self._newest(me, lambda d: d.startswith("askintro:ask:"), depth=2)
        if found is None:
            return
        if not await self._press(me, found[0], me.rng.choice(found[1]), "introduction asked"):
            return
        confirm = self._newest(me, lambda d: d.startswith("askintro:send:"), depth=2)
        if confirm is not None:
            await self._press(me, confirm[0], confirm[1][0], "introduction sent")

    async def _answer_request(self, me: _Person, message: Any, buttons: list[str]) -> None:
        me.pressed.add(message.message_id)
        accept = me.rng.random() < 0.75
        wanted = "intro:accept:" if accept else "intro:decline:"
        data = next((d for d in message.callback_data if d.startswith(wanted)), buttons[0])
        await self._press(me, message, data, "introduction accepted" if accept else "introduction declined")

    # -- the staff member on Slack -----------------------------------------------------------------------

    async def staff(self) -> None:
        every = float(self.plan["staff_every"])
        while not self.stopping:
            turn = STAFF_TURNS[self.staff_turn % len(STAFF_TURNS)]
            self.staff_turn += 1
            started = time.perf_counter()
            try:
                done = await self._staff_turn(turn)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                done = False
                if len(self.errors) < 20:
                    self.errors.append(f"staff {turn}: {type(error).__name__}: {error}")
            self.counts[f"staff: {turn}" if done else f"staff failed: {turn}"] += 1
            await asyncio.sleep(max(0.0, every - (time.perf_counter() - started)))

    async def _staff_turn(self, turn: str) -> bool:
        if turn == "announce":
            number = self.staff_turn
            text, versions = ANNOUNCEMENTS[number % len(ANNOUNCEMENTS)]
            values: dict[str, str] = {
                "text": f"{text} (#{number})",
                "audience": AUDIENCES[number % len(AUDIENCES)],
            }
            values |= {f"text_{code}": body for code, body in versions.items()}
            return await self._staff_form("announce", values, "announce:send:")
        if turn == "event":
            start = datetime.now(ZoneInfo(EVENT_ZONE)) + EVENT_LEAD + timedelta(minutes=1)
            values = {
                "title": f"Peer exchange #{self.staff_turn}: prevention with young people",
                "description": "Focal points share what worked. Questions welcome.",
                "starts_at": start.strftime("%Y-%m-%d %H:%M"),
                "time_zone": EVENT_ZONE,
                "duration_minutes": "45",
                "location": "https://strongcitiesnetwork.org/ (online)",
                "audience": "all",
                "reminders": EVENT_REMINDERS,
                "title_fr": f"Échange entre pairs n° {self.staff_turn} : la prévention avec les jeunes",
            }
            return await self._staff_form("event new", values, "event:publish:")
        status, _ = await self._slash(turn)
        return status == 200

    async def _slash(self, text: str, trigger: str | None = None) -> tuple[int, str]:
        from tests.emulators import slack_payloads
        from tests.slack_harness import CHANNEL_MEMBER, STAFF_CHANNEL

        body = slack_payloads.slash_command(
            text=text, user_id=CHANNEL_MEMBER, channel_id=STAFF_CHANNEL, trigger_id=trigger
        )
        return await self.sender.post(*body)

    def _slack_call(self, method: str, argument: str, value: str) -> Any:
        return next(
            (c for c in reversed(self.slack.calls) if c.method == method and c.args.get(argument) == value),
            None,
        )

    async def _staff_form(self, command: str, values: dict[str, str], confirm: str) -> bool:
        """`/scn <command>` opens a modal; submit it with `values`; press the button `confirm` in the
        preview that replaces it; wait for the modal's update."""
        from bot.adapters.slack_blocks import FORM_PREFIX, VALUE_ACTION
        from tests.emulators import slack_payloads
        from tests.slack_harness import CHANNEL_MEMBER

        trigger = self.slack.issue_trigger_id()
        status, _ = await self._slash(command, trigger)
        if status != 200:
            return False
        await self.slack.wait_for(
            lambda: self._slack_call("views.open", "trigger_id", trigger), STEP_TIMEOUT_S
        )
        opened = self._slack_call("views.open", "trigger_id", trigger)
        if not opened.response.get("ok"):
            raise RuntimeError(f"views.open refused: {opened.response.get('error')}")
        view = opened.response["view"]
        fields = {block.get("block_id"): block for block in view["blocks"] if block.get("type") == "input"}
        state: dict[str, Any] = {}
        for key, value in values.items():
            kind = fields[key]["element"]["type"]
            if kind == "static_select":
                state[key] = {VALUE_ACTION: {"type": kind, "selected_option": {"value": value}}}
            else:
                state[key] = {VALUE_ACTION: {"type": kind, "value": value}}
        submission = slack_payloads.view_submission(
            view["callback_id"], state, view["private_metadata"], user_id=CHANNEL_MEMBER, view_id=view["id"]
        )
        assert view["callback_id"].startswith(FORM_PREFIX)
        status, text = await self.sender.post(*submission)
        answer = json.loads(text) if status == 200 and text else {}
        if answer.get("response_action") != "update":
            raise RuntimeError(f"the form was not accepted: {status} {text[:300]}")
        button = next(
            (element for block in answer["view"]["blocks"] if block.get("type") == "actions"
             for element in block["elements"] if str(element.get("value", "")).startswith(confirm)),
            None,
        )  # fmt: skip
        if button is None:
            self.counts["staff: nobody to send to"] += 1
            return False
        press = slack_payloads.block_actions(
            button["action_id"],
            button["value"],
            user_id=CHANNEL_MEMBER,
            view={"id": view["id"], "type": "modal"},
        )
        status, _ = await self.sender.post(*press)
        if status != 200:
            return False
        await self.slack.wait_for(
            lambda: self._slack_call("views.update", "view_id", view["id"]), STEP_TIMEOUT_S
        )
        return True

    # -- the emulators' records, kept short ----------------------------------------------------------

    async def trim(self) -> None:
        """Forget what the emulators recorded long ago (they keep everything), so a long run does not
        fill the child's memory. Recent messages stay: only they get pressed or edited. (The callback
        queries stay too: the emulator numbers them by their count.)"""
        while not self.stopping:
            await asyncio.sleep(20)
            telegram = self.telegram
            messages = telegram._bot_messages
            for chat, sent in messages.by_chat.items():
                if len(sent) > 40:
                    messages.by_chat[chat] = sent[-40:]
            del messages.sent[:-500]
            del telegram.calls[:-500]
            telegram.callback_answers.clear()
            del telegram.webhook_deliveries[:-100]
            del self.slack.calls[:-300]
            self.slack.ephemerals.clear()

    def snapshot(self) -> dict[str, Any]:
        taken, self.latencies = self.latencies, []
        return {"counts": dict(self.counts), "latencies": taken, "errors": list(self.errors),
                "cpu": time.process_time()}  # fmt: skip


async def _serve_emulators(channel: Connection) -> None:
    from tests.emulators.telegram import TelegramEmulator
    from tests.emulators.telegram_limits import TelegramLimits
    from tests.emulators.telegram_spec import BotApiSpec
    from tests.slack_harness import populate, slack_emulator

    # Telegram's flood limits lifted, as in bench/inbound.py; the text and button limits stay.
    lifted = TelegramLimits(
        per_chat_per_second=1e9, per_chat_burst=10**9, overall_per_second=1e9, group_per_minute=1e9
    )
    telegram: Any = None
    slack: Any = None
    traffic: _Traffic | None = None
    while True:
        command, argument = await _receive(channel)
        try:
            if command == "quit":
                return
            if command == "open":
                telegram = TelegramEmulator(limits=lifted, spec=BotApiSpec.load())
                await telegram.start()
                slack = slack_emulator()
                populate(slack)
                await slack.start()
                channel.send(("ok", {"telegram": (telegram.token, telegram.base_url),
                                     "slack": (slack.bot_token, slack.base_url)}))  # fmt: skip
            elif command == "go":
                traffic = _Traffic(telegram, slack, argument)
                for index, (chat, name, language, username, simulated) in enumerate(argument["people"]):
                    user = telegram.user(chat, name, language_code=language, username=username)
                    if simulated:
                        other = LANGUAGES[(LANGUAGES.index(language) + 3) % len(LANGUAGES)]
                        me = _Person(index, user, language, other, random.Random(argument["seed"] + index))
                        traffic.tasks.append(asyncio.create_task(traffic.focal_point(me)))
                traffic.tasks.append(asyncio.create_task(traffic.staff()))
                traffic.tasks.append(asyncio.create_task(traffic.trim()))
                channel.send(("ok", None))
            elif command == "count":
                assert traffic is not None
                channel.send(("ok", traffic.snapshot()))
            elif command == "stop":
                assert traffic is not None
                traffic.stopping = True
                for task in traffic.tasks:
                    task.cancel()
                await asyncio.gather(*traffic.tasks, return_exceptions=True)
                channel.send(("ok", traffic.snapshot()))
            elif command == "close":
                for emulator in (telegram, slack):
                    if emulator is not None:
                        await emulator.stop()
                channel.send(("ok", None))
        except Exception:
            channel.send(("error", traceback.format_exc()))


def _emulators_process(channel: Connection) -> None:
    asyncio.run(_serve_emulators(channel))


class _Emulators(_Users):
    """The child process (both emulators and the simulated people), seen from the bot's side: the
    `ask` and `quit` of bench/inbound.py's, another process."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._channel, theirs = context.Pipe()
        self._process = context.Process(target=_emulators_process, args=(theirs,), daemon=True)
        self._process.start()


# -- the bot's side: seeding and measuring ---------------------------------------------------------------


async def seed_network(app: Any, users: int) -> list[tuple[int, str, str, str | None, bool]]:
    """The demo network with its focal points moved onto Telegram, plus more focal points (with
    profiles, listed and open to introductions) in its cities, `users` in all. Returns each Telegram
    person as (chat id, first name, language, username, simulated): demo people beyond `users` are
    on Telegram but quiet."""
    from sqlalchemy import select

    from bot.domain import demo, profiles
    from bot.storage.people import City, Person, PlatformIdentity, Role

    now = app.services.clock.now()
    async with app.database.session() as session:
        await demo.seed(session, app.services.outbox, app.services.catalogs, now)
    people: list[tuple[int, str, str, str | None, bool]] = []
    demo_people = (*demo.PEERS, demo.ME)
    async with app.database.session() as session:
        for index, peer in enumerate(demo_people):
            identity = await session.scalar(
                select(PlatformIdentity).where(
                    PlatformIdentity.platform == demo.PLATFORM, PlatformIdentity.external_id == peer.handle
                )
            )
            assert identity is not None
            chat = FIRST_CHAT + index
            identity.platform, identity.external_id, identity.chat_id = "telegram", str(chat), str(chat)
            username = peer.handle if index % 2 == 0 else None
            people.append((chat, peer.name.split()[0], peer.language, username, index < users))
        cities = {
            name: city_id for city_id, name in (await session.execute(select(City.id, City.name))).all()
        }
        for index in range(len(demo_people), users):
            template = demo.PEERS[index % len(demo.PEERS)]
            language = LANGUAGES[index % len(LANGUAGES)]
            first = f"{template.name.split()[0]}{index}"
            chat = FIRST_CHAT + index
            person = Person(display_name=f"{first} {template.name.split()[-1]}", role=Role.FOCAL_POINT.value,
                            language=language, city_id=cities[template.city.name], created_at=now,
                            last_seen_at=now)  # fmt: skip
            person.identities.append(
                PlatformIdentity(platform="telegram", external_id=str(chat), chat_id=str(chat))
            )
            session.add(person)
            await session.flush()
            spoken = tuple(dict.fromkeys((language, *template.languages)))
            values = profiles.ProfileValues(person.display_name, template.role, spoken, template.topics,
                                            listed=True, introductions=True, matching=True)  # fmt: skip
            await profiles.save(session, person, values, now)
            people.append((chat, first, language, f"fp{index}" if index % 2 == 0 else None, True))
    return people


@dataclass
class Sample:
    label: str
    minute: float
    under_load: bool
    rss_mb: float
    fds: int
    tasks: int
    threads: int
    db_out: int | None
    db_open: int | None
    pg_conns: int | None
    objects: int
    handled: int = 0  # in the interval before the sample
    sent: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    bot_cpu: float | None = None  # % of one core in the interval
    emulator_cpu: float | None = None


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource  # peak, not current: only where /proc is missing

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # the listing's own descriptor
    except OSError:
        return -1


async def measure(app: Any, label: str, minute: float, under_load: bool) -> Sample:
    """One sample of the bot's process (see the module docstring)."""
    from sqlalchemy import text

    gc.collect()
    pool = app.database.engine.pool
    checked_out = getattr(pool, "checkedout", None)
    checked_in = getattr(pool, "checkedin", None)
    db_out = checked_out() if checked_out else None
    db_open = db_out + checked_in() if db_out is not None and checked_in else None
    pg_conns = None
    if not app.database.is_sqlite:
        async with app.database.engine.connect() as connection:
            pg_conns = int(
                await connection.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                )
            )
    return Sample(label, minute, under_load, _rss_mb(), _fds(), len(asyncio.all_tasks()),
                  threading.active_count(), db_out, db_open, pg_conns, len(gc.get_objects()))  # fmt: skip


async def _sent(app: Any) -> int:
    from sqlalchemy import func, select

    from bot.storage.delivery import Delivery, DeliveryStatus

    async with app.database.session() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.SENT.value)
            )
            or 0
        )


COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("sample", "label", 9), ("min", "minute", 6), ("rss MB", "rss_mb", 7), ("fds", "fds", 5),
    ("tasks", "tasks", 6), ("threads", "threads", 8), ("db out", "db_out", 7), ("db open", "db_open", 8),
    ("pg conns", "pg_conns", 9), ("objects", "objects", 9), ("handled", "handled", 8), ("sent", "sent", 6),
    ("p50 ms", "p50_ms", 7), ("p95 ms", "p95_ms", 7), ("cpu %", "bot_cpu", 6), ("emu %", "emulator_cpu", 6),
)  # fmt: skip


def header() -> str:
    return " ".join(f"{title:>{width}}" for title, _, width in COLUMNS)


def row(sample: Sample) -> str:
    cells = []
    for _, name, width in COLUMNS:
        value = getattr(sample, name)
        if value is None:
            shown = "-"
        elif name == "label":
            shown = str(value)
        elif name == "minute":
            shown = f"{value:.2f}".rstrip("0").rstrip(".")
        elif isinstance(value, float):
            shown = f"{value:.1f}"
        else:
            shown = str(value)
        cells.append(f"{shown:>{width}}")
    return " ".join(cells)


def _slope_per_minute(points: list[tuple[float, float]]) -> float:
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def verdict(samples: list[Sample]) -> tuple[list[str], list[str]]:
    """(failures, notes) for the samples taken under load, by the rules of the module docstring."""
    loaded = [sample for sample in samples if sample.under_load]
    if len(loaded) < 3:
        return [], [f"only {len(loaded)} sample(s) under load: no growth verdict (run longer)"]
    warm, last = loaded[0], loaded[-1]
    failures: list[str] = []
    notes: list[str] = []
    if last.rss_mb > warm.rss_mb * (1 + RSS_GROWTH):
        failures.append(
            f"resident memory grew {last.rss_mb - warm.rss_mb:.1f} MB ({last.rss_mb / warm.rss_mb - 1:.0%}) "
            f"from the warm-up ({warm.rss_mb:.1f} MB at {warm.minute:g} min) to {last.rss_mb:.1f} MB: "
            f"more than {RSS_GROWTH:.0%}"
        )
    half = loaded[-max(3, math.ceil(len(loaded) / 2)) :]
    slope = _slope_per_minute([(s.minute, s.rss_mb) for s in half]) * 5
    rising = all(b.rss_mb > a.rss_mb for a, b in itertools.pairwise(half))
    notes.append(
        f"resident memory: {slope:+.2f} MB per 5 min over the last {len(half)} samples "
        f"({'rising at each' if rising else 'not rising at each'}), {last.rss_mb / warm.rss_mb - 1:+.1%} "
        "since the warm-up"
    )
    span = half[-1].minute - half[0].minute
    if span < SLOPE_SPAN_MIN:
        notes.append(
            f"the slope rule needs the second half to span {SLOPE_SPAN_MIN:g} minutes ({span:g} here): "
            f"not applied, only the {RSS_GROWTH:.0%} rule"
        )
    elif rising and slope > RSS_SLOPE_MB_PER_5_MIN:
        failures.append(
            f"resident memory rose at every one of the last {len(half)} samples, by {slope:.2f} MB per "
            f"5 minutes (tolerance {RSS_SLOPE_MB_PER_5_MIN:g})"
        )
    for name, allowance in ALLOWANCE.items():
        values = [getattr(s, name) for s in loaded]
        if any(value is None for value in values):
            continue
        if all(b > a for a, b in itertools.pairwise(values)) and values[-1] > values[0] + allowance:
            failures.append(
                f"{name} rose at every sample, {' -> '.join(str(v) for v in values)}: "
                f"{values[-1] - values[0]} above the warm-up (allowance {allowance:g})"
            )
    return failures, notes


# -- the run ---------------------------------------------------------------------------------------------


class _LogCounter(logging.Handler):
    """Counts the bot's warnings and errors, and keeps the first few distinct ones."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname] += 1
        key = f"{record.levelname} {record.name}: {record.msg}"
        if key not in self.first and len(self.first) < 12:
            self.first[key] = f"{record.levelname} {record.name}: {record.getMessage()[:200]}"


async def _summary(app: Any) -> list[str]:
    """What the run made, from the database: outbox messages by kind and status, and more."""
    from sqlalchemy import func, select

    from bot.storage.announcements import Announcement
    from bot.storage.delivery import Delivery
    from bot.storage.events import Event, EventInvitee
    from bot.storage.peers import Introduction

    async with app.database.session() as session:
        rows = (await session.execute(select(Delivery.key, Delivery.platform, Delivery.status))).all()
        announcements = await session.scalar(select(func.count()).select_from(Announcement))
        published = await session.scalar(
            select(func.count()).select_from(Event).where(Event.published_at.is_not(None))
        )
        rsvps = await session.scalar(
            select(func.count()).select_from(EventInvitee).where(EventInvitee.rsvp.is_not(None))
        )
        introductions = (
            await session.execute(select(Introduction.status, func.count()).group_by(Introduction.status))
        ).all()
    kinds: Counter[tuple[str, str, str]] = Counter()
    for key, platform, status in rows:
        words = [w for w in key.split(":") if not w.lstrip("vp-").isdigit() and w != platform]
        kinds[(":".join(words[:2]), platform, status)] += 1
    lines = [
        f"announcements {announcements}, events published {published}, RSVPs {rsvps}, introductions "
        + (", ".join(f"{status} {count}" for status, count in sorted(introductions)) or "none")
    ]
    lines += [f"  outbox {kind:<22} {platform:<9} {status:<10} {count}"
              for (kind, platform, status), count in sorted(kinds.items())]  # fmt: skip
    return lines


@dataclass(frozen=True)
class Options:
    minutes: float = MINUTES
    interval: float = INTERVAL
    users: int = USERS
    database: str = "sqlite"
    think: float = THINK_S
    seed: int = 1


async def run_soak(options: Options) -> int:
    """The soak (see the module docstring); returns the exit code."""
    from pydantic import SecretStr

    from bot.config import Settings
    from bot.logs import setup_logging
    from bot.storage.database import Database
    from run_bot import build_app, build_scheduler, start_platforms
    from tests.slack_harness import LISTED_STAFF, SIGNING_SECRET, STAFF_CHANNEL

    if options.database == "postgres" and not await _postgres_reachable():
        return 2
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    emulators = _Emulators()
    samples: list[Sample] = []
    problems: list[str] = []
    final: dict[str, Any] = {}
    summary: list[str] = []
    logged = _LogCounter()
    schema = f"soak_{uuid.uuid4().hex[:12]}" if options.database == "postgres" else None
    started_at = time.monotonic()
    try:
        opened = await emulators.ask("open")
        (telegram_token, telegram_url), (slack_token, slack_url) = opened["telegram"], opened["slack"]
        port = _free_port()
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                bot_data_dir=Path(folder),
                bot_database_url=POSTGRES_URL if schema else None,
                bot_log_level="INFO",
                bot_http_host="127.0.0.1",
                bot_http_port=port,
                bot_flood_burst=1000,
                bot_flood_per_minute=100_000,
                telegram_bot_token=SecretStr(telegram_token),
                telegram_api_base_url=telegram_url,
                telegram_webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                telegram_webhook_secret=SecretStr(WEBHOOK_SECRET),
                slack_bot_token=SecretStr(slack_token),
                slack_app_token=None,
                slack_signing_secret=SecretStr(SIGNING_SECRET),
                slack_staff_user_ids=LISTED_STAFF,
                slack_staff_channel=STAFF_CHANNEL,
                slack_api_base_url=slack_url,
            )
            setup_logging(settings.bot_log_level, settings.secret_values(), file=Path(folder) / "bot.log")
            root.addHandler(logged)
            database = None
            if schema:
                database = Database(POSTGRES_URL, schema=schema)
                await database.upgrade()
            app = build_app(settings, database=database)
            handled = 0
            core = app.handle

            async def counted(incoming: Any) -> Any:
                nonlocal handled
                handled += 1
                return await core(incoming)

            app.handle = counted  # type: ignore[method-assign]
            try:
                await app.start()
                people = await seed_network(app, options.users)
                runtime = await start_platforms(app, settings)
                try:
                    await runtime.start_scheduler(build_scheduler(app))
                    samples, problems, final = await _load(app, emulators, options, people, port,
                                                           lambda: handled)  # fmt: skip
                    assert runtime.deliveries is not None
                    drained = await runtime.deliveries.drain(within=SETTLE_S)
                    await asyncio.sleep(1)
                    settled = await measure(app, "settled", options.minutes, under_load=False)
                    settled.handled = handled - sum(s.handled for s in samples)
                    samples.append(settled)
                    print(row(settled), flush=True)
                    if not drained:
                        print(f"soak: the outbox had not drained after {SETTLE_S:.0f} s", file=sys.stderr)
                    summary = await _summary(app)
                finally:
                    await runtime.stop()
            finally:
                await app.close()
                if schema:
                    await _drop_schema(schema)
                _close_log()
    finally:
        with contextlib.suppress(RuntimeError):  # the emulator process is gone already
            await emulators.ask("close")
        emulators.quit()
        root.handlers[:], root.level = saved_handlers, saved_level
    failures, notes = verdict(samples)
    counts: dict[str, int] = final.get("counts", {})
    print(f"\nsoak on {options.database}: {options.users} focal points, {options.minutes:g} min, "
          f"{time.monotonic() - started_at:.0f} s in all", flush=True)  # fmt: skip
    steps = {k: v for k, v in counts.items() if not k.startswith(("unanswered", "staff"))}
    print("updates sent: " + ", ".join(f"{k} {v}" for k, v in sorted(steps.items(), key=lambda kv: -kv[1])))
    staff = {k: v for k, v in counts.items() if k.startswith("staff")}
    print(
        "staff on Slack: "
        + ", ".join(f"{k.removeprefix('staff')[1:].strip()} {v}" for k, v in sorted(staff.items()))
    )
    unanswered = {k: v for k, v in counts.items() if k.startswith("unanswered")}
    print(
        "no answer in 60 s: " + (", ".join(f"{k[11:]} {v}" for k, v in sorted(unanswered.items())) or "none")
    )
    for line in summary:
        print(line)
    print("bot log: " + (", ".join(f"{v} {k}" for k, v in sorted(logged.counts.items())) or "no warnings"))
    for line in logged.first.values():
        print(f"  {line}")
    for error in final.get("errors", []):
        print(f"  simulation: {error}")
    for note in notes:
        print(f"note: {note}")
    failures = problems + failures
    for failure in failures:
        print(f"FAIL: {failure}")
    print("soak: FAILED" if failures else "soak: passed (nothing grew without bound)")
    return 1 if failures else 0


async def _load(
    app: Any,
    emulators: _Emulators,
    options: Options,
    people: list[tuple[int, str, str, str | None, bool]],
    port: int,
    handled: Callable[[], int],
) -> tuple[list[Sample], list[str], dict[str, Any]]:
    """Start the traffic, sample at the start, every interval and at the end, stop the traffic."""
    problems: list[str] = []
    print(header(), flush=True)
    first = await measure(app, "start", 0.0, under_load=False)
    print(row(first), flush=True)
    samples = [first]
    staff_every = min(60.0, max(15.0, options.minutes * 60 / 30))
    plan = {"bot_url": f"http://127.0.0.1:{port}", "people": people, "think": options.think,
            "seed": options.seed, "staff_every": staff_every}  # fmt: skip
    loop = asyncio.get_running_loop()
    handled_before, sent_before = handled(), await _sent(app)
    await emulators.ask("go", plan)
    began = loop.time()
    wall, cpu, emulator_cpu = began, time.process_time(), (await emulators.ask("count"))["cpu"]
    marks = [options.interval * k for k in range(1, math.ceil(options.minutes / options.interval) + 1)]
    marks = [min(mark, options.minutes) for mark in marks]
    for number, mark in enumerate(marks):
        await asyncio.sleep(max(0.0, began + mark * 60 - loop.time()))
        last = number == len(marks) - 1
        snapshot = await emulators.ask("count")
        sample = await measure(app, "end" if last else f"{mark:g} min", mark, under_load=True)
        now_handled, now_sent = handled(), await _sent(app)
        sample.handled, sample.sent = now_handled - handled_before, now_sent - sent_before
        handled_before, sent_before = now_handled, now_sent
        now_wall, now_cpu = loop.time(), time.process_time()
        sample.bot_cpu = 100 * (now_cpu - cpu) / (now_wall - wall)
        sample.emulator_cpu = 100 * (snapshot["cpu"] - emulator_cpu) / (now_wall - wall)
        wall, cpu, emulator_cpu = now_wall, now_cpu, snapshot["cpu"]
        latencies = snapshot["latencies"]
        if latencies:
            sample.p50_ms, sample.p95_ms = percentile(latencies, 0.5), percentile(latencies, 0.95)
        samples.append(sample)
        print(row(sample), flush=True)
        if sample.handled == 0:
            problems.append(f"the traffic stopped: nothing handled in the interval up to {mark:g} min")
    final = await emulators.ask("stop")
    return samples, problems, final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=MINUTES, help="how long the load lasts (30)")
    parser.add_argument("--interval", type=float, default=INTERVAL, help="minutes between samples (5)")
    parser.add_argument("--users", type=int, default=USERS, help="simulated focal points (default 20)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--think", type=float, default=THINK_S, help="seconds between a person's updates")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated people's choices")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.interval <= 0 or args.users < 1 or args.think < 0:
        parser.error("--minutes and --interval must be positive, --users at least 1, --think not negative")
    options = Options(args.minutes, args.interval, args.users, args.database, args.think, args.seed)
    return asyncio.run(run_soak(options))


if __name__ == "__main__":
    sys.exit(main())
