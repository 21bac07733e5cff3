"""The first ten minutes: bad settings stop the bot with one line, the demo network, catalogues offered.

Each bad setting runs the real program (`scn-bot`, i.e. run_bot.py) in a subprocess: one line naming
the setting on standard error, exit status 2, no traceback, nothing started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import Settings
from bot.domain import demo
from bot.i18n import Catalogs
from bot.storage.database import Database
from bot.storage.events import Event
from bot.storage.people import City, Person
from run_bot import build_app
from tests.harness import ConsoleChat, StaffChat

ROOT = Path(__file__).resolve().parent.parent
TOKENS = (
    "TELEGRAM_BOT_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "BOT_DATABASE_URL",
)


def run(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in TOKENS}
    environment.update({"BOT_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )


BAD_SETTINGS = [
    ({"BOT_DEFAULT_LANGUAGE": "de"}, "BOT_DEFAULT_LANGUAGE: there is no catalogue for 'de'"),
    ({"BOT_LOCALES_DIR": "/nowhere/locales"}, "BOT_LOCALES_DIR: /nowhere/locales is not a folder"),
    ({"BOT_CONTENT_DIR": "/nowhere/content"}, "BOT_CONTENT_DIR: /nowhere/content is not a folder"),
    ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN: is not a bot token from @BotFather"),
    (
        {"SLACK_BOT_TOKEN": "xapp-1-wrong-kind"},
        "SLACK_BOT_TOKEN: is not a Slack bot token (it starts with xoxb-)",
    ),
    ({"SLACK_APP_TOKEN": "xoxb-wrong-kind"}, "SLACK_APP_TOKEN: is not a Slack app-level token"),
    (
        {"BOT_DATABASE_URL": "postgresql+asyncpg://no_such_role@127.0.0.1:5432/test"},
        'cannot connect to postgresql+asyncpg://no_such_role@127.0.0.1:5432/test: role "no_such_role"',
    ),
    (
        {"BOT_DATABASE_URL": "postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/test"},
        "BOT_DATABASE_URL: cannot connect to postgresql+asyncpg://postgres:***@127.0.0.1:1/test",
    ),
    ({"BOT_DATABASE_URL": "mysql://x@y/z"}, "BOT_DATABASE_URL: must start with sqlite+aiosqlite://"),
]


@pytest.mark.parametrize(
    ("env", "line"), BAD_SETTINGS, ids=[next(iter(e)) + str(i) for i, (e, _) in enumerate(BAD_SETTINGS)]
)
def test_a_bad_setting_is_one_line_and_exit_2(tmp_path: Path, env: dict[str, str], line: str) -> None:
    result = run(tmp_path, "console", "--jsonl", **env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and line in lines[0], lines
    assert "Traceback" not in result.stderr and result.stdout == ""
    name, value = next(iter(env.items()))
    if "TOKEN" in name:  # a secret never shows
        assert value not in result.stderr
    assert "hunter2" not in result.stderr  # nor a password


def test_the_demo_seed_is_idempotent_and_never_touches_a_configured_database(tmp_path: Path) -> None:
    configured = tmp_path / "mine.sqlite3"
    first = run(tmp_path, "demo", "seed", BOT_DATABASE_URL=f"sqlite+aiosqlite:///{configured}")
    assert first.returncode == 0, first.stderr
    assert "7 cities" in first.stdout and "upcoming event #1" in first.stdout
    assert (tmp_path / "data" / "demo" / "demo.sqlite3").exists() and not configured.exists()
    again = run(tmp_path, "demo", "seed")
    assert again.returncode == 0 and again.stdout == first.stdout.replace(str(configured), "")
    # a script with a configured database runs on it, not on the demo network
    line = json.dumps({"from": "newcomer", "text": "/peers"})
    scripted = run(
        tmp_path,
        "console",
        "--jsonl",
        stdin=line + "\n",
        BOT_DATABASE_URL=f"sqlite+aiosqlite:///{configured}",
    )
    [reply] = [json.loads(x) for x in scripted.stdout.splitlines()]
    assert "verified focal points" in reply["text"] and "Amina" not in reply["text"]


async def test_the_demo_network_lets_every_flow_be_tried(tmp_path: Path) -> None:
    settings = Settings(bot_data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}")
    await database.upgrade()
    app = build_app(settings, clock=FakeClock(), database=database, flood_limit=False)
    for _ in range(2):  # twice: nothing doubles
        async with app.database.session() as session:
            seeded = await demo.seed(
                session, app.services.outbox, app.services.catalogs, app.services.clock.now()
            )
    async with app.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(City)) == seeded.cities == 7
        assert await session.scalar(select(func.count()).select_from(Event)) == 1
        regions = set((await session.scalars(select(City.region))).all())
        me = await session.scalar(select(Person).where(Person.display_name == "Demo Focal Point"))
    assert {"Africa", "MENA", "Western Balkans", "South Asia", "North America"} <= regions
    assert me is not None and me.role == "focal_point" and me.city_id is not None
    chat = ConsoleChat(app, demo.DEMO_PERSON)
    [peers] = await chat.send("/peers")
    assert "6 focal points" in peers.text and "Ask Amina for an introduction" in chat.buttons()
    [page] = await chat.send("/events")
    assert "Regional exchange: young people and online hate" in page.text
    [page] = await chat.send("Who works on online hate in the Western Balkans?")
    assert "Besa Hoxha" in page.text
    [guest] = await ConsoleChat(app, "visitor").send("/apply")
    assert guest.form is not None and guest.form.id == "apply"
    staff = StaffChat(app, demo.DEMO_STAFF)
    [waiting] = await staff.send("/applications")
    assert "Municipalité de Sousse" in waiting.text
    [listing] = await staff.send("/event list")
    assert "Regional exchange" in listing.text
    await app.close()


def test_a_catalogue_under_90_percent_is_not_offered(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    (locales / "de" / "LC_MESSAGES").mkdir(parents=True)
    (locales / "fr" / "LC_MESSAGES").mkdir(parents=True)
    ids = [f"Message {n}" for n in range(20)]
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    (locales / "messages.pot").write_text(
        header + "".join(f'msgid "{i}"\nmsgstr ""\n\n' for i in ids), "utf-8"
    )
    german = "".join(f'msgid "{i}"\nmsgstr "{"Nachricht" if n < 10 else ""}"\n\n' for n, i in enumerate(ids))
    french = "".join(f'msgid "{i}"\nmsgstr "Message {n} fr"\n\n' for n, i in enumerate(ids))
    (locales / "de" / "LC_MESSAGES" / "messages.po").write_text(header + german, "utf-8")
    (locales / "fr" / "LC_MESSAGES" / "messages.po").write_text(header + french, "utf-8")
    catalogs = Catalogs(locales)
    assert catalogs.completeness == {"en": 1.0, "de": 0.5, "fr": 1.0}
    assert catalogs.offered == ("en", "fr") and "de" in catalogs.languages


def test_the_i18n_check_says_how_far_each_catalogue_is(tmp_path: Path) -> None:
    result = run(tmp_path, "i18n", "check")
    assert "fr: " in result.stdout and "% translated" in result.stdout


async def test_language_takes_its_argument(chat: ConsoleChat) -> None:
    [done] = await chat.send("/language français")
    assert "français" in done.text.lower()
    [again] = await chat.send("/language es")
    assert "español" in again.text.lower()
    [unknown] = await chat.send("/language klingon")
    assert "klingon" in unknown.text and unknown.buttons
