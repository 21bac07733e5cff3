"""Fault suite: the platforms and the database fail while the bot delivers and answers.

Telegram and Slack faults run against the emulators with the real adapters on a simulated clock (the
production `VirtualTimer` and `SimulatedTime`): "down two minutes" is two minutes of simulated time
and a few milliseconds of real time. PostgreSQL faults put a TCP proxy (`tests.faults.TcpProxy`) in
front of the shared server: it refuses, black-holes or severs connections; the server is never
stopped. SIGKILL runs real bot processes on PostgreSQL (`tests.outbox_processes`).

Each test asserts that nothing accepted is lost, and duplicates stay within the stated bound: one per
worker per kill, none for an outage the process survives.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.adapters.slack import SlackAdapter
from bot.adapters.telegram import TelegramAdapter
from bot.adapters.web import WebServer
from bot.app import BotApp
from bot.clock import FakeClock, VirtualTimer
from bot.config import Settings
from bot.delivery.runner import DeliveryRunner
from bot.dispatcher import RECORDS_DOWN
from bot.messages import Reply as Reply_
from bot.payloads import PayloadStore
from bot.storage.database import Database
from bot.storage.delivery import Delivery, DeliveryBatch
from bot.storage.events import Event
from bot.storage.people import PlatformIdentity
from run_bot import build_app, build_scheduler, delivery_runner, subscribe_reports
from scheduler.runner import VirtualScheduler
from scheduler.simulated import SimulatedTime
from tests.conftest import POSTGRES_URL, _drop_schema, _postgres_database
from tests.emulators.slack import SlackEmulator
from tests.emulators.telegram import TelegramEmulator
from tests.emulators.telegram_records import ApiCall
from tests.faults import REFUSE, UNAVAILABLE, TcpProxy, TelegramOutage, call_counter
from tests.harness import ConsoleChat, StaffChat
from tests.people import add_focal_point
from tests.slack_harness import CHANNEL_MEMBER, SIGNING_SECRET, STAFF_CHANNEL, populate

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TWO_MINUTES = 120.0
CITIES = [("Lisbon", "Portugal", "Europe"), ("Amman", "Jordan", "MENA"), ("Mombasa", "Kenya", "Africa")]
LANGUAGES = ["en", "fr", "ar", "pt"]


# ---- a bot on a simulated clock ------------------------------------------------------------------------
@dataclass
class CallLog:
    """Every answered sending call of an emulator, with the simulated time it was answered at."""

    clock: FakeClock
    calls: list[tuple[datetime, ApiCall]] = field(default_factory=list)

    def __call__(self, call: ApiCall) -> None:
        if call.method.lower().startswith("send"):
            self.calls.append((self.clock.now(), call))

    def statuses(self) -> Counter[int]:
        return Counter(call.status for _, call in self.calls)


@dataclass
class VirtualBot:
    """The whole app with the production deliverers and scheduler on one `FakeClock`."""

    app: BotApp
    clock: FakeClock
    deliveries: DeliveryRunner
    scheduler: VirtualScheduler
    simulated: SimulatedTime
    telegram: TelegramEmulator

    async def settle(self) -> None:
        """Run what is due and deliver it all, following every wait (backoff, pause) forward."""
        await self.simulated.settle()

    async def move_to(self, moment: datetime) -> None:
        await self.simulated.move_to(moment)

    async def rows(self, like: str = "%") -> list[Delivery]:
        async with self.app.database.session() as session:
            found = await session.scalars(
                select(Delivery).where(Delivery.key.like(like)).order_by(Delivery.id)
            )
            return list(found.all())


@asynccontextmanager
async def virtual_bot(
    settings: Settings,
    database: Database,
    clock: FakeClock,
    telegram: TelegramEmulator,
    slack: SlackAdapter | None = None,
) -> AsyncIterator[VirtualBot]:
    app = build_app(settings, clock=clock, database=database, flood_limit=False)
    if slack is not None:
        app.services.staff_channels["slack"] = STAFF_CHANNEL
    deliveries = delivery_runner(app, settings, timer=VirtualTimer(clock))
    subscribe_reports(app, deliveries)
    adapter = TelegramAdapter(
        telegram.token, app.handle, PayloadStore(app.database, clock), base_url=telegram.base_url
    )
    await adapter.application.initialize()
    scheduler = build_scheduler(app, clock)
    assert isinstance(scheduler, VirtualScheduler)
    await scheduler.start()
    simulated = SimulatedTime(clock, scheduler, deliveries, [adapter, *([slack] if slack else [])])
    try:
        yield VirtualBot(app, clock, deliveries, scheduler, simulated, telegram)
    finally:
        await adapter.application.shutdown()


@pytest.fixture
def virtual_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def telegram(virtual_clock: FakeClock) -> AsyncIterator[TelegramEmulator]:
    """The Telegram emulator with its flood limits on the simulated clock, and an outage plan."""
    origin = virtual_clock.now()
    emulator = TelegramEmulator(clock=lambda: (virtual_clock.now() - origin).total_seconds())
    emulator.faults = TelegramOutage(clock=virtual_clock)
    async with emulator:
        yield emulator


@pytest.fixture
async def vbot(
    settings: Settings, sqlite_database: Database, virtual_clock: FakeClock, telegram: TelegramEmulator
) -> AsyncIterator[VirtualBot]:
    async with virtual_bot(settings, sqlite_database, virtual_clock, telegram) as running:
        yield running


async def focal_points(bot: VirtualBot, count: int) -> list[int]:
    return [
        await add_focal_point(
            bot.app,
            f"Focal {n}",
            LANGUAGES[n % len(LANGUAGES)],
            CITIES[n % len(CITIES)],
            telegram=bot.telegram,
        )
        for n in range(count)
    ]


async def announce(bot: VirtualBot, text: str, people: int) -> None:
    """A staff member announces at the console; the scheduler queues the batch at the next settle."""
    staff = StaffChat(bot.app)
    await staff.submit("announce", text=text, audience="all")
    await staff.press(staff.buttons()[f"Send to {people}"])


def received(emulator: TelegramEmulator, chats: list[int], marker: str, since: int = 0) -> Counter[int]:
    """How many messages containing `marker` each chat received (of the emulator's `since` onwards)."""
    counts: Counter[int] = Counter({chat: 0 for chat in chats})
    for message in emulator.sent_messages()[since:]:
        if message.chat_id in counts and marker in (message.plain_text or ""):
            counts[message.chat_id] += 1
    return counts


def sends_when(
    emulator: TelegramEmulator, count: int, marker: str, action: Callable[[], None], since: int = 0
) -> Callable[[object], None]:
    """A call listener running `action` once `count` messages containing `marker` were sent."""

    def reached() -> bool:
        return sum(1 for m in emulator.sent_messages()[since:] if marker in (m.plain_text or "")) >= count

    return call_counter(reached, action)


# ---- Telegram ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["5xx", "drop"])
async def test_telegram_down_two_minutes_during_an_announcement(
    vbot: VirtualBot, telegram: TelegramEmulator, kind: str
) -> None:
    """Telegram answers 502 (or drops the connection) for two simulated minutes after the fourth
    message of a 12-person announcement: every focal point gets it once, and nobody is given up on."""
    outage = telegram.faults
    assert isinstance(outage, TelegramOutage)
    outage.kind = kind
    chats = await focal_points(vbot, 12)
    log = CallLog(vbot.clock)
    telegram.call_listeners += [
        log,
        sends_when(telegram, 4, "Summit moved", lambda: outage.go_down(TWO_MINUTES)),
    ]
    started, wall = vbot.clock.now(), time.monotonic()
    await announce(vbot, "Summit moved to Lisbon", 12)
    await vbot.settle()

    assert received(telegram, chats, "Summit moved") == Counter({chat: 1 for chat in chats})
    assert outage.refused_calls >= 8, "the outage must have refused the rest of the batch"
    _down_from, down_until = outage.windows[0]
    last_send = max(at for at, call in log.calls if call.status == 200)
    assert last_send >= down_until, "delivery went on after Telegram came back"
    assert vbot.clock.now() - started >= timedelta(seconds=TWO_MINUTES)
    assert time.monotonic() - wall < 10, "two simulated minutes must not cost real minutes"
    rows = await vbot.rows("announcement:%:telegram:%")
    assert {row.status for row in rows} == {"sent"} and len(rows) == 12
    assert max(row.attempts for row in rows) <= vbot.app.settings.delivery_max_attempts
    async with vbot.app.database.session() as session:
        batch = (
            await session.scalars(select(DeliveryBatch).where(DeliveryBatch.kind == "announcement"))
        ).one()
    assert (batch.sent, batch.failed, batch.gone, batch.pending) == (12, 0, 0, 0)


EVENT: dict[str, Any] = {
    "title": "Regional workshop",
    "description": "Youth engagement in practice",
    "starts_at": "2026-12-10 15:00",
    "time_zone": "Africa/Nairobi",
    "duration_minutes": "90",
    "location": "https://meet.example.org/scn",
    "audience": "all",
    "reminders": "1h",
}
EVENT_STARTS = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)  # 15:00 in Nairobi


