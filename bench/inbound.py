"""Inbound throughput: simulated focal points on the Telegram emulator, (A) a bare echo bot, (B) the bot.

Each simulated focal point is a closed loop: it sends one update (a command, a question in one of the
network's languages, or a press of a button the bot sent), waits until the bot's answer has reached the
emulator, then sends the next. The emulator delivers every update by webhook; latency is from the moment
it POSTs the update to the moment the last Bot API call the update causes (the reply message, and for a
button press also answerCallbackQuery) is answered. Throughput is updates / (last answer - first update).

- (A) a bare python-telegram-bot echo bot with the adapter's PTB settings (webhook mode on aiohttp,
  `concurrent_updates` and the default HTTPX request settings; checked at run time against (B)'s
  Application): echoes each text with two inline buttons, answers each press with answerCallbackQuery
  plus a new message or an edit, so each update causes the same Bot API calls as in (B).
- (B) the bot as `run_bot.py` runs it: `build_app` and `start_platforms` (TelegramAdapter in webhook
  mode on the shared WebServer, the deliveries runner, the log at INFO to a file), on a fresh SQLite
  file or a fresh PostgreSQL schema per run. The flood limit is raised (BOT_FLOOD_BURST=1000,
  BOT_FLOOD_PER_MINUTE=100000) so that it is checked but never answers instead of the handlers.

A and B alternate (A, B, A, B, A, B) on SQLite, then on PostgreSQL; a ratio is B/A per pair, median
of the pairs, so drift of the machine hits both sides. The emulator and the simulated users run in a
child process (their CPU is not charged to the bot, as Telegram's is not), with its rate limits lifted.
See bench/README.md for how to read the figures.

`python -m bench.inbound --load 10x5` runs it at another size (also `BENCH_INBOUND_LOAD=10x5` for
`python -m bench.run inbound`); `python -m bench.inbound --profile sqlite` samples one (B) run
with pyinstrument (not a project dependency: `pip install pyinstrument`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import inspect
import io
import json
import logging
import math
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import yaml

ROOT = Path(__file__).resolve().parent.parent
USERS = 50
MESSAGES = 20
PAIRS = 3
LONE_MESSAGES = 100  # one user alone: enough updates for a p99
WARMUP_USERS = 5
LOAD_ENV = "BENCH_INBOUND_LOAD"
POSTGRES_URL = os.environ.get(
    "BOT_BENCH_POSTGRES_URL",
    os.environ.get("BOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
)
WEBHOOK_PATH = "/telegram/webhook"
WEBHOOK_SECRET = "bench-webhook-secret"
STEP_TIMEOUT_S = 60.0
LANGUAGES = ("en", "ar", "fr", "es", "ru", "sw", "ur", "sq")
REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "sendDocument"})
ECHO_SEND, ECHO_EDIT = "echo:send", "echo:edit"

Step = tuple[str, str]  # ("command", name) | ("text", language) | ("press", button selector)

# One focal point's session; a longer load repeats it. 12 texts/commands, 8 presses (2 of them edits).
_SESSION: tuple[tuple[str, str], ...] = (
    ("command", "start"),
    ("press", "menu:ask"),
    ("text", "home"),
    ("press", "topic"),
    ("text", "other"),
    ("press", "lang:menu"),
    ("press", "lang:set:home"),
    ("text", "home"),
    ("command", "help"),
    ("text", "home"),
    ("command", "start"),
    ("press", "menu:help"),
    ("text", "en"),
    ("press", "topic"),
    ("text", "home"),
    ("command", "language"),
    ("press", "lang:set:other"),
    ("text", "other"),
    ("press", "menu:ask"),
    ("text", "home"),
)


def script(user: int, length: int) -> list[Step]:
    """User `user`'s first `length` steps, languages filled in (home = its Telegram language)."""
    languages = {"home": LANGUAGES[user % len(LANGUAGES)], "other": LANGUAGES[(user + 3) % len(LANGUAGES)]}
    steps: list[Step] = []
    for index in range(length):
        kind, argument = _SESSION[index % len(_SESSION)]
        head, colon, last = argument.rpartition(":")
        steps.append((kind, f"{head}{colon}{languages.get(last, last)}"))
    return steps


