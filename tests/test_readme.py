"""The README stays true: its runnable commands run, and it names every setting, command and form.

A code block opened with ```` ```sh runnable ```` is run as a bash script from the project's root, with
none of the developer's bot settings and BOT_DATA_DIR in a temporary folder; it must exit 0 without a
traceback. Blocks that start a long-running bot (`make run`, production) are plain ```` ```sh ````.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from bot.config import Settings
from run_bot import build_app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
RUNNABLE = re.compile(r"^```sh runnable\n(.*?)^```$", re.MULTILINE | re.DOTALL)
BLOCKS = RUNNABLE.findall(README)


def test_the_readme_has_runnable_blocks() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[b.strip().splitlines()[0][:40] for b in BLOCKS])
def test_each_runnable_block_runs(block: str, tmp_path: Path) -> None:
    settings = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in settings}
    env["BOT_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-2000:]
    assert "Traceback" not in output, output[-2000:]
    assert done.stdout.strip(), "a runnable block shows something"


def test_every_setting_is_in_the_settings_table() -> None:
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in README]
    assert missing == []


def test_every_command_and_form_is_in_the_readme(settings: Settings) -> None:
    routes = build_app(settings).services.routes
    assert [name for name in sorted(routes.commands) if f"`/{name}" not in README] == []
    assert [form for form in sorted(routes.forms) if f"| `{form}` |" not in README] == []