async def publish_event(bot: VirtualBot) -> int:
    staff = StaffChat(bot.app)
    [card] = await staff.submit("event", **EVENT)
    assert card.form is None, card.form and card.form.errors
    await staff.press_label(next(label for label in staff.buttons() if label.startswith("Publish")))
    async with bot.app.database.session() as session:
        found = await session.scalar(select(Event.id).order_by(Event.id.desc()))
    assert found is not None
    return found


async def test_telegram_down_two_minutes_during_a_reminder_round(
    vbot: VirtualBot, telegram: TelegramEmulator
) -> None:
    """The invitations go out; at the reminder's minute Telegram fails after the second reminder and
    stays down two simulated minutes: everyone is reminded once, late, nobody twice."""
    outage = telegram.faults
    assert isinstance(outage, TelegramOutage)
    chats = await focal_points(vbot, 10)
    event_id = await publish_event(vbot)
    await vbot.settle()  # the invitations
    assert received(telegram, chats, "Regional workshop") == Counter({chat: 1 for chat in chats})

    mark = len(telegram.sent_messages())
    title = "Regional workshop"
    telegram.call_listeners.append(
        sends_when(telegram, 2, title, lambda: outage.go_down(TWO_MINUTES), since=mark)
    )
    reminder_at = EVENT_STARTS - timedelta(hours=1)
    await vbot.move_to(reminder_at)
    await vbot.settle()

    assert outage.windows and outage.windows[0][0] >= reminder_at
    assert outage.refused_calls >= 8
    assert received(telegram, chats, title, since=mark) == Counter({chat: 1 for chat in chats})
    rows = await vbot.rows(f"event:{event_id}:v%:reminder:60:%")
    assert len(rows) == 10 and {row.status for row in rows} == {"sent"}
    retried = [row for row in rows if row.attempts > 1]
    assert len(retried) >= 6 and all(row.sent_at and row.sent_at >= outage.windows[0][1] for row in retried)
    assert vbot.clock.now() < EVENT_STARTS  # late by the outage, not by the hour