def _questions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for language in LANGUAGES:
        path = ROOT / "tests" / "data" / "qa" / f"{language}.yaml"
        found[language] = [str(entry["q"]) for entry in yaml.safe_load(path.read_text("utf-8")) or []]
    return found


@dataclass(frozen=True)
class Load:
    users: int
    messages: int  # per user

    @classmethod
    def parse(cls, text: str) -> Load:
        users, _, messages = text.lower().partition("x")
        load = cls(int(users), int(messages))
        if load.users < 1 or load.messages < 1:
            raise ValueError(f"a load is USERSxMESSAGES, both at least 1: {text!r}")
        return load

    def __str__(self) -> str:
        return f"{self.users}x{self.messages}"


# -- the child process: the emulator and the simulated focal points ------------------------------------


@dataclass
class _Waiting:
    """What one chat still expects for the update it sent last."""

    messages: int
    answers: int
    done: asyncio.Future[float]
    posted: float = 0.0


@dataclass
class _Driver:
    emulator: Any  # TelegramEmulator (imported in the child only)
    questions: dict[str, list[str]]
    waiting: dict[int, _Waiting] = field(default_factory=dict)
    query_chats: dict[str, int] = field(default_factory=dict)
    unexpected: int = 0
    refused: int = 0

    def __post_init__(self) -> None:
        self.emulator.call_listeners.append(self._on_call)
        self.emulator.webhook_listeners.append(self._on_post)

    def _on_post(self, update: dict[str, Any]) -> None:
        if "callback_query" in update:
            query = update["callback_query"]
            chat = int(query["message"]["chat"]["id"])
            self.query_chats[str(query["id"])] = chat
        else:
            chat = int(update["message"]["chat"]["id"])
        waiting = self.waiting.get(chat)
        if waiting is not None and not waiting.posted:
            waiting.posted = time.perf_counter()

    def _on_call(self, call: Any) -> None:
        if call.method not in REPLY_METHODS and call.method != "answerCallbackQuery":
            return
        if call.status != 200:
            self.refused += 1
            return
        if call.method == "answerCallbackQuery":
            chat = self.query_chats.pop(str(call.params.get("callback_query_id")), None)
        else:
            chat = call.params.get("chat_id")
        waiting = self.waiting.get(chat) if isinstance(chat, int) else None
        if waiting is None:
            self.unexpected += 1
            return
        if call.method == "answerCallbackQuery":
            if waiting.answers == 0:
                self.unexpected += 1
                return
            waiting.answers -= 1
        else:
            if waiting.messages == 0:
                self.unexpected += 1
                return
            waiting.messages -= 1
        if waiting.messages == 0 and waiting.answers == 0 and not waiting.done.done():
            waiting.done.set_result(time.perf_counter())

    def _button(self, chat: int, selector: str, echo: bool) -> tuple[Any, str]:
        """The newest message in the chat with the button `selector` asks for, and its data."""
        messages = self.emulator.sent_messages(chat)
        if echo:
            wanted = ECHO_EDIT if selector.startswith("lang:set:") else ECHO_SEND
            choices = [wanted]
        elif selector == "topic":
            choices = ["topic:", "lang:menu"]  # an answer without related topics: the menu instead
        else:
            choices = [selector]
        for choice in choices:
            for message in reversed(messages):
                for data in message.callback_data:
                    if data == choice or (choice.endswith(":") and data.startswith(choice)):
                        return message, data
        raise RuntimeError(f"chat {chat}: no button {selector!r} in {[m.callback_data for m in messages]}")

    async def user(self, index: int, user: Any, steps: list[Step], echo: bool) -> list[float]:
        loop = asyncio.get_running_loop()
        chat = int(user.id)
        latencies: list[float] = []
        for number, (kind, argument) in enumerate(steps):
            waiting = _Waiting(messages=1, answers=1 if kind == "press" else 0, done=loop.create_future())
            if kind == "press":
                message, data = self._button(chat, argument, echo)
                self.waiting[chat] = waiting
                await self.emulator.press_button(user, message, data)
            elif kind == "command":
                self.waiting[chat] = waiting
                await self.emulator.send_command(user, argument)
            else:
                pool = self.questions[argument]
                self.waiting[chat] = waiting
                await self.emulator.send_text(user, pool[(index * 7 + number) % len(pool)])
            try:
                done = await asyncio.wait_for(waiting.done, STEP_TIMEOUT_S)
            except TimeoutError:
                raise RuntimeError(
                    f"chat {chat} step {number} {kind} {argument!r}: no answer in {STEP_TIMEOUT_S:.0f}s "
                    f"(still waiting for {waiting.messages} message(s), {waiting.answers} answer(s))"
                ) from None
            latencies.append((done - waiting.posted) * 1000)
        del self.waiting[chat]
        return latencies


