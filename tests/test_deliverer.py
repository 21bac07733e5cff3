"""The deliverer against an in-test adapter: results, retries, 429 pauses, gone recipients, progress."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.delivery.batches import BatchProgress, ProgressListeners
from bot.delivery.deliverer import Deliverer, DeliveryPolicy, backoff
from bot.delivery.errors import PermanentFailure, RateLimited, RecipientGone, TransientFailure
from bot.delivery.limits import LocalPace, PlatformRates, RecipientSpacing
from bot.delivery.outbox import Outbox, OutboxMessage
from bot.messages import Reply
from bot.storage.database import Database
from bot.storage.delivery import Delivery, DeliveryBatch


class FakeTimer:
    """Monotonic time that sleeping advances (and the wall clock with it)."""

    def __init__(self, clock: FakeClock) -> None:
        self.now = 0.0
        self.clock = clock

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)


class ScriptedAdapter:
    """Implements the adapter's `send`; `errors[chat]` lists what the next sends to that chat raise."""

    platform = "telegram"

    def __init__(self, timer: FakeTimer) -> None:
        self.timer = timer
        self.sent: list[tuple[str, str, float]] = []
        self.errors: dict[str, list[Exception]] = {}

    async def send(self, chat_id: str, reply: Reply) -> str:
        queued = self.errors.get(chat_id)
        if queued:
            raise queued.pop(0)
        self.sent.append((chat_id, reply.text, self.timer.now))
        return f"m{len(self.sent)}"


@pytest.fixture
def timer(clock: FakeClock) -> FakeTimer:
    return FakeTimer(clock)


@pytest.fixture
def adapter(timer: FakeTimer) -> ScriptedAdapter:
    return ScriptedAdapter(timer)


def make_deliverer(
    database: Database,
    adapter: ScriptedAdapter,
    clock: FakeClock,
    timer: FakeTimer,
    *,
    rate: float | None = 30.0,
    listeners: ProgressListeners | None = None,
    max_attempts: int = 3,
) -> Deliverer:
    rates = PlatformRates(overall_per_s=rate, chat_interval=1.0, group_interval=3.0)
    return Deliverer(
        database, adapter, Outbox(clock),
        pace=LocalPace(rate, timer), spacing=RecipientSpacing(rates, timer), clock=clock, timer=timer,
        policy=DeliveryPolicy(max_attempts=max_attempts, workers=2, claim_limit=100),
        listeners=listeners, owner="test", jitter=random.Random(7),
    )  # fmt: skip


async def enqueue(database: Database, clock: FakeClock, chats: list[str], batch: bool = True) -> int | None:
    outbox = Outbox(clock)
    async with database.session() as session:
        made = await outbox.create_batch(session, kind="announcement", owner="console:x") if batch else None
        items = [OutboxMessage(f"k{n}:{chat}", chat, Reply(f"news {n}")) for n, chat in enumerate(chats)]
        await outbox.enqueue_many(session, "telegram", items, batch=made)
        return made.id if made else None


async def statuses(database: Database) -> dict[str, str]:
    async with database.session() as session:
        return {d.recipient: d.status for d in await session.scalars(select(Delivery))}


async def test_a_batch_is_sent_once_paced_and_reported(
    database: Database, clock: FakeClock, timer: FakeTimer, adapter: ScriptedAdapter
) -> None:
    heard: list[BatchProgress] = []

    async def listen(progress: BatchProgress) -> None:
        heard.append(progress)

    listeners = ProgressListeners(min_interval=0.0)
    listeners.subscribe("console:", listen)
    deliverer = make_deliverer(database, adapter, clock, timer, listeners=listeners)
    await enqueue(database, clock, [str(n) for n in range(60)])
    assert await deliverer.run_once() == 60
    await listeners.settle()
    assert sorted(chat for chat, _, _ in adapter.sent) == sorted(str(n) for n in range(60))
    times = [at for _, _, at in adapter.sent]
    assert times[-1] - times[0] == pytest.approx(59 / 30)  # 30 per second, no burst
    assert heard[-1].done and (heard[-1].sent, heard[-1].total) == (60, 60)
    assert await deliverer.run_once() == 0