async def test_a_429_storm_with_growing_retry_after_loses_nothing_and_is_waited_out(
    vbot: VirtualBot, telegram: TelegramEmulator
) -> None:
    """Seven 429s in a row, retry_after 1, 2, 4 ... 64 s (longer than a claim's lease margin): each
    is waited out, the attempt is given back, nothing is sent twice or given up on, and after each
    pause the bot does not burst (the emulator's own flood limits never have to refuse)."""
    chats = await focal_points(vbot, 12)
    log = CallLog(vbot.clock)
    storm = [1, 2, 4, 8, 16, 32, 64]

    def start_storm() -> None:
        for seconds in storm:
            telegram.fail_next(1, status=429, retry_after=seconds, method="sendMessage")

    telegram.call_listeners += [log, sends_when(telegram, 3, "Storm", start_storm)]
    await announce(vbot, "Storm warning for the summit", 12)
    started = vbot.clock.now()
    await vbot.settle()

    assert received(telegram, chats, "Storm") == Counter({chat: 1 for chat in chats})
    refusals = [(at, call) for at, call in log.calls if call.status == 429]
    assert len(refusals) == len(storm), "only the injected 429s: no burst after a pause hit the limits"
    assert vbot.clock.now() - started >= timedelta(seconds=max(storm))
    biggest_at = next(at for at, call in refusals if "retry after 64" in (call.description or ""))
    after = [at for at, call in log.calls if call.status == 200 and at > biggest_at]
    assert after and min(after) >= biggest_at + timedelta(seconds=64) - timedelta(seconds=1)
    rows = await vbot.rows("announcement:%:telegram:%")
    assert {row.status for row in rows} == {"sent"}
    assert {row.attempts for row in rows} == {1}, "a 429 is not the message's fault: attempts given back"


