"""The composition root: platforms that cannot start give one clear line, never a secret."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.emulators.telegram import TelegramEmulator

ROOT = Path(__file__).resolve().parent.parent


async def test_rejected_telegram_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    async with TelegramEmulator() as emulator:
        env = {
            **os.environ,
            "BOT_DATA_DIR": str(tmp_path),
            "TELEGRAM_BOT_TOKEN": "999:not-the-emulators-token",
            "TELEGRAM_API_BASE_URL": emulator.base_url,
            "BOT_HTTP_PORT": "0",
            "BOT_HTTP_HOST": "127.0.0.1",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "run_bot.py"), env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = [line for line in stderr.decode().splitlines() if line.startswith("error:")]
    assert process.returncode == 2
    assert len(lines) == 1 and "could not start the platform adapters" in lines[0]
    assert "not-the-emulators-token" not in stderr.decode()