async def test_rate_limited_pauses_the_platform_and_keeps_the_attempt(
    database: Database, clock: FakeClock, timer: FakeTimer, adapter: ScriptedAdapter
) -> None:
    deliverer = make_deliverer(database, adapter, clock, timer, max_attempts=1)
    await enqueue(database, clock, ["1", "2"])
    adapter.errors["1"] = [RateLimited(5)]
    await deliverer.run_once()
    assert [chat for chat, _, _ in adapter.sent] == ["2"]
    assert adapter.sent[0][2] >= 5  # the other message waited out the pause
    async with database.session() as session:
        row = await session.scalar(select(Delivery).where(Delivery.recipient == "1"))
        assert row is not None and row.status == "pending" and row.attempts == 0
    clock.advance(seconds=5)
    await deliverer.run_once()
    assert await statuses(database) == {"1": "sent", "2": "sent"}


async def test_transient_errors_back_off_then_fail(
    database: Database, clock: FakeClock, timer: FakeTimer, adapter: ScriptedAdapter
) -> None:
    deliverer = make_deliverer(database, adapter, clock, timer, max_attempts=3)
    await enqueue(database, clock, ["1"])
    adapter.errors["1"] = [TransientFailure("502")] * 3
    await deliverer.run_once()
    assert await deliverer.run_once() == 0  # backing off: not due yet
    clock.advance(seconds=2)
    assert await deliverer.run_once() == 1
    clock.advance(seconds=4)
    assert await deliverer.run_once() == 1
    async with database.session() as session:
        row = await session.scalar(select(Delivery))
        assert row is not None and row.status == "failed" and "502" in (row.last_error or "")
    delays = [backoff(n, 2.0, 300.0, random.Random(n)) for n in range(1, 12)]
    assert delays[0] <= 2 and 64 <= delays[6] <= 128 and max(delays) <= 300


async def test_blocked_recipient_is_gone_and_bad_request_fails_with_reason(
    database: Database, clock: FakeClock, timer: FakeTimer, adapter: ScriptedAdapter
) -> None:
    batch_id = await enqueue(database, clock, ["1", "2", "3"])
    adapter.errors["1"] = [RecipientGone("Forbidden: bot was blocked by the user")]
    adapter.errors["2"] = [PermanentFailure("Bad Request: message is too long")]
    await make_deliverer(database, adapter, clock, timer).run_once()
    assert await statuses(database) == {"1": "gone", "2": "failed", "3": "sent"}
    async with database.session() as session:
        batch = await session.get(DeliveryBatch, batch_id)
        assert batch is not None and (batch.sent, batch.failed, batch.gone, batch.pending) == (1, 1, 1, 0)
        failed = await session.scalar(select(Delivery).where(Delivery.recipient == "2"))
        assert failed is not None and failed.last_error == "Bad Request: message is too long"


async def test_one_chat_gets_at_most_one_message_per_second(
    database: Database, clock: FakeClock, timer: FakeTimer, adapter: ScriptedAdapter
) -> None:
    await enqueue(database, clock, ["42", "42", "42", "-100"], batch=False)
    await make_deliverer(database, adapter, clock, timer, rate=None).run_once()
    times = [at for chat, _, at in adapter.sent if chat == "42"]
    assert len(times) == 3 and all(b - a >= 1.0 for a, b in itertools.pairwise(times))