async def test_5xx_bursts_are_retried_with_backoff_and_lose_nothing(
    vbot: VirtualBot, telegram: TelegramEmulator
) -> None:
    chats = await focal_points(vbot, 12)
    log = CallLog(vbot.clock)
    bursts = [(5, 502), (3, 503), (4, 500), (2, 504)]

    def start_bursts() -> None:
        for count, status in bursts:
            telegram.server_error_next(count, status=status, method="sendMessage")

    telegram.call_listeners += [log, sends_when(telegram, 2, "Budget", start_bursts)]
    await announce(vbot, "Budget call next week", 12)
    await vbot.settle()

    assert received(telegram, chats, "Budget") == Counter({chat: 1 for chat in chats})
    statuses = log.statuses()
    assert {status: statuses[status] for status in (500, 502, 503, 504)} == {502: 5, 503: 3, 500: 4, 504: 2}
    rows = await vbot.rows("announcement:%:telegram:%")
    assert {row.status for row in rows} == {"sent"}
    assert sum(row.attempts - 1 for row in rows) == sum(count for count, _ in bursts)  # one retry per 5xx


async def test_a_recipient_blocking_the_bot_mid_batch_is_gone_and_the_rest_get_it_once(
    vbot: VirtualBot, telegram: TelegramEmulator
) -> None:
    """After the third message, one focal point still waiting blocks the bot: that send is refused
    (403), their other queued message is dropped unsent, the batch counts them blocked, and a later
    announcement is not even attempted for them."""
    chats = await focal_points(vbot, 12)
    outbox = vbot.app.services.outbox
    blocker = chats[9]
    async with vbot.app.database.session() as session:  # something else waiting for them, due later
        await outbox.enqueue(
            session, key=f"intro:{blocker}", platform="telegram", recipient=str(blocker),
            reply=Reply_("An introduction for you"), not_before=vbot.clock.now() + timedelta(minutes=5),
        )  # fmt: skip
    log = CallLog(vbot.clock)
    telegram.call_listeners += [log, sends_when(telegram, 3, "Summit", lambda: telegram.block_chat(blocker))]
    await announce(vbot, "Summit agenda", 12)
    await vbot.settle()

    got = received(telegram, chats, "Summit")
    assert got == Counter({chat: 0 if chat == blocker else 1 for chat in chats})
    assert [call.status for _, call in log.calls if call.params.get("chat_id") == blocker] == [403]
    rows = {row.key: row for row in await vbot.rows()}
    assert rows[f"intro:{blocker}"].status == "gone"
    assert rows[f"announcement:1:telegram:{blocker}"].status == "gone"
    async with vbot.app.database.session() as session:
        batch = (
            await session.scalars(select(DeliveryBatch).where(DeliveryBatch.kind == "announcement"))
        ).one()
        identity = await session.scalar(
            select(PlatformIdentity).where(PlatformIdentity.chat_id == str(blocker))
        )
    assert (batch.sent, batch.gone, batch.failed, batch.pending) == (11, 1, 0, 0)
    assert identity is not None and identity.unreachable_at is not None

    await announce(vbot, "Second notice", 11)  # the preview already leaves them out
    await vbot.settle()
    assert received(telegram, chats, "Second notice") == Counter(
        {chat: 0 if chat == blocker else 1 for chat in chats}
    )
    assert [call.status for _, call in log.calls if call.params.get("chat_id") == blocker] == [403]


