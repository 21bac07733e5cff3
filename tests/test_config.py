"""Settings: defaults, validation as one line with exit status 2, secrets never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_use_sqlite_in_the_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///data/bot.sqlite3"
    assert settings.telegram_bot_token is None


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BOT_FLOOD_BURST", "lots", "BOT_FLOOD_BURST: Input should be a valid integer"),
        ("BOT_DATABASE_URL", "mysql://x", "BOT_DATABASE_URL: must start with sqlite+aiosqlite://"),
        ("BOT_HTTP_PORT", "70000", "BOT_HTTP_PORT: Input should be less than or equal to 65535"),
        ("TELEGRAM_WEBHOOK_URL", "ftp://x", "TELEGRAM_WEBHOOK_URL: must be an http:// or https:// URL"),
        ("BOT_DEFAULT_LANGUAGE", "English", "BOT_DEFAULT_LANGUAGE: must be a lowercase ISO 639-1 code"),
    ],
)
def test_bad_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None)
    assert str(error.value).startswith(expected)
    assert "\n" not in str(error.value)


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("BOT_FLOOD_BURST=3\nSLACK_STAFF_USER_IDS=U1, U2\n")
    settings = load_settings()
    assert settings.bot_flood_burst == 3
    assert settings.staff_user_ids == {"U1", "U2"}


def test_secrets_do_not_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:very-secret-token")
    settings = load_settings(_env_file=None)
    assert "very-secret" not in repr(settings)
    assert settings.secret_values() == ["123456:very-secret-token"]


def test_invalid_config_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "BOT_FLOOD_PER_MINUTE": "-5", "BOT_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "console", "--jsonl"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "config error: BOT_FLOOD_PER_MINUTE: Input should be greater than or equal to 1 (got '-5')"
    ]
    assert "Traceback" not in result.stderr
