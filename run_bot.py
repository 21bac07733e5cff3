"""Composition root and command line: reads config, builds the app, starts adapters.

Installed as `scn-bot` (`.venv/bin/scn-bot ...`); `python run_bot.py ...` is the same.

scn-bot                    run: Telegram/Slack when their tokens are set, else the console (demo network)
scn-bot console [--jsonl] [--simulated-clock TIME] [--name N] [--lang L] [--staff] [--demo|--no-demo]
scn-bot demo seed
scn-bot db upgrade|current|revision -m MSG
scn-bot i18n check|extract|init LANG
scn-bot content check|export-accepted
scn-bot cities import FILE.csv | cities export [FILE.csv]
scn-bot outbox demo-batch --platform telegram --recipients 2000 | outbox status
"""

from __future__ import annotations

import os
import signal


def _leave_while_loading(_signum: int, _frame: object) -> None:
    """Ctrl-C while the modules load (the first second): leave at once, quietly, on a fresh line."""
    os.write(2, b"\n")
    os._exit(0)


if __name__ == "__main__":  # `python run_bot.py`, `make run`: the imports below take a second
    signal.signal(signal.SIGINT, _leave_while_loading)

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.base import Adapter
from bot.adapters.web import WebServer
from bot.app import BotApp, SchemaOutdated
from bot.clock import Clock, FakeClock, VirtualTimer
from bot.config import ConfigError, Settings, load_settings
from bot.content import ContentError
from bot.delivery.limits import Timer
from bot.delivery.runner import DeliveryRunner, print_progress
from bot.logs import mask_secrets, setup_logging
from bot.payloads import PayloadStore
from bot.storage.database import Database, DatabaseUnreachable
from scheduler.runner import JobScheduler, VirtualScheduler
from scheduler.simulated import SimulatedTime

log = logging.getLogger("run_bot")
T = TypeVar("T")


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    flood_limit: bool = True,
) -> BotApp:
    """The whole bot, as run in production and in tests (the handlers' routers plugged into the core).

    Raises `ContentError` when the knowledge base cannot be loaded.
    """
    import handlers
    from bot.accepted import read_example_file
    from bot.domain import suggestions
    from bot.domain.people import POLICY
    from bot.knowledge import KnowledgeBase
    from bot.language import LanguageDetector
    from bot.regions import load_regions
    from bot.smalltalk import load_smalltalk
    from bot.taxonomy import load_taxonomy

    knowledge = KnowledgeBase.load(settings.bot_content_dir)
    exported, problems = read_example_file(settings.bot_content_dir)
    for problem in problems:
        log.warning("%s (skipped)", problem)
    knowledge = suggestions.teach(knowledge, exported)
    detector = LanguageDetector(english_words=knowledge.vocabulary("en"))
    bot_app = BotApp(
        settings,
        handlers.routers(),
        clock=clock,
        database=database,
        flood_limit=flood_limit,
        detector=detector,
        knowledge=knowledge,
        access=POLICY,
    )
    bot_app.services.content_knowledge = knowledge
    bot_app.services.regions = load_regions(settings.bot_content_dir)
    bot_app.services.taxonomy = load_taxonomy(settings.bot_content_dir, bot_app.services.catalogs.languages)
    bot_app.services.smalltalk = load_smalltalk(settings.bot_content_dir, bot_app.services.catalogs.languages)
    return bot_app


def build_scheduler(app: BotApp, clock: FakeClock | None = None) -> JobScheduler | VirtualScheduler:
    """The scheduler with every job and timer source; on a simulated clock, the virtual one."""
    from scheduler.jobs import default_jobs
    from scheduler.sources import default_sources

    if clock is not None:
        return VirtualScheduler(app.services, clock, default_jobs(), default_sources())
    return JobScheduler(app.services, default_jobs(), default_sources())


def subscribe_reports(app: BotApp, deliveries: DeliveryRunner) -> None:
    """Delivery reports of announcements (and other reported batches) go back to their owners."""
    from bot.domain.reports import BatchReporter

    services = app.services
    deliveries.listeners.subscribe("", BatchReporter(app.database, services.outbox, services.catalogs))