# ---- Slack ------------------------------------------------------------------------------------------
@dataclass
class Window:
    clock: FakeClock
    start: datetime | None = None
    end: datetime | None = None

    def open_for(self, seconds: float) -> None:
        self.start = self.clock.now()
        self.end = self.start + timedelta(seconds=seconds)

    def inside(self, moment: datetime | None = None) -> bool:
        moment = moment or self.clock.now()
        return self.start is not None and self.end is not None and self.start <= moment < self.end


async def test_slack_down_staff_notices_and_reports_are_queued_and_delivered_later(
    settings: Settings, sqlite_database: Database, virtual_clock: FakeClock, telegram: TelegramEmulator
) -> None:
    """Slack answers 503 for two simulated minutes while staff announce and a focal point's question
    is forwarded: Telegram is not held back, and once Slack is back the staff channel gets the post,
    its report (threaded, edited to the final counts), the summary and the question, each once."""
    slack_down = Window(virtual_clock)
    slack = SlackEmulator(post_message_burst=20, clock=lambda: virtual_clock.now().timestamp())
    populate(slack)
    async with slack, TcpProxy(
        "127.0.0.1", int(slack.base_url.split(":")[2].split("/")[0]),
        schedule=lambda: UNAVAILABLE if slack_down.inside() else None,
    ) as proxy:  # fmt: skip
        adapter = SlackAdapter(
            slack.bot_token, _no_handle, signing_secret=SIGNING_SECRET, staff_channel=STAFF_CHANNEL,
            base_url=f"http://127.0.0.1:{proxy.port}/api/", web_server=WebServer("127.0.0.1", 0),
        )  # fmt: skip
        async with virtual_bot(settings, sqlite_database, virtual_clock, telegram, adapter) as bot:
            chats = await focal_points(bot, 12)
            slack_down.open_for(TWO_MINUTES)
            staff = ConsoleChat(bot.app, CHANNEL_MEMBER, staff=True, platform="slack")
            await staff.submit("announce", text="Summit moved to Lisbon", audience="all")
            await staff.press(staff.buttons()["Send to 12"])
            asker = ConsoleChat(bot.app, str(chats[0]), platform="telegram")
            await asker.send("do we need a visa for the Lisbon meeting in March")
            await asker.press_label("Send my question to the team")
            log = CallLog(virtual_clock)
            telegram.call_listeners.append(log)
            await bot.settle()
            slack_rows = [row for row in await bot.rows() if row.platform == "slack"]

    assert received(telegram, chats, "Summit moved") == Counter({chat: 1 for chat in chats})
    assert all(slack_down.inside(at) for at, _ in log.calls), "Telegram waited for Slack"
    assert proxy.refused >= 4, "Slack was called, and refused, while it was down"
    assert slack_down.end is not None
    back = slack_down.end.timestamp()
    channel = slack.messages(STAFF_CHANNEL)
    assert channel and all(float(message.ts) >= back for message in channel)
    posts = [m for m in channel if m.thread_ts in (None, m.ts) and "Announcement #1" in m.text]
    questions = [m for m in channel if "visa for the Lisbon meeting" in m.text]
    assert len(posts) == 1 and len(questions) == 1, [m.text for m in channel]
    thread = [m for m in slack.messages(STAFF_CHANNEL, posts[0].ts) if m.ts != posts[0].ts]
    reports = [m for m in thread if "Delivery report" in m.text]
    summaries = [m for m in thread if "Done:" in m.text]
    assert len(reports) == 1 and "finished" in reports[0].text and "sent 12" in reports[0].text, thread
    assert len(summaries) == 1 and "12 sent, 0 failed, 0 blocked (of 12)" in summaries[0].text
    assert {row.status for row in slack_rows} <= {"sent", "superseded"}
    assert not [m for m in channel if m.thread_ts is None and "Delivery report" in m.text], (
        "report not threaded"
    )


