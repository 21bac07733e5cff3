from __future__ import annotations

import pytest

from bot.messages import Incoming, parse_command


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/start", ("start", "")),
        ("/Start@scn_bot  join-123 ", ("start", "join-123")),
        ("  /help", ("help", "")),
        ("/", (None, "")),
        ("/ start", (None, "")),
        ("/путь", (None, "")),
        ("hello /start", (None, "")),
        ("/a-b", (None, "")),
    ],
)
def test_parse_command(raw: str, expected: tuple[str | None, str]) -> None:
    assert parse_command(raw) == expected


def test_from_text_kinds() -> None:
    assert Incoming.from_text("console", "a", "a", "/start x").kind == "command"
    assert Incoming.from_text("console", "a", "a", "hi").kind == "text"
    assert Incoming("console", "a", "a", button="lang:ar").kind == "button"