async def run_console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.adapters.console import USAGE, ConsoleAdapter

    scripted = args.jsonl
    simulated = _simulated_start(args)
    if simulated is not None and not scripted:
        print("error: --simulated-clock goes with --jsonl", file=sys.stderr)
        return 2
    clock = FakeClock(simulated) if simulated is not None else None
    demo = _uses_demo(settings, args)
    if demo:
        settings = settings.model_copy(update={"bot_database_url": demo_database_url(settings)})
    # The console is a local, trusted channel: no flood limit (a piped script gets every answer).
    app = build_app(settings, flood_limit=False, clock=clock)
    await app.start()
    if demo:
        await _seed(app)
    timer = VirtualTimer(clock) if clock is not None else None
    deliveries = delivery_runner(app, settings, timer=timer)
    deliveries.listeners.subscribe("console:", print_progress(sys.stderr))
    subscribe_reports(app, deliveries)
    scheduler = build_scheduler(app, clock)
    handle = deliveries.count_direct_replies(app.handle)
    after_each: Callable[[], Awaitable[None]] | None = None
    on_clock: Callable[[datetime], Awaitable[str | None]] | None = None
    adapter = ConsoleAdapter(
        handle, jsonl=scripted, addressed=not sys.stdin.isatty(), clock=app.services.clock,
        on_clock=lambda moment: on_clock(moment) if on_clock else _no_clock(),
        exports_dir=settings.bot_data_dir / "exports", rtl=bool(getattr(args, "rtl", False)),
        speaker=None if scripted else _console_name(args),
    )  # fmt: skip
    if clock is not None:
        assert isinstance(scheduler, VirtualScheduler)
        stepper = SimulatedTime(clock, scheduler, deliveries, [adapter])
        after_each, on_clock = stepper.settle, stepper.move_to
    else:
        await deliveries.start([adapter])  # deliveries to demo people are printed like replies
    await scheduler.start()
    defaults: dict[str, Any] = {"language_hint": args.lang, "staff_vouched": True if args.staff else None}
    try:
        if scripted:
            errors = await adapter.run(after_each=after_each)
        elif sys.stdin.isatty():
            where = "the demo network" if demo else str(settings.database_url).split("///")[-1]
            print(f"{USAGE}\n(on {where}; the log is in {settings.bot_data_dir / 'bot.log'})\n")
            errors = await adapter.run(
                sys.stdin.readline, greet_as=_console_name(args), defaults=defaults, prompt="you> "
            )
        else:
            errors = await adapter.run(speaker=_console_name(args), defaults=defaults)
        if clock is not None and after_each is not None:
            await after_each()
        elif scripted or not sys.stdin.isatty():
            await _drain_scripted(scheduler, deliveries)  # exit once what the input caused is delivered
    finally:
        await scheduler.stop()
        await deliveries.stop()
        await app.close()
    return 1 if errors and scripted and args.strict else 0


def demo_database_url(settings: Settings) -> str:
    return f"sqlite+aiosqlite:///{settings.bot_data_dir / 'demo' / 'demo.sqlite3'}"


def _uses_demo(settings: Settings, args: argparse.Namespace) -> bool:
    """The interactive console runs on the demo network unless a database is configured (or
    `--no-demo`); a script (`--jsonl`) only with `--demo`."""
    if settings.bot_database_url or getattr(args, "no_demo", False):
        return False
    return bool(getattr(args, "demo", False)) or not getattr(args, "jsonl", False)


async def _seed(app: BotApp) -> None:
    from bot.domain import demo

    async with app.database.session() as session:
        await demo.seed(session, app.services.outbox, app.services.catalogs, app.services.clock.now())


async def demo_command(settings: Settings, args: argparse.Namespace) -> int:
    """`demo seed`: make the demo network in its own database (never the one BOT_DATABASE_URL names)."""
    from bot.domain import demo

    demo_settings = settings.model_copy(update={"bot_database_url": demo_database_url(settings)})
    app = build_app(demo_settings, flood_limit=False)
    await app.start()
    try:
        async with app.database.session() as session:
            seeded = await demo.seed(
                session, app.services.outbox, app.services.catalogs, app.services.clock.now()
            )
    finally:
        await app.close()
    print(
        f"demo network in {demo_settings.database_url.split('///')[-1]}: {seeded.cities} cities, "
        f"{seeded.people} people, upcoming event #{seeded.event}, application #{seeded.application} to review"
    )
    return 0


def _console_name(args: argparse.Namespace) -> str:
    """Who is typing at the terminal: `--name`, else `staff` for `--staff` (so the demo focal point keeps
    their role), else `demo`."""
    if args.name:
        return str(args.name)
    return "staff" if args.staff else "demo"


async def _no_clock() -> str | None:
    return "a clock line needs --simulated-clock"


async def _drain_scripted(scheduler: JobScheduler | VirtualScheduler, deliveries: DeliveryRunner) -> None:
    """The end of a real-time script: let signalled jobs finish, then deliver everything."""
    for _ in range(3):
        await asyncio.sleep(0)
    if isinstance(scheduler, JobScheduler):
        for job in scheduler.jobs:
            await scheduler.run_job(job)
    await deliveries.drain()