async def _no_handle(incoming: Any) -> list[Any]:
    return []


# ---- PostgreSQL -------------------------------------------------------------------------------------
# "Refusing connections for 30 s": the database's timeouts (connect, command, pool) are real time, so
# the outage is real time too, and kept short. Its length is not what is tested: what matters is that
# every open connection is cut, every new one is refused for long enough that each worker and each
# message meets the outage (a send that cannot be recorded, a claim and a pace reservation that fail,
# a focal point's message, /healthz), and that the pool reconnects afterwards. Thirty seconds would
# only add waiting; it stays under DELIVERY_LEASE_SECONDS, and the simulated clock (on which leases
# run) does not move while the deliverer waits for the database, so no lease can expire meanwhile.
OUTAGE_SECONDS = 3.0
RESTART_SECONDS = 0.5  # a restart: connections cut, and refused while the server comes back up
HEALTHZ_WITHIN = 1.0
PG_RECIPIENTS = 12


@dataclass
class PostgresBot:
    bot: VirtualBot
    proxy: TcpProxy
    healthz: str  # the /healthz URL of a WebServer checking `database` with Database.ping
    outage: asyncio.Event = field(default_factory=asyncio.Event)
    sends_at_outage: int = 0

    def go_down(self) -> None:
        self.proxy.refuse(sever=True)
        self.sends_at_outage = len(self.bot.telegram.sent_messages())
        self.outage.set()


async def _port_of(url: str) -> tuple[str, int]:
    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or 5432


@asynccontextmanager
async def postgres_bot(
    settings: Settings, clock: FakeClock, telegram: TelegramEmulator
) -> AsyncIterator[PostgresBot]:
    """The virtual bot on a fresh PostgreSQL schema reached through a `TcpProxy`, with /healthz."""
    migrated, schema = await _postgres_database()  # straight to the server: the proxy is for the app
    await migrated.dispose()
    host, port = await _port_of(POSTGRES_URL)
    try:
        async with TcpProxy(host, port) as proxy:
            database = Database(proxy.url_for(POSTGRES_URL), schema=schema)
            web = WebServer("127.0.0.1", 0)
            web.add_check("database", database.ping)
            await web.start()
            try:
                async with virtual_bot(settings, database, clock, telegram) as bot:
                    yield PostgresBot(bot, proxy, f"http://127.0.0.1:{web.port}/healthz")
            finally:
                await web.stop()
                await database.dispose()
    finally:
        await _drop_schema(migrated, schema)


async def healthz(url: str) -> tuple[int, dict[str, Any], float]:
    """The status, body and real seconds /healthz took to answer."""
    started = time.monotonic()
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as answer,
    ):
        body = await answer.json()
        return answer.status, body, time.monotonic() - started


async def answered(chat: ConsoleChat) -> str:
    return "\n".join(reply.text for reply in await asyncio.wait_for(chat.send("/help"), 5))