async def _drive(driver: _Driver, load: Load, echo: bool, first_user: int) -> dict[str, Any]:
    emulator = driver.emulator
    users = [
        emulator.user(first_user + i, f"Focal {i}", language_code=LANGUAGES[i % len(LANGUAGES)])
        for i in range(load.users)
    ]
    cpu = time.process_time()
    started = time.perf_counter()
    per_user = await asyncio.gather(
        *(driver.user(i, user, script(i, load.messages), echo) for i, user in enumerate(users))
    )
    elapsed = time.perf_counter() - started
    latencies = [value for values in per_user for value in values]
    return {
        "messages": len(latencies),
        "elapsed": elapsed,
        "latencies": latencies,
        "emulator_cpu": time.process_time() - cpu,
    }


async def _receive(channel: Connection) -> Any:
    """`channel.recv()` without blocking the event loop."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(channel.fileno(), readable)
    try:
        if not channel.poll():
            await ready
    finally:
        loop.remove_reader(channel.fileno())
    return channel.recv()


async def _serve_users(channel: Connection) -> None:
    from tests.emulators.telegram import TelegramEmulator
    from tests.emulators.telegram_limits import TelegramLimits
    from tests.emulators.telegram_spec import BotApiSpec

    spec = BotApiSpec.load()
    questions = _questions()
    # Telegram's flood limits lifted (what is measured is the bot, not Telegram's pacing); the
    # message, caption and callback-data limits stay.
    lifted = TelegramLimits(
        per_chat_per_second=1e9, per_chat_burst=10**9, overall_per_second=1e9, group_per_minute=1e9
    )
    emulator: Any = None
    driver: _Driver | None = None
    runs = 0
    while True:
        command, argument = await _receive(channel)
        try:
            if command == "quit":
                return
            if command == "open":
                emulator = TelegramEmulator(limits=lifted, spec=spec)
                await emulator.start()
                driver = _Driver(emulator, questions)
                channel.send(("ok", (emulator.token, emulator.base_url)))
            elif command == "go":
                assert driver is not None
                runs += 1
                load, echo = argument
                channel.send(("ok", await _drive(driver, load, echo, 10_000_000 + runs * 100_000)))
            elif command == "close":
                assert emulator is not None and driver is not None
                replies = sum(
                    1 for call in emulator.calls if call.method in REPLY_METHODS and call.status == 200
                )
                await emulator.stop()
                channel.send(("ok", {"replies": replies, "unexpected": driver.unexpected,
                                     "refused": driver.refused}))  # fmt: skip
                emulator = driver = None
        except Exception:
            channel.send(("error", traceback.format_exc()))


def _users_process(channel: Connection) -> None:
    asyncio.run(_serve_users(channel))


class _Users:
    """The child process, seen from the bot's side."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._channel, theirs = context.Pipe()
        self._process = context.Process(target=_users_process, args=(theirs,), daemon=True)
        self._process.start()

    async def ask(self, command: str, argument: Any = None) -> Any:
        try:
            self._channel.send((command, argument))
            status, answer = await _receive(self._channel)
        except (OSError, EOFError):
            self._process.join(5)
            raise RuntimeError(f"the emulator process is gone (exit code {self._process.exitcode})") from None
        if status != "ok":
            raise RuntimeError(f"the emulator process failed:\n{answer}")
        return answer

    def quit(self) -> None:
        with contextlib.suppress(OSError):  # it may be gone already
            self._channel.send(("quit", None))
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)


# -- the bots --------------------------------------------------------------------------------------------