def _simulated_start(args: argparse.Namespace) -> datetime | None:
    raw = getattr(args, "simulated_clock", None)
    if raw is None:
        return None
    return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)


async def run_bot(settings: Settings, args: argparse.Namespace) -> int:
    """Start the platform adapters the settings ask for (the console when there are no tokens)."""
    if settings.telegram_bot_token is None and settings.slack_bot_token is None:
        return await run_console(settings, args)
    app = build_app(settings)
    await app.start()
    try:
        runtime = await start_platforms(app, settings)
        await runtime.start_scheduler(build_scheduler(app))
    except Exception as error:  # a rejected token, an unreachable API: one clear line, no secret
        log.exception("platforms failed to start")
        reason = mask_secrets(f"{type(error).__name__}: {error}", settings.secret_values())
        print(f"error: could not start the platform adapters ({reason})", file=sys.stderr)
        await app.close()
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runtime.stop()
        await app.close()
    return 0


class PlatformRuntime:
    """The running adapters and the web server, stopped in reverse order."""

    def __init__(self) -> None:
        self.adapters: list[Adapter] = []
        self.web: WebServer | None = None
        self.deliveries: DeliveryRunner | None = None
        self.scheduler: JobScheduler | VirtualScheduler | None = None

    async def start_scheduler(self, scheduler: JobScheduler | VirtualScheduler) -> None:
        self.scheduler = scheduler
        await scheduler.start()

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.deliveries is not None:
            await self.deliveries.stop()  # finish and record the sends under way first
        for adapter in reversed(self.adapters):
            await adapter.stop()
        if self.web is not None:
            await self.web.stop()


async def start_platforms(app: BotApp, settings: Settings) -> PlatformRuntime:
    """Build and start the adapters for the configured platforms, and the web server they need."""
    runtime = PlatformRuntime()
    deliveries = delivery_runner(app, settings)
    web = WebServer(settings.bot_http_host, settings.bot_http_port)
    web.add_check("database", app.database.ping)
    if settings.telegram_bot_token is not None:
        from bot.adapters.telegram import TelegramAdapter

        telegram = TelegramAdapter(
            settings.telegram_bot_token.get_secret_value(),
            deliveries.count_direct_replies(app.handle),
            PayloadStore(app.database, app.services.clock),
            base_url=settings.telegram_api_base_url,
            webhook_url=settings.telegram_webhook_url,
            webhook_secret=settings.telegram_webhook_secret.get_secret_value()
            if settings.telegram_webhook_secret
            else None,
            web_server=web,
            command_menus=app.command_menus,
            default_language=settings.bot_default_language,
        )
        web.add_check("telegram", telegram.healthy)
        runtime.adapters.append(telegram)
    if settings.slack_bot_token is not None:
        from bot.adapters.slack import SlackAdapter

        slack = SlackAdapter.from_settings(settings, deliveries.count_direct_replies(app.handle), web)
        if settings.slack_staff_channel:
            app.services.staff_channels["slack"] = settings.slack_staff_channel
        web.add_check("slack", slack.healthy)
        runtime.adapters.append(slack)
    subscribe_reports(app, deliveries)
    await web.start()  # /healthz always; the Telegram webhook and Slack HTTP endpoint when configured
    runtime.web = web
    for adapter in runtime.adapters:
        await adapter.start()
        link = getattr(adapter, "deep_link", None)  # how a person opens an invitation there
        if isinstance(link, str) and link:
            app.services.deep_links[adapter.platform] = link
    await deliveries.start(runtime.adapters)  # one outbox deliverer per platform adapter
    runtime.deliveries = deliveries
    return runtime


def delivery_runner(app: BotApp, settings: Settings, *, timer: Timer | None = None) -> DeliveryRunner:
    return DeliveryRunner(app.database, settings, app.services.outbox, app.services.clock, timer=timer)


async def outbox_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.delivery.demo import enqueue_demo_batch, outbox_status

    database = Database(settings.database_url)
    try:
        if database.is_sqlite:
            await database.upgrade()
        if args.action == "demo-batch":
            batch_id, added = await enqueue_demo_batch(
                database, SystemClock(), platform=args.platform, recipients=args.recipients,
                first_chat=args.first_chat, key=args.key,
            )  # fmt: skip
            print(f"batch {batch_id}: {added} new message(s) for {args.platform}")
        else:
            print("\n".join(await outbox_status(database)))
    finally:
        await database.dispose()
    return 0


