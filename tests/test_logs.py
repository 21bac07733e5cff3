"""Log lines: one per handled message with its duration, never its text at INFO, never a secret."""

from __future__ import annotations

import logging

import pytest

from bot.logs import SecretMask
from tests.harness import ConsoleChat


async def test_one_line_per_message_without_the_text(
    chat: ConsoleChat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await chat.send("my private question about Mombasa")
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.dispatch"]
    assert len(lines) == 1
    assert "duration_ms=" in lines[0] and "kind=text" in lines[0]
    assert all("Mombasa" not in r.getMessage() for r in caplog.records)


def test_secret_values_are_masked_in_messages_and_tracebacks() -> None:
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "calling %s", ("https://api/bot123:SECRET/x",), None
    )
    SecretMask(["123:SECRET"]).filter(record)
    assert record.getMessage() == "calling https://api/bot***/x"
    try:
        raise RuntimeError("token 123:SECRET leaked")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    SecretMask(["123:SECRET"]).filter(record)
    assert record.exc_text is not None and "123:SECRET" not in record.exc_text and "***" in record.exc_text