@dataclass
class Run:
    kind: str  # echo | sqlite | postgres
    messages: int
    elapsed: float
    cpu: float  # bot process CPU seconds during the load
    latencies: list[float]
    emulator_cpu: float
    main_thread_cpu: float  # of `cpu`, the event loop's thread (the rest: aiosqlite's threads)

    @property
    def rate(self) -> float:
        return self.messages / self.elapsed

    @property
    def cpu_ms_per_msg(self) -> float:
        return self.cpu * 1000 / self.messages


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ptb_settings(application: Any) -> tuple[object, ...]:
    """What must be equal between (A) and (B): concurrency, webhook mode, the HTTP client's settings."""
    request = application.bot.request
    kwargs = {k: repr(v) for k, v in getattr(request, "_client_kwargs", {}).items()}
    return (application.concurrent_updates, application.updater is None,
            type(request).__name__, sorted(kwargs.items()))  # fmt: skip


async def _measure(users: _Users, kind: str, load: Load, profiler: Profiling | None) -> Run:
    cpu, main_thread = time.process_time(), time.thread_time()
    if profiler is not None:
        profiler.start()
    stats = await users.ask("go", (load, kind == "echo"))
    if profiler is not None:
        profiler.stop()
    cpu, main_thread = time.process_time() - cpu, time.thread_time() - main_thread
    return Run(kind, stats["messages"], stats["elapsed"], cpu, stats["latencies"], stats["emulator_cpu"],
               main_thread)  # fmt: skip


async def _check_closed(users: _Users, run: Run) -> None:
    counts = await users.ask("close")
    problems = []
    if counts["replies"] != run.messages:
        problems.append(f"{counts['replies']} reply calls for {run.messages} updates")
    if counts["unexpected"]:
        problems.append(f"{counts['unexpected']} unexpected calls")
    if problems:
        raise RuntimeError(f"{run.kind} run did not answer one message per update: {', '.join(problems)}")
    if counts["refused"]:
        print(f"inbound: {run.kind} run had {counts['refused']} refused call(s)", file=sys.stderr)


async def run_echo(users: _Users, load: Load, reference: tuple[object, ...] | None = None) -> Run:
    """(A): PTB's Application with the adapter's settings, an aiohttp webhook, echo handlers."""
    from aiohttp import web
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

    from bot.adapters.telegram import ALLOWED_UPDATES, SECRET_HEADER, TelegramAdapter

    token, base_url = await users.ask("open")
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Again", callback_data=ECHO_SEND),
          InlineKeyboardButton("Edit", callback_data=ECHO_EDIT)]]
    )  # fmt: skip
    edits = 0

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        await context.bot.send_message(message.chat_id, message.text, reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal edits
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer()
        if query.data == ECHO_EDIT:
            edits += 1
            await query.edit_message_text(f"edited {edits}", reply_markup=keyboard)
        else:
            chat_id = query.message.chat.id
            await context.bot.send_message(chat_id, f"pressed {query.data}", reply_markup=keyboard)

    concurrency = inspect.signature(TelegramAdapter.__init__).parameters["concurrency"].default
    builder = Application.builder().token(token).job_queue(None).concurrent_updates(concurrency)
    builder = builder.base_url(base_url).base_file_url(base_url.replace("/bot", "/file/bot", 1))
    application = builder.updater(None).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    if reference is not None and _ptb_settings(application) != reference:
        raise RuntimeError(f"echo bot's PTB settings differ from the adapter's: {_ptb_settings(application)}")

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), WEBHOOK_SECRET.encode()):
            return web.Response(status=403)
        update = Update.de_json(json.loads(await request.read()), application.bot)
        await application.update_queue.put(update)
        return web.Response(status=200)

    server = web.Application()
    server.router.add_post(WEBHOOK_PATH, webhook)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    await application.initialize()
    await application.bot.set_webhook(
        f"http://127.0.0.1:{port}{WEBHOOK_PATH}", secret_token=WEBHOOK_SECRET, allowed_updates=ALLOWED_UPDATES
    )
    await application.start()
    try:
        run = await _measure(users, "echo", load, None)
    finally:
        await application.stop()
        await application.shutdown()
        await runner.cleanup()
    await _check_closed(users, run)
    return run