async def db_command(settings: Settings, args: argparse.Namespace) -> int:
    database = Database(settings.database_url)
    try:
        if args.action == "upgrade":
            await database.upgrade()
            print(f"database at revision {await database.current_revision()}")
        elif args.action == "current":
            print(await database.current_revision() or "empty")
        elif args.action == "revision":
            from alembic import command

            from bot.storage.database import alembic_config

            async with database.engine.begin() as connection:
                await connection.run_sync(
                    lambda c: command.revision(alembic_config(c), message=args.message, autogenerate=True)
                )
    finally:
        await database.dispose()
    return 0


def i18n_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot import i18n_check

    if args.action == "check":
        from bot.i18n import OFFERED_AT, Catalogs

        problems = i18n_check.check_catalogs(settings.bot_locales_dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        catalogs = Catalogs(settings.bot_locales_dir, settings.bot_default_language)
        for language, share in sorted(catalogs.completeness.items()):
            offered = "" if share >= OFFERED_AT else f" (not offered in /language below {OFFERED_AT:.0%})"
            print(f"{language}: {share:.0%} translated{offered}")
        print(f"i18n check: {len(problems)} problem(s)")
        return 1 if problems else 0
    if args.action == "extract":
        written = i18n_check.update_catalogs(settings.bot_locales_dir)
        print("updated " + ", ".join(str(p) for p in written))
        return 0
    if not args.language:
        print("i18n init needs a language code, e.g. `i18n init tr`", file=sys.stderr)
        return 2
    print(f"created {i18n_check.init_catalog(settings.bot_locales_dir, args.language)}")
    return 0


def content_command(settings: Settings, args: argparse.Namespace) -> int:
    """`content check`: problems on stderr and a count (exit 1 when there are any); then, for
    information only, the language files no native speaker has reviewed yet. `content
    export-accepted`: the examples and topic drafts staff accepted, written under content/."""
    if args.action == "export-accepted":
        return asyncio.run(_export_accepted(settings))
    from bot.content import unreviewed_files
    from bot.content_check import check_content

    problems = check_content(settings.bot_content_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    unreviewed = unreviewed_files(settings.bot_content_dir)
    if unreviewed:
        print(f"{len(unreviewed)} language file(s) not reviewed by a native speaker:")
        for path in unreviewed:
            print(f"  {path}")
    print(f"content check: {len(problems)} problem(s)")
    return 1 if problems else 0


async def _export_accepted(settings: Settings) -> int:
    from bot.domain import suggestions
    from bot.storage.database import Database

    database = Database(settings.database_url)
    try:
        if database.is_sqlite:
            await database.upgrade()
        async with database.session() as session:
            count, written = await suggestions.export(session, settings.bot_content_dir)
    finally:
        await database.dispose()
    for path in written:
        print(f"wrote {path}")
    print(f"content export-accepted: {count} example question(s), {len(written) - 1} draft file(s)")
    return 0


def cities_command(settings: Settings, args: argparse.Namespace) -> int:
    """`cities import FILE.csv` (all rows or none) and `cities export [FILE.csv]`."""
    from bot.clock import SystemClock
    from bot.domain import cities
    from bot.regions import load_regions

    if args.action == "export":
        text = asyncio.run(_registry(settings, lambda session: cities.export_csv(session)))
        if args.file:
            Path(args.file).write_text(text, encoding="utf-8")
            print(f"wrote {args.file}")
        else:
            sys.stdout.write(text)
        return 0
    if not args.file:
        print("error: cities import needs a CSV file: cities import FILE.csv", file=sys.stderr)
        return 2
    try:
        raw = Path(args.file).read_bytes().decode("utf-8")
    except OSError as error:
        print(f"error: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        print(f"error: {args.file} is not UTF-8 text (byte {error.start})", file=sys.stderr)
        return 2
    now = SystemClock().now()
    try:
        rows = cities.parse_csv(raw, load_regions(settings.bot_content_dir), now.year)
    except cities.CsvProblem as problem:
        print(f"error: {args.file}: {problem} (nothing was imported)", file=sys.stderr)
        return 1
    result = asyncio.run(_registry(settings, lambda session: cities.import_rows(session, rows, now)))
    print(f"cities: {result.added} added, {result.updated} updated, {result.unchanged} unchanged")
    return 0


async def _registry(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the configured database (SQLite is migrated first)."""
    database = Database(settings.database_url)
    try:
        if database.is_sqlite:
            await database.upgrade()
        async with database.session() as session:
            return await work(session)
    finally:
        await database.dispose()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="scn-bot", description="Strong Cities Network assistant")
    root.set_defaults(
        command="run", jsonl=False, name=None, lang=None, staff=False, strict=False, demo=False, no_demo=False
    )
    root.add_argument("--name", default=None, help="without tokens: who you are in the console chat")
    root.add_argument("--lang", default=None, help="without tokens: the console's language hint, e.g. ar")
    root.add_argument("--staff", action="store_true", help="without tokens: speak as staff in the console")
    root.add_argument(
        "--rtl", action="store_true", help="without tokens: keep bidi marks (terminals with bidi)"
    )
    root.add_argument("--no-demo", action="store_true", help="without tokens: not on the demo network")
    sub = root.add_subparsers(dest="command")
    console = sub.add_parser("console", help="chat in the terminal, or script it with --jsonl")
    console.add_argument("--jsonl", action="store_true", help="read and write one JSON object per line")
    console.add_argument("--name", default=None, help="who you are in the chat (demo; staff with --staff)")
    console.add_argument("--lang", default=None, help="platform language hint, e.g. ar")
    console.add_argument("--staff", action="store_true", help="speak as staff")
    console.add_argument("--strict", action="store_true", help="exit 1 if any input line was bad")
    console.add_argument("--rtl", action="store_true", help="keep bidi isolate marks (a terminal with bidi)")
    console.add_argument("--demo", action="store_true", help="on the demo network, even with --jsonl")
    console.add_argument("--no-demo", action="store_true", help="not on the demo network (a fresh database)")
    console.add_argument(
        "--simulated-clock", metavar="TIME", type=_iso_time,
        help="run on a simulated clock starting at TIME (ISO 8601); it moves on {\"clock\": ...} lines",
    )  # fmt: skip
    demo = sub.add_parser("demo", help="the demo network the console starts on")
    demo.add_argument("action", choices=["seed"])
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "current", "revision"])
    db.add_argument("-m", "--message", default="change")
    i18n = sub.add_parser("i18n", help="translation catalogues")
    i18n.add_argument("action", choices=["check", "extract", "init"])
    i18n.add_argument("language", nargs="?")
    content = sub.add_parser("content", help="the knowledge base")
    content.add_argument("action", choices=["check", "export-accepted"])
    registry = sub.add_parser("cities", help="import or export the member registry as CSV")
    registry.add_argument("action", choices=["import", "export"])
    registry.add_argument("file", nargs="?", help="the CSV file (export: standard output when absent)")
    outbox = sub.add_parser("outbox", help="enqueue a demo batch, or show the outbox's counters")
    outbox.add_argument("action", choices=["demo-batch", "status"])
    outbox.add_argument("--platform", default="console")
    outbox.add_argument("--recipients", type=int, default=3)
    outbox.add_argument("--first-chat", type=int, default=100_000)
    outbox.add_argument("--key", default="demo", help="batch key: the same key twice enqueues once")
    return root


def _iso_time(raw: str) -> str:
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {raw!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("the time needs a zone, such as 2026-12-01T09:00:00Z")
    return raw


def main(argv: Sequence[str] | None = None) -> int:
    if signal.getsignal(signal.SIGINT) is _leave_while_loading:  # asyncio.run's own handling from here
        signal.signal(signal.SIGINT, signal.default_int_handler)
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    # The console is a chat on the terminal: standard error carries only input errors and delivery
    # progress there, so the log goes to a file.
    console = args.command == "console" or (
        args.command in ("run", None)
        and settings.telegram_bot_token is None
        and settings.slack_bot_token is None
    )
    log_file = settings.bot_data_dir / "bot.log" if console else None
    setup_logging(settings.bot_log_level, settings.secret_values(), file=log_file)
    try:
        if args.command in ("run", None):
            return asyncio.run(run_bot(settings, args))
        if args.command == "console":
            return asyncio.run(run_console(settings, args))
        if args.command == "db":
            return asyncio.run(db_command(settings, args))
        if args.command == "demo":
            return asyncio.run(demo_command(settings, args))
        if args.command == "i18n":
            return i18n_command(settings, args)
        if args.command == "content":
            return content_command(settings, args)
        if args.command == "outbox":
            return asyncio.run(outbox_command(settings, args))
        if args.command == "cities":
            return cities_command(settings, args)
    except (SchemaOutdated, ContentError, DatabaseUnreachable) as error:
        print(f"error: {mask_secrets(str(error), settings.secret_values())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: leave at once, on a fresh line
        print(file=sys.stderr)
        return 0 if console else 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