async def test_run_drains_and_stop_returns_unsent_claims(
    database: Database, clock: FakeClock, timer: FakeTimer, adapter: ScriptedAdapter
) -> None:
    deliverer = make_deliverer(database, adapter, clock, timer, rate=None)
    task = asyncio.create_task(deliverer.run())
    await enqueue(database, clock, ["1", "2"])
    assert await deliverer.drain(within=10)
    deliverer.stop()
    await asyncio.wait_for(task, 10)
    assert await statuses(database) == {"1": "sent", "2": "sent"}


async def test_a_row_claimed_again_while_its_send_is_slow_is_sent_once(
    database: Database, clock: FakeClock, timer: FakeTimer
) -> None:
    """A send that outlives its lease: the next claim takes the row again (same owner, a renewed
    lease), and the deliverer's other worker must not send it a second time."""

    class SlowFirstSend(ScriptedAdapter):
        async def send(self, chat_id: str, reply: Reply) -> str:
            if not self.sent:
                clock.advance(seconds=120)  # past the 60 s lease, while this send is under way
                deliverer._outbox.wakeup(self.platform).set()  # the run loop claims again now
                for _ in range(20):
                    await asyncio.sleep(0.01)
            return await super().send(chat_id, reply)

    slow = SlowFirstSend(timer)
    deliverer = make_deliverer(database, slow, clock, timer, rate=None)
    task = asyncio.create_task(deliverer.run())
    await enqueue(database, clock, ["1"])
    assert await deliverer.drain(within=10)
    deliverer.stop()
    await asyncio.wait_for(task, 10)
    assert [chat for chat, _, _ in slow.sent] == ["1"]
    assert await statuses(database) == {"1": "sent"}


async def test_an_edit_never_overwrites_a_newer_edit_of_the_same_message(
    database: Database, clock: FakeClock, timer: FakeTimer, adapter: ScriptedAdapter
) -> None:
    """A report edit that was being sent (so not superseded) when a newer edit came, and failed, is
    not sent after the newer one: the message would go back to an older state."""
    from bot.delivery.outbox import Outcome, claim, record

    outbox = Outbox(clock)
    deliverer = make_deliverer(database, adapter, clock, timer, rate=None)

    async def add(key: str, text: str, replaces: str | None = None) -> None:
        async with database.session() as session:
            item = OutboxMessage(key, "C1", Reply(text), replace_key=replaces)
            await outbox.enqueue_many(session, "telegram", [item])

    await add("report", "0%")
    await deliverer.run_once()
    await add("report:edit:1", "50%", replaces="report")
    async with database.session() as session:  # a worker holds the first edit...
        [held] = await claim(session, "telegram", "test", clock.now(), lease=timedelta(seconds=60), limit=1)
    await add("report:edit:2", "100%", replaces="report")  # ...when the newer edit comes
    async with database.session() as session:  # the first edit failed: back to pending
        await record(
            session, "test", [Outcome(held, "pending", not_before=clock.now(), refund=True)], clock.now()
        )
    while await deliverer.run_once():
        pass
    assert [text for _, text, _ in adapter.sent] == ["0%", "100%"]
    async with database.session() as session:
        rows = {d.key: d.status for d in await session.scalars(select(Delivery))}
    assert rows == {"report": "sent", "report:edit:1": "superseded", "report:edit:2": "sent"}


@pytest.mark.slow
def test_console_prints_deliveries_and_exits_once_they_are_done(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    environment = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data"), "BOT_LOG_LEVEL": "WARNING"}
    environment.pop("TELEGRAM_BOT_TOKEN", None)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(root / "run_bot.py"), *args], input=stdin, capture_output=True,
            text=True, env=environment, cwd=tmp_path, timeout=60, check=True,
        )  # fmt: skip

    run("outbox", "demo-batch", "--recipients", "3")
    result = run("console", "--jsonl", stdin='{"from": "amina", "text": "/help"}\n')
    delivered = [json.loads(line)["to"] for line in result.stdout.splitlines()]
    assert sorted(delivered) == ["100000", "100001", "100002", "amina"]
    assert "3/3 sent" in result.stderr