async def run_real(
    users: _Users, load: Load, database: str, *, profiler: Profiling | None = None
) -> tuple[Run, tuple[object, ...]]:
    """(B): `build_app` + `start_platforms` with the settings a webhook deployment would have.

    Returns the run and the adapter's PTB settings (to hold the echo bot to)."""
    from pydantic import SecretStr

    from bot.config import Settings
    from bot.logs import setup_logging
    from bot.storage.database import Database
    from run_bot import build_app, start_platforms

    token, base_url = await users.ask("open")
    port = _free_port()
    schema = f"bench_{uuid.uuid4().hex[:12]}" if database == "postgres" else None
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
            telegram_bot_token=SecretStr(token),
            telegram_api_base_url=base_url,
            telegram_webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            telegram_webhook_secret=SecretStr(WEBHOOK_SECRET),
            slack_bot_token=None,
            slack_app_token=None,
        )
        setup_logging(settings.bot_log_level, settings.secret_values(), file=Path(folder) / "bot.log")
        db = None
        if schema:
            db = Database(POSTGRES_URL, schema=schema)
            await db.upgrade()
        app = build_app(settings, database=db)
        try:
            await app.start()
            runtime = await start_platforms(app, settings)
            try:
                adapter: Any = runtime.adapters[0]
                reference = _ptb_settings(adapter.application)
                run = await _measure(users, database, load, profiler)
            finally:
                await runtime.stop()
        finally:
            await app.close()
            if schema:
                await _drop_schema(schema)
            _close_log()
    await _check_closed(users, run)
    return run, reference


def _close_log() -> None:
    root = logging.getLogger()
    for handler in root.handlers:
        handler.close()
    root.handlers[:] = []


async def _drop_schema(schema: str) -> None:
    from sqlalchemy import text

    from bot.storage.database import Database

    dropper = Database(POSTGRES_URL)
    async with dropper.engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await dropper.dispose()


async def _postgres_reachable() -> bool:
    from sqlalchemy import text

    from bot.storage.database import Database

    probe = Database(POSTGRES_URL)
    try:
        async with probe.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception as error:  # refused, unknown database, bad credentials
        print(f"inbound: PostgreSQL at {POSTGRES_URL} unreachable, skipped ({error})", file=sys.stderr)
        return False
    finally:
        await probe.dispose()


# -- figures ---------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered) - 1e-9)))
    return ordered[rank - 1]


def _load_from_env() -> Load:
    return Load.parse(os.environ.get(LOAD_ENV, f"{USERS}x{MESSAGES}"))


