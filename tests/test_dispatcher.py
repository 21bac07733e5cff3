"""Routing order, middleware order, bad input and the error boundary of the dispatcher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.callbacks import CallbackData
from bot.clock import FakeClock
from bot.config import Settings
from bot.context import Context
from bot.dispatcher import Dispatcher
from bot.domain.people import POLICY, Permission
from bot.flood import FloodLimiter
from bot.messages import Incoming, Reply
from bot.middleware import DEFAULT_MIDDLEWARE, Next
from bot.routing import Router
from bot.storage.audit import AuditEntry
from bot.storage.database import Database
from bot.storage.people import Person
from tests.harness import ConsoleChat

probe = Router("probe")


@probe.command("form")
async def begin_form(ctx: Context) -> Reply:
    await ctx.conversation.start("probe", "one")
    return Reply("form started")


@probe.command("secret", needs=Permission.SEE_STATS)
async def secret(ctx: Context) -> Reply:
    return Reply("staff area")


@probe.command("boom")
async def boom(ctx: Context) -> Reply:
    raise RuntimeError("handler bug")


@probe.step("probe")
async def form_step(ctx: Context) -> Reply | None:
    if ctx.incoming.button:
        return None
    await ctx.conversation.finish()
    return Reply(f"step got {ctx.incoming.text}")


@dataclass(frozen=True)
class ProbeButton(CallbackData, prefix="probe"):
    value: str


@probe.button(ProbeButton)
async def probe_button(ctx: Context, pressed: ProbeButton) -> Reply:
    return Reply(f"button {pressed.value}")


@probe.text
async def free_text(ctx: Context) -> Reply:
    return Reply(f"text {ctx.incoming.text}")


@pytest.fixture
async def probe_app(settings: Settings, sqlite_database: Database, clock: FakeClock) -> AsyncIterator[BotApp]:
    yield BotApp(settings, [probe], clock=clock, database=sqlite_database, flood_limit=False, access=POLICY)


def texts(replies: list[Reply]) -> list[str]:
    return [reply.text for reply in replies]


async def test_free_text_goes_to_text_handler(probe_app: BotApp) -> None:
    chat = ConsoleChat(probe_app, "amina")
    assert texts(await chat.send("hello")) == ["text hello"]


async def test_pending_step_comes_before_free_text(probe_app: BotApp) -> None:
    chat = ConsoleChat(probe_app, "amina")
    await chat.send("/form")
    assert texts(await chat.send("hello")) == ["step got hello"]
    assert texts(await chat.send("hello")) == ["text hello"]  # the step finished the form


async def test_command_is_not_swallowed_by_a_pending_step(probe_app: BotApp) -> None:
    chat = ConsoleChat(probe_app, "amina")
    await chat.send("/form")
    assert texts(await chat.send("/secret")) == [
        "Sorry, that is only for the Strong Cities Network's Management Unit."
    ]
    assert texts(await chat.send("hi")) == ["step got hi"]


async def test_step_can_pass_a_button_on(probe_app: BotApp) -> None:
    chat = ConsoleChat(probe_app, "amina")
    await chat.send("/form")
    assert texts(await chat.press("probe:x")) == ["button x"]


async def test_unknown_button_says_expired(probe_app: BotApp) -> None:
    chat = ConsoleChat(probe_app, "amina")
    [reply] = await chat.press("gone:1")
    assert "expired" in reply.text and reply.notice


async def test_staff_only_command_refused_and_audited(probe_app: BotApp, sqlite_database: Database) -> None:
    assert texts(await ConsoleChat(probe_app, "amina").send("/secret"))[0].startswith("Sorry")
    assert texts(await ConsoleChat(probe_app, "boss", staff=True).send("/secret")) == ["staff area"]
    async with sqlite_database.session() as session:
        rows = (
            await session.execute(select(AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id))
        ).all()
    assert [(action, detail.get("outcome")) for action, detail in rows] == [
        ("command:secret", "refused"),
        ("role_changed", None),  # the console vouched for boss as staff
        ("command:secret", "done"),
    ]


async def test_a_refusal_deep_in_the_domain_rolls_back_and_is_audited(
    probe_app: BotApp, sqlite_database: Database
) -> None:
    chat = ConsoleChat(probe_app, "amina")
    await chat.send("hello")  # amina exists
    [reply] = await chat.send("/deep")
    assert reply.text.startswith("Sorry, that is only for")
    async with sqlite_database.session() as session:
        rows = (await session.execute(select(AuditEntry.action, AuditEntry.detail))).all()
        names = (await session.scalars(select(Person.display_name))).all()
    assert names == ["amina"]  # the change made before the refusal was rolled back
    assert [(action, detail["outcome"]) for action, detail in rows] == [
        ("written", "refused"),
        ("command:deep", "refused"),
    ]


@probe.command("deep")
async def deep_refusal(ctx: Context) -> Reply:
    from bot.domain.people import require

    ctx.person.display_name = "changed"  # work done before the refusal is rolled back with it
    ctx.audit("written", outcome="done")
    require(ctx.person, Permission.ANNOUNCE)
    return Reply("unreachable")


async def test_handler_error_gives_apology_and_rolls_back(
    probe_app: BotApp, caplog: pytest.LogCaptureFixture
) -> None:
    chat = ConsoleChat(probe_app, "amina", language_hint="ar")
    [reply] = await chat.send("/boom")
    assert "عذر" in reply.text or "آسف" in reply.text  # the apology is in Arabic
    assert any("handler failed" in r.getMessage() for r in caplog.records)
    assert texts(await chat.send("still alive")) == ["text still alive"]


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\x00\x01"])
async def test_empty_text_gets_a_localized_reply(probe_app: BotApp, raw: str) -> None:
    [reply] = await ConsoleChat(probe_app, "amina").send(raw)
    assert "empty" in reply.text


async def test_over_long_text_names_the_limit(probe_app: BotApp) -> None:
    [reply] = await ConsoleChat(probe_app, "amina").send("a" * 4097)
    assert "4,096" in reply.text
    [reply] = await ConsoleChat(probe_app, "amina").send("a" * 4096)
    assert reply.text.startswith("text ")


async def test_middleware_runs_in_order(settings: Settings, sqlite_database: Database) -> None:
    order: list[str] = []

    def recorder(name: str):  # type: ignore[no-untyped-def]
        async def layer(ctx: Context, call_next: Next) -> list[Reply]:
            order.append(name)
            return await call_next(ctx)

        return layer

    app = BotApp(settings, [probe], database=sqlite_database, flood_limit=False)
    chain: list = []  # type: ignore[type-arg]
    for index, layer in enumerate(DEFAULT_MIDDLEWARE):
        chain += [recorder(f"before-{index}"), layer]
    dispatcher = Dispatcher(app.services, chain)
    await dispatcher.dispatch(Incoming.from_text("console", "amina", "amina", "hi"))
    assert order == ["before-0", "before-1", "before-2", "before-3"]
    names = [layer.__name__ for layer in DEFAULT_MIDDLEWARE]
    assert names == ["identify_person", "resolve_language", "write_audit", "limit_flood"]


async def test_flood_limit_warns_once_then_drops(settings: Settings, sqlite_database: Database) -> None:
    now = [0.0]
    app = BotApp(settings, [probe], database=sqlite_database)
    app.services.flood = FloodLimiter(burst=3, per_minute=60, clock=lambda: now[0])
    chat = ConsoleChat(app, "amina")
    results = [texts(await chat.send(f"m{i}")) for i in range(5)]
    assert results[:3] == [["text m0"], ["text m1"], ["text m2"]]
    assert "quickly" in results[3][0]
    assert results[4] == []
    async with sqlite_database.session() as session:
        limited = (
            await session.scalars(select(AuditEntry.action).where(AuditEntry.action == "flood_limited"))
        ).all()
    assert len(limited) == 2  # the notice and the drop are both in the audit log
    now[0] += 1.0  # one token back after a second
    assert texts(await chat.send("again")) == ["text again"]


@probe.command("dberror")
async def database_error(ctx: Context) -> Reply:
    from sqlalchemy import text

    await ctx.session.execute(text("SELECT * FROM no_such_table"))
    return Reply("unreachable")


async def test_database_error_is_contained(probe_app: BotApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    chat = ConsoleChat(probe_app, "amina")
    [reply] = await chat.send("/dberror")
    assert "went wrong" in reply.text
    assert any("handled" in r.getMessage() and "outcome=error" in r.getMessage() for r in caplog.records)
    assert texts(await chat.send("after")) == ["text after"]
