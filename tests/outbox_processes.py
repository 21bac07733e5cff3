"""Real bot processes for the outbox's crash and two-instance tests, against the Telegram emulator.

Each process is `python run_bot.py` with a Telegram token, pointed at the emulator, in webhook mode on
its own port (so two instances do not fight over getUpdates). A PostgreSQL run gets its own database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.delivery.outbox import open_count
from bot.storage.database import Database
from tests.conftest import POSTGRES_URL
from tests.emulators.telegram import TelegramEmulator

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4


@asynccontextmanager
async def database_for(kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database the subprocesses can open by URL: a SQLite file, or a new PostgreSQL database."""
    if kind == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.sqlite3'}")
        await database.upgrade()
        yield database
        await database.dispose()
        return
    name = f"scn_outbox_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}")
    try:
        await database.upgrade()
        yield database
    finally:
        await database.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_bot(
    emulator: TelegramEmulator,
    database: Database,
    tmp_path: Path,
    *,
    rate: float,
    lease: float = 3,
    share: float = 1.0,
) -> asyncio.subprocess.Process:
    port = free_port()
    environment = {
        **os.environ,
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "BOT_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "BOT_LOG_LEVEL": "WARNING",
        "BOT_HTTP_HOST": "127.0.0.1",
        "BOT_HTTP_PORT": str(port),
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "TELEGRAM_RATE_PER_S": str(rate),
        "DELIVERY_RATE_SHARE": str(share),
        "DELIVERY_LEASE_SECONDS": str(lease),
        "DELIVERY_WORKERS": str(WORKERS),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "run_bot.py"),
        env=environment, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stop_bot(process: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> str:
    """Signal the process, wait for it, return what it wrote on standard error."""
    if process.returncode is None:
        process.send_signal(sig)
    _, stderr = await asyncio.wait_for(process.communicate(), 20)
    return stderr.decode(errors="replace")


def messages_per_chat(emulator: TelegramEmulator) -> Counter[int]:
    return Counter(message.chat_id for message in emulator.sent_messages())


async def until(condition: Callable[[], object], within: float, what: str) -> None:
    """Poll a cheap condition (emulator state) every 50 ms, failing after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def until_drained(database: Database, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with database.session() as session:
            if await open_count(session, "telegram") == 0:
                return
        if loop.time() > deadline:
            raise AssertionError(f"outbox not drained after {within:g} s")
        await asyncio.sleep(0.1)