async def run_inbound_bench(load: Load | None = None, pairs: int = PAIRS) -> dict[str, float]:
    """The figures for `make bench` (see the module docstring and bench/README.md)."""
    load = load or _load_from_env()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    users = _Users()
    runs: dict[str, list[tuple[Run, Run]]] = {}
    try:
        warmup = Load(min(load.users, WARMUP_USERS), load.messages)
        databases = ["sqlite"] + (["postgres"] if await _postgres_reachable() else [])
        for database in databases:
            _, reference = await run_real(users, warmup, database)  # imports, caches, first connections
            await run_echo(users, warmup, reference)
            pairs_run: list[tuple[Run, Run]] = []
            for number in range(pairs):
                echo = await run_echo(users, load, reference)
                real, _ = await run_real(users, load, database)
                pairs_run.append((echo, real))
                print(f"inbound: {database} pair {number + 1}: A {echo.rate:.0f}/s, B {real.rate:.0f}/s",
                      file=sys.stderr)  # fmt: skip
            runs[database] = pairs_run
        lone_load = Load(1, max(1, LONE_MESSAGES * load.messages // MESSAGES))
        lone_echo = await run_echo(users, lone_load, reference)
        lone, _ = await run_real(users, lone_load, "sqlite")
    finally:
        users.quit()
        root.handlers[:], root.level = saved_handlers, saved_level
    figures: dict[str, float] = {}
    echoes = [echo for pairs_run in runs.values() for echo, _ in pairs_run]
    for database, pairs_run in runs.items():
        ratio = statistics.median(b.rate / a.rate for a, b in pairs_run)
        figures[f"inbound_ratio_{database}"] = round(ratio, 3)
        figures[f"inbound_msgs_per_s_{database}"] = round(statistics.median(b.rate for _, b in pairs_run), 1)
    figures["inbound_msgs_per_s_echo"] = round(statistics.median(a.rate for a in echoes), 1)
    sqlite_runs = [b for _, b in runs["sqlite"]]
    figures["inbound_cpu_ms_per_msg"] = round(statistics.median(b.cpu_ms_per_msg for b in sqlite_runs), 3)
    if "postgres" in runs:
        figures["inbound_cpu_ms_per_msg_postgres"] = round(
            statistics.median(b.cpu_ms_per_msg for _, b in runs["postgres"]), 3
        )
    figures["inbound_cpu_ms_per_msg_echo"] = round(statistics.median(a.cpu_ms_per_msg for a in echoes), 3)
    figures["inbound_emulator_cpu_ms_per_msg"] = round(
        statistics.median(b.emulator_cpu * 1000 / b.messages for b in sqlite_runs), 3
    )
    figures["inbound_p50_ms"] = round(percentile(lone.latencies, 0.50), 2)
    figures["inbound_p99_ms"] = round(percentile(lone.latencies, 0.99), 2)
    figures["inbound_p50_ms_echo"] = round(percentile(lone_echo.latencies, 0.50), 2)
    figures["inbound_p99_ms_echo"] = round(percentile(lone_echo.latencies, 0.99), 2)
    crowd = [value for b in sqlite_runs for value in b.latencies]
    figures["inbound_p50_ms_50users"] = round(percentile(crowd, 0.50), 2)
    figures["inbound_p99_ms_50users"] = round(percentile(crowd, 0.99), 2)
    return figures


# -- profile ---------------------------------------------------------------------------------------------

# (group, fragments of "path:function") in order: the first match names a frame's group. pyinstrument
# samples Python frames, so time in C (sqlite3, select, json) is the self time of its Python caller.
PROFILE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("idle (event loop waiting in select)", ("selectors.py:select",)),
    ("outbound reply path (adapter send, render, PTB Bot methods)",
     ("bot/adapters/telegram.py", "bot/adapters/telegram_render.py", "telegram/_bot.py",
      "telegram/ext/_extbot.py", "telegram/request/", "telegram/_utils/")),
    ("httpx/httpcore (h11, anyio)", ("/httpx/", "/httpcore/", "/h11/", "/anyio/")),
    ("SQLAlchemy/aiosqlite/asyncpg", ("/sqlalchemy/", "/aiosqlite/", "/sqlite3/", "/asyncpg/")),
    ("langdetect (and bot/language.py)", ("/langdetect/", "bot/language.py")),
    ("retrieval (knowledge, textnorm, Stemmer, rapidfuzz)",
     ("bot/knowledge.py", "bot/textnorm.py", "Stemmer", "rapidfuzz")),
    ("logging", ("/logging/", "bot/logs.py")),
    ("i18n (Babel, gettext, bot/i18n.py)", ("/babel/", "gettext.py", "bot/i18n.py")),
    ("aiohttp (webhook server)", ("/aiohttp/", "/multidict/", "/yarl/")),
    ("PTB inbound (Update.de_json, Application)", ("/telegram/",)),
    ("bot core (dispatcher, middleware, handlers, delivery)", ("/bot/", "/handlers/", "run_bot.py")),
    ("asyncio (event loop, socket reads and writes)", ("/asyncio/",)),
)  # fmt: skip


class Profiling(Protocol):
    def start(self) -> object: ...
    def stop(self) -> object: ...


def _frame_name(frame: Any) -> str:
    return f"{frame.file_path or '?'}:{frame.function}"


def profile_tables(
    root: Any,
) -> tuple[list[tuple[str, float]], list[tuple[str, float]], list[tuple[str, float]]]:
    """From a pyinstrument frame tree: (self time per group, cumulative per function, self per function).

    Cumulative counts a function once per call path (recursion is not counted twice). Built-in and
    frozen frames (socket.send, the import system) count in their caller's group."""
    groups: dict[str, float] = {}
    cumulative: dict[str, float] = {}
    own: dict[str, float] = {}
    stack: list[tuple[Any, frozenset[str], str]] = [(root, frozenset(), "other")]
    while stack:
        frame, above, caller_group = stack.pop()
        name = _frame_name(frame)
        if name not in above:
            cumulative[name] = cumulative.get(name, 0.0) + frame.time
        self_time = frame.total_self_time
        own[name] = own.get(name, 0.0) + self_time
        group = next((g for g, parts in PROFILE_GROUPS if any(p in name for p in parts)), None)
        if group is None:
            group = caller_group if name.startswith(("<built-in>", "<frozen")) else "other"
        groups[group] = groups.get(group, 0.0) + self_time
        stack.extend((child, above | {name}, group) for child in frame.children if not child.is_synthetic)

    def ranked(values: dict[str, float]) -> list[tuple[str, float]]:
        return sorted(values.items(), key=lambda item: -item[1])

    return ranked(groups), ranked(cumulative), ranked(own)


async def profile_real(load: Load, database: str, out: Path) -> Path:
    """One (B) run sampled by pyinstrument (the event loop's thread, during the load), written to `out`."""
    try:
        from pyinstrument import Profiler
        from pyinstrument.renderers import ConsoleRenderer
    except ModuleNotFoundError:
        raise SystemExit("the profile needs pyinstrument: .venv/bin/pip install pyinstrument") from None
    users = _Users()
    profiler = Profiler(interval=0.001, async_mode="disabled")  # where the loop's thread spends its time
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        await run_real(users, Load(min(load.users, WARMUP_USERS), load.messages), database)
        run, _ = await run_real(users, load, database, profiler=profiler)
    finally:
        users.quit()
        root.handlers[:], root.level = saved_handlers, saved_level
    session = profiler.last_session
    tree = session.root_frame() if session is not None else None
    if session is None or tree is None:
        raise RuntimeError("the profiler recorded nothing")
    groups, cumulative, own = profile_tables(tree)
    total = tree.time
    text = io.StringIO()
    text.write(f"inbound (B) on {database}, load {load} = {run.messages} updates, sampled by pyinstrument\n")
    text.write(
        f"wall {run.elapsed:.2f} s ({run.rate:.1f} msgs/s while profiled), bot CPU {run.cpu:.2f} s "
        f"({run.cpu_ms_per_msg:.2f} ms/msg); sampled {total:.2f} s of the event loop's thread\n"
        f"bot CPU in the event loop's thread {run.main_thread_cpu:.2f} s, in other threads (aiosqlite's "
        f"connection threads, not sampled) {run.cpu - run.main_thread_cpu:.2f} s\n\n"
    )
    text.write("== self time per group (adds up to the sampled time) ==\n")
    for group, seconds in groups:
        text.write(f"{seconds:8.3f} s  {seconds / total:6.1%}  {group}\n")
    for title, rows, count in (("cumulative (inclusive) time", cumulative, 60), ("self time", own, 40)):
        text.write(f"\n== top {count} functions by {title} ==\n")
        for name, seconds in rows[:count]:
            text.write(f"{seconds:8.3f} s  {seconds / total:6.1%}  {_short(name)}\n")
    renderer = ConsoleRenderer(
        show_all=False, unicode=False, color=False, processor_options={"filter_threshold": 0.005}
    )
    text.write("\n== call tree (library frames folded; frames under 0.5% left out) ==\n")
    text.write(renderer.render(session))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.getvalue(), encoding="utf-8")
    return out


def _short(name: str) -> str:
    """A frame name with the virtualenv's and the project's prefixes cut."""
    for prefix in (f"{sys.prefix}/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages/",
                   f"{sys.base_prefix}/lib/python{sys.version_info.major}.{sys.version_info.minor}/",
                   f"{ROOT}/"):  # fmt: skip
        name = name.replace(prefix, "")
    return name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inbound", description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=Load.parse, default=None, help="USERSxMESSAGES (default 50x20)")
    parser.add_argument("--pairs", type=int, default=PAIRS, help="A/B pairs per database (default 3)")
    parser.add_argument("--profile", choices=["sqlite", "postgres"], help="profile one (B) run instead")
    parser.add_argument("--out", type=Path, default=None, help="where --profile writes its text")
    args = parser.parse_args(argv)
    load: Load = args.load or _load_from_env()
    if args.profile:
        out = args.out or ROOT / "bench" / "profiles" / f"inbound_{args.profile}.txt"
        print(f"written to {asyncio.run(profile_real(load, args.profile, out))}", file=sys.stderr)
        return 0
    for key, value in asyncio.run(run_inbound_bench(load, args.pairs)).items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