async def _deliver_through(pg: PostgresBot, down_for: float, marker: str) -> tuple[list[int], str, str]:
    """Announce to PG_RECIPIENTS focal points; the database goes down after the fourth send, for
    `down_for` real seconds. Returns the chats, and a focal point's answers before and after."""
    bot, proxy = pg.bot, pg.proxy
    chats = await focal_points(bot, PG_RECIPIENTS)
    asker = ConsoleChat(bot.app, str(chats[0]), platform="telegram")
    before = await answered(asker)
    bot.telegram.call_listeners.append(sends_when(bot.telegram, 4, marker, pg.go_down))
    await announce(bot, f"{marker} on the agenda", PG_RECIPIENTS)
    delivering = asyncio.create_task(bot.settle())
    await asyncio.wait_for(pg.outage.wait(), 10)
    assert proxy.mode == REFUSE
    if down_for >= 1:
        down = await answered(asker)
        assert down == RECORDS_DOWN, down
        status, body, took = await healthz(pg.healthz)
        assert (status, body["checks"]["database"]) == (503, False) and took < HEALTHZ_WITHIN, (
            status,
            body,
            took,
        )
    await asyncio.sleep(down_for)
    assert not delivering.done(), "the batch cannot finish while nothing can be recorded"
    during = len(bot.telegram.sent_messages()) - pg.sends_at_outage
    assert during <= bot.app.settings.delivery_workers, f"{during} sends while nothing could be recorded"
    refused = proxy.refused
    proxy.pass_through()
    await asyncio.wait_for(delivering, 20)
    assert refused >= 1, "nothing met the outage"
    after = await answered(asker)
    return chats, before, after


async def _assert_delivered_once(pg: PostgresBot, chats: list[int], marker: str) -> None:
    assert received(pg.bot.telegram, chats, marker) == Counter({chat: 1 for chat in chats})
    rows = await pg.bot.rows("announcement:%:telegram:%")
    assert len(rows) == PG_RECIPIENTS and {row.status for row in rows} == {"sent"}
    async with pg.bot.app.database.session() as session:
        batch = (
            await session.scalars(select(DeliveryBatch).where(DeliveryBatch.kind == "announcement"))
        ).one()
    assert (batch.sent, batch.failed, batch.gone, batch.pending) == (PG_RECIPIENTS, 0, 0, 0)
    status, body, _took = await healthz(pg.healthz)
    assert status == 200 and body["checks"] == {"database": True}


async def test_postgres_refusing_connections_mid_batch_loses_nothing_and_sends_nothing_twice(
    settings: Settings, virtual_clock: FakeClock, telegram: TelegramEmulator
) -> None:
    """PostgreSQL cuts every connection and refuses new ones after the fourth message of a batch: a
    focal point is told the records are out of reach, /healthz says 503 within a second, sending
    stops (at most one send per worker that cannot be recorded), and once the database is back the
    batch finishes with every focal point reached once and messages are answered again."""
    async with postgres_bot(settings, virtual_clock, telegram) as pg:
        chats, before, after = await _deliver_through(pg, OUTAGE_SECONDS, "Budget review")
        await _assert_delivered_once(pg, chats, "Budget review")
    assert before == after and RECORDS_DOWN not in after


async def test_postgres_restarted_mid_batch_loses_nothing_and_the_pool_reconnects(
    settings: Settings, virtual_clock: FakeClock, telegram: TelegramEmulator
) -> None:
    """PostgreSQL restarts after the fourth message: every pooled connection is dead. The pool pings
    before use, so the batch finishes (everyone once) and the next message is answered, not refused."""
    async with postgres_bot(settings, virtual_clock, telegram) as pg:
        pooled = pg.proxy.open_connections
        chats, before, after = await _deliver_through(pg, RESTART_SECONDS, "Safety drill")
        await _assert_delivered_once(pg, chats, "Safety drill")
    assert pooled >= 1, "the pool held connections when the server restarted"
    assert before == after and RECORDS_DOWN not in after
