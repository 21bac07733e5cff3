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
        ('{"from": "a"}', 'exactly one of "text", "button" or "submit"'),
        ('{"from": "a", "text": "x", "button": "y"}', 'exactly one of "text", "button" or "submit"'),
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
    """What `echo /start | make run` does on a fresh machine: no tokens, the console on the demo network
    (a SQLite file of its own), every delivery the start caused done before it exits."""
    environment = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data")}
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "BOT_DATABASE_URL"):
        environment.pop(name, None)
    result = subprocess.run([sys.executable, str(ROOT / "run_bot.py")], input="/start\n", capture_output=True,
                            text=True, env=environment, cwd=tmp_path, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Welcome, Demo Focal Point!" in result.stdout
    assert "[1] Ask a question" in result.stdout
    assert (tmp_path / "data" / "demo" / "demo.sqlite3").exists()
    assert "7/7 sent" in result.stderr and "pending (done)" in result.stderr


def _with_focal_points(tmp_path: Path, *names: tuple[str, str]) -> None:
    """Focal points (console name, language) in the database the subprocess will use."""
    import asyncio

    from bot.clock import SystemClock
    from bot.storage.database import Database
    from bot.storage.people import City, Person, PlatformIdentity

    async def make() -> None:
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.sqlite3'}")
        await database.upgrade()
        now = SystemClock().now()
        async with database.session() as session:
            city = City(name="Lisbon", country="Portugal", region="Europe", created_at=now)
            session.add(city)
            await session.flush()
            for name, language in names:
                person = Person(display_name=name, role="focal_point", language=language, city_id=city.id,
                                created_at=now, last_seen_at=now)  # fmt: skip
                person.identities.append(PlatformIdentity(platform="console", external_id=name, chat_id=name))
                session.add(person)
        await database.dispose()

    asyncio.run(make())


def run_console_with(args: list[str], lines: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data")}
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    command = [sys.executable, str(ROOT / "run_bot.py"), "console", "--jsonl", *args]
    stdin = "\n".join(lines) + "\n"
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=120
    )


@pytest.mark.slow
def test_staff_announce_from_the_scripted_console_with_no_slack(tmp_path: Path) -> None:
    _with_focal_points(tmp_path, ("marie", "fr"), ("amina", "ar"))
    result = run_console_with(
        [],
        [
            '{"from": "sara", "staff": true, "text": "/announce"}',
            '{"from": "sara", "staff": true, "submit": {"form": "announce", "values": {"audience": "all"}}}',
            '{"from": "sara", "staff": true, "submit": {"form": "announce", "values": '
            '{"text": "Summit moved", "audience": "all", "text_fr": "Sommet déplacé"}}}',
            '{"from": "sara", "staff": true, "button": "announce:send:1"}',
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = records(result)
    form = out[0]["form"]
    assert form["id"] == "announce" and form["submit"] == "Preview"
    fields = {f["id"]: f for f in form["fields"]}
    assert fields["text"]["kind"] == "long_text" and fields["text"]["required"] is True
    assert {"label": "All focal points", "value": "all"} in [
        {"label": c["label"].capitalize(), "value": c["value"]} for c in fields["audience"]["choices"]
    ]
    assert fields["text_fr"]["required"] is False
    rejected = out[1]["form"]
    assert (
        rejected["errors"] == {"text": "Please fill in this field."}
        and rejected["values"]["audience"] == "all"
    )
    assert "reach 2 people" in out[2]["text"]
    assert {"label": "Send to 2", "payload": "announce:send:1"} in out[2]["buttons"]
    assert out[3]["text"].startswith("Sending announcement #1 to 2 people")
    by_recipient = {r["to"]: r["text"] for r in out[4:] if r["to"] != "sara"}
    assert by_recipient["marie"].endswith("Sommet déplacé") and by_recipient["amina"].endswith("Summit moved")
    staff_side = [r["text"] for r in out[4:] if r["to"] == "sara"]
    assert staff_side[0].startswith("Announcement #1 from sara to all focal points (2 people):")
    assert any(text.startswith("Done: 2 sent, 0 failed, 0 blocked (of 2).") for text in staff_side)
    assert all(r["at"].endswith("Z") for r in out)


@pytest.mark.slow
def test_the_simulated_clock_moves_only_on_clock_lines(tmp_path: Path) -> None:
    result = run_console_with(
        ["--simulated-clock", "2026-12-01T09:00:00Z"],
        [
            '{"from": "amina", "text": "/start"}',
            '{"clock": "2026-12-01T10:30:00Z"}',
            '{"from": "amina", "text": "/help"}',
            '{"clock": "2026-12-01T10:00:00Z"}',
            '{"clock": "2026-12-01T11:00:00Z", "from": "x"}',
            '{"clock": "yesterday"}',
            '{"from": "amina", "text": "/help"}',
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert [r["at"] for r in records(result)] == [
        "2026-12-01T09:00:00Z", "2026-12-01T10:30:00Z", "2026-12-01T10:30:00Z",
    ]  # fmt: skip
    errors = result.stderr.strip().splitlines()
    assert errors[0].startswith("line 4: the clock cannot go back")
    assert errors[1] == 'line 5: a "clock" line holds only "clock"'
    assert errors[2].startswith('line 6: "clock" is not an ISO-8601 time')


@pytest.mark.slow
def test_a_clock_line_without_a_simulated_clock_is_an_error_and_the_next_line_is_read(tmp_path: Path) -> None:
    result = run_console_with(
        [], ['{"clock": "2026-12-01T10:30:00Z"}', '{"from": "amina", "text": "/start"}'], tmp_path
    )
    assert result.returncode == 0
    assert result.stderr.strip().splitlines() == ["line 1: a clock line needs --simulated-clock"]
    assert records(result)[0]["text"].startswith("Welcome, amina!")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"from": "a", "submit": "announce"}', '"submit" must be {"form"'),
        ('{"from": "a", "submit": {"form": "x", "values": [1]}}', '"values" must be an object'),
        ('{"from": "a", "submit": {"form": "x", "values": {"k": {"deep": 1}}}}', 'the value of "k"'),
        ('{"from": "a", "submit": {"form": "x", "extra": 1}}', "unknown field(s) ['extra']"),
        ("[" * 1000 + "]" * 1000, "nested deeper than 20"),
        ('{"from": "\\ud800", "text": "hi"}', '"from" must be a name'),
        ('{"from": "a", "text": "nul \\u0000 byte"}', "cannot be stored"),
    ],
)
def test_bad_submissions_and_hostile_lines_are_explained(line: str, message: str) -> None:
    with pytest.raises(ConsoleInputError) as raised:
        parse_line(line)
    assert message in str(raised.value)
