"""The console adapter's scripted mode, through a real `run_bot.py console --jsonl` subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.console import ConsoleInputError, parse_line

ROOT = Path(__file__).resolve().parent.parent


def run_console(lines: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data"), **env}
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "console", "--jsonl"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )


def records(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.slow
def test_round_trip_with_buttons_languages_and_bad_lines(tmp_path: Path) -> None:
    result = run_console(
        [
            '{"from": "amina", "text": "/start"}',
            '{"from": "amina", "button": "lang:set:ar"}',
            '{"from": "amina", "text": "/help"}',
            "{not json",
            '["a list"]',
            '{"from": "omar", "text": "/start", "lang": "ar"}',
            "/start",
            '{"from": "amina", "text": "/nope"}',
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = records(result)
    assert [r["to"] for r in out] == ["amina", "amina", "amina", "omar", "demo", "amina"]
    welcome = out[0]
    assert welcome["text"].startswith("Welcome, amina!")
    assert {"label": "Language", "payload": "lang:menu"} in welcome["buttons"]
    assert welcome["attachments"] == []
    assert "العربية" in out[1]["text"]  # confirmation of the chosen language
    assert "/help" in out[2]["text"] and "ي" in out[2]["text"]  # help now in Arabic
    assert "ي" in out[3]["text"]  # omar's platform hint is Arabic
    assert out[4]["text"].startswith("Welcome, demo!")  # a plain line comes from the demo person
    assert "/nope" in out[5]["text"]
    errors = result.stderr.strip().splitlines()
    assert errors[0].startswith("line 4: not valid JSON")
    assert errors[1] == "line 5: expected a JSON object"


@pytest.mark.slow
def test_state_persists_between_runs_on_the_same_database(tmp_path: Path) -> None:
    run_console(['{"from": "amina", "button": "lang:set:ar"}'], tmp_path)
    [reply] = records(run_console(['{"from": "amina", "text": "/help"}'], tmp_path))
    assert "ي" in reply["text"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"from": "", "text": "hi"}', '"from" must be a name'),
        ('{"from": "a", "text": 5}', '"text" must be a string'),
        ('{"from": "a"}', 'exactly one of "text" or "button"'),
        ('{"from": "a", "text": "x", "button": "y"}', 'exactly one of "text" or "button"'),
        ('{"from": "a", "text": "x", "staff": "yes"}', '"staff" must be true or false'),
        ('{"from": "a", "txt": "x"}', "unknown field"),
    ],
)
def test_bad_lines_are_explained(line: str, message: str) -> None:
    with pytest.raises(ConsoleInputError, match=message):
        parse_line(line)


def test_plain_line_is_the_demo_person() -> None:
    incoming = parse_line("how do I join?\n")
    assert incoming is not None and incoming.user_id == "demo" and incoming.text == "how do I join?"
    assert parse_line("   \n") is None


@pytest.mark.slow
def test_default_run_with_piped_start_prints_a_welcome(tmp_path: Path) -> None:
    """What `echo /start | make run` does on a fresh machine: no tokens, the console on SQLite."""
    environment = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data")}
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "BOT_DATABASE_URL"):
        environment.pop(name, None)
    result = subprocess.run([sys.executable, str(ROOT / "run_bot.py")], input="/start\n", capture_output=True,
                            text=True, env=environment, cwd=tmp_path, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Welcome, demo!" in result.stdout
    assert "[1] Ask a question" in result.stdout
    assert (tmp_path / "data" / "bot.sqlite3").exists()
