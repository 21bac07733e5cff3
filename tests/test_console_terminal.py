"""The interactive console, driven like a person at a terminal: `run_bot.py` in a pseudo-terminal.

With no tokens and no BOT_DATABASE_URL the program chats on the demo network. Each test spawns the
real program (pexpect) with BOT_DATA_DIR in tmp_path and reuses one process for several checks.
The prompt `you> ` is written by the input thread as soon as a line is read, so a reply can follow it;
the tests therefore wait for the texts they need rather than for the prompt.

A few tests make Ctrl-C land at an exact moment of the start-up: a `sitecustomize.py` put on the
child's PYTHONPATH sends the process SIGINT (what Ctrl-C in a terminal sends) from a chosen function.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pexpect
import pytest

from bot.adapters.console import USAGE
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30  # one expectation; the start-up takes a few seconds
LEAVE_WITHIN = 10  # seconds from Ctrl-C, Ctrl-D or /quit to the end (generous: busy machines)
ISOLATES = "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
EXPIRED = "That button has expired. Send /start to see the menu again."
EXPIRED_FR = "Ce bouton a expiré. Envoyez /start pour revoir le menu."
DEMO_MENU = "[1] Ask a question  [2] My profile  [3] Language  [4] Help"
GUEST_MENU = "[1] Ask a question  [2] Apply to join  [3] Language  [4] Help"
TERMINAL_HELP = (
    "In this terminal: a number presses a button of the last reply; /quit, Ctrl-D or Ctrl-C leaves."
)

pytestmark = pytest.mark.slow
Spawn = Callable[..., "Terminal"]


def _environment(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    """The developer's environment without any bot setting (tokens, database, language...)."""
    settings = {name.lower() for name in Settings.model_fields}
    environment = {key: value for key, value in os.environ.items() if key.lower() not in settings}
    environment.pop("PYTHONPATH", None)
    environment.update({"BOT_DATA_DIR": str(tmp_path / "data"), "PYTHONIOENCODING": "utf-8", **extra})
    return environment


class Terminal:
    """One run of `run_bot.py` in a pseudo-terminal; `output` is all it printed so far."""

    def __init__(self, tmp_path: Path, args: tuple[str, ...], env: dict[str, str]) -> None:
        self.data = tmp_path / "data"
        self._log = io.StringIO()
        self.child = pexpect.spawn(
            sys.executable,
            [str(ROOT / "run_bot.py"), *args],
            env=_environment(tmp_path, env),
            cwd=str(tmp_path),
            encoding="utf-8",
            timeout=TIMEOUT,
            dimensions=(40, 400),
        )
        self.child.logfile_read = self._log

    @property
    def output(self) -> str:
        return self._log.getvalue().replace("\r\n", "\n")

    def expect(self, *texts: str) -> None:
        """Each text, in this order (exact, not a pattern)."""
        for text in texts:
            self.child.expect_exact(text)

    def expect_number(self, label: str) -> int:
        """The number shown before the button `label` (`[4] Français`)."""
        self.child.expect(r"\[(\d+)\] " + re.escape(label) + r"(?=  |\r\n)")
        match = self.child.match
        assert isinstance(match, re.Match)
        return int(match.group(1))

    def say(self, line: str, *expected: str) -> None:
        self.child.sendline(line)
        self.expect(*expected)

    def wait_for_exit(self, within: float = LEAVE_WITHIN) -> int | None:
        """Wait for the end of output and of the process; its exit status (None: killed by a signal)."""
        try:
            self.child.expect(pexpect.EOF, timeout=within)
        except pexpect.TIMEOUT:
            tail = self.output[-300:]
            raise AssertionError(f"still running {within} s later; it printed: {tail!r}") from None
        self.child.close()
        return self.child.exitstatus


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    """Spawns terminals in `tmp_path` (`terminal(*args, **env)`); any still running is stopped after."""
    started: list[Terminal] = []

    def spawn(*args: str, **env: str) -> Terminal:
        console = Terminal(tmp_path, args, env)
        started.append(console)
        return console

    yield spawn
    for console in started:
        if console.child.isalive():
            console.child.terminate(force=True)


def _interrupt_from(tmp_path: Path, module_code: str) -> dict[str, str]:
    """Environment for a child whose `sitecustomize` (module_code) sends it SIGINT at some moment and
    touches the file INJECT_MARKER when it does."""
    folder = tmp_path / "inject"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(textwrap.dedent(module_code), encoding="utf-8")
    return {"PYTHONPATH": f"{folder}{os.pathsep}{ROOT}", "INJECT_MARKER": str(tmp_path / "interrupted")}


def _started(console: Terminal, greeting: str, menu: str) -> None:
    console.expect(USAGE, greeting, menu)


def test_start_usage_help_peers_mydata_on_the_demo_network_and_ctrl_c_at_the_prompt(terminal: Spawn) -> None:
    console = terminal()
    console.expect(USAGE)
    for part in ("Type a message and press Enter", "A number presses a button of the last reply",
                 "/quit", "Ctrl-D", "Ctrl-C"):  # fmt: skip
        assert part in USAGE
    console.expect("(on the demo network; the log is in", "Welcome, Demo Focal Point!", DEMO_MENU)
    assert (console.data / "demo" / "demo.sqlite3").is_file()
    assert not (console.data / "bot.sqlite3").exists()  # the demo network, not the default database

    console.say("/help", "Here is what I can do:", "/peers - ", TERMINAL_HELP)
    console.say("/peers", "focal points in the directory", "Amina Yusuf, Head of social cohesion",
                "Mombasa County, Kenya")  # fmt: skip

    console.child.sendline("/mydata")
    console.expect("Here is everything I store about you. Send /forget to erase it.")
    console.child.expect(r"\(file saved: (.+?my-data\.json), (\d+) bytes\)")
    match = console.child.match
    assert isinstance(match, re.Match)
    path, size = Path(match.group(1)), int(match.group(2))
    assert path.parent == console.data / "exports"
    assert path.is_file() and path.stat().st_size == size
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["profile"]["name"] == "Demo Focal Point"
    assert data["profile"]["city"] and "Cape Town" in json.dumps(data["profile"]["city"])
    assert {"platform": "console", "id": "demo"} in data["accounts"]

    time.sleep(0.3)  # settled at the prompt, waiting for a line
    console.child.sendintr()
    assert console.wait_for_exit() == 0
    assert "Traceback" not in console.output
    assert console.output.endswith("\n")  # the shell's prompt comes on a fresh line
    # Messages to the other demo people are one line each, never their whole text.
    others = [line for line in console.output.splitlines() if "[to amina]" in line]
    assert others and all(line.startswith("bot> [to amina] ") for line in others)


def test_numbers_press_the_latest_buttons_only_until_something_else_comes_in(terminal: Spawn) -> None:
    """A guest (no event invitation arrives for them and takes the numbers over)."""
    console = terminal("--name", "lena")
    _started(console, "Welcome, lena!", GUEST_MENU)

    console.say("3", "Your language is English. Choose another:")  # /start's menu: [3] Language
    french = console.expect_number("Français")

    # Another message came in (help, no buttons): the language numbers are stale.
    console.say("/help", "You can also simply write your question.", TERMINAL_HELP)
    console.say(str(french), EXPIRED)

    # A number beyond the latest buttons is text: here, answers in the application form.
    console.say("/apply", "Name of your city or local authority")
    console.say("Sousse", "In any language, for example: Kenya")
    console.say("Tunisia", "What kind of authority is it?")
    cancel = console.expect_number("Cancel")
    console.say(str(cancel + 1), "I could not find that among the options. Please try again.")
    console.say("City or town", "Approximate population", "[1] Cancel")
    console.say("12", "Your name")  # 12 > 1 button: the population, not a press
    console.say("/cancel", "Stopped. Nothing was changed.")

    # Still English (the stale press changed nothing); a fresh press switches to French.
    console.say("/language", "Your language is English. Choose another:")
    french = console.expect_number("Français")
    console.say(str(french), "Désormais, je vous écrirai dans cette langue.")

    # Stale again, now answered in French.
    console.say("/language", "Choisissez-en une autre")
    french = console.expect_number("Français")
    console.say("/help", "Vous pouvez aussi simplement écrire votre question.")
    console.say(str(french), EXPIRED_FR)
    assert EXPIRED_FR in console.output and console.output.count("Désormais, je vous écrirai") == 1

    console.child.sendeof()  # Ctrl-D
    assert console.wait_for_exit() == 0
    assert "Traceback" not in console.output


def test_bidi_isolates_are_left_out_by_default_and_quit_leaves(terminal: Spawn) -> None:
    console = terminal("--name", "omar", "--lang", "ar")
    _started(console, "أهلاً وسهلاً، omar!", "[1] ")  # "Welcome, {name}!": the name is isolated
    console.say("/language", "العربية. اختر لغة أخرى:")  # "Your language is {language}."
    console.expect_number("Français")
    console.say("/quit")
    assert console.wait_for_exit() == 0
    assert not set(console.output) & set(ISOLATES), "isolate marks printed without --rtl"
    assert "Traceback" not in console.output


def test_rtl_keeps_bidi_isolates_and_ctrl_c_while_working_leaves(terminal: Spawn) -> None:
    console = terminal("--rtl", "--name", "omar", "--lang", "ar")
    _started(console, "أهلاً وسهلاً، \u2068omar\u2069!", "[1] ")
    console.say("/language", "\u2068العربية\u2069. اختر لغة أخرى:")

    console.child.sendline("ما هي شبكة المدن القوية؟")  # a question: the bot is at work on it
    console.child.sendintr()
    assert console.wait_for_exit() == 0  # within LEAVE_WITHIN seconds
    assert "Traceback" not in console.output
    assert console.output.endswith("\n")


def test_a_configured_database_is_never_seeded(terminal: Spawn, tmp_path: Path) -> None:
    own = tmp_path / "own.sqlite3"
    console = terminal(BOT_DATABASE_URL=f"sqlite+aiosqlite:///{own}")
    console.expect(USAGE, f"(on {own};", "Welcome, demo!", GUEST_MENU)  # a fresh guest
    console.say("/peers", "That is for the verified focal points of member cities.")
    console.say("/quit")
    assert console.wait_for_exit() == 0
    assert own.is_file()
    assert not (tmp_path / "data" / "demo").exists()
    assert "Amina Yusuf" not in console.output and "[to amina]" not in console.output
    assert "Traceback" not in console.output


SIGINT_IN_SEED = """
    import os, signal
    from bot.domain import demo

    _seed = demo.seed

    async def _interrupted_seed(*args, **kwargs):
        open(os.environ["INJECT_MARKER"], "w").close()
        os.kill(os.getpid(), signal.SIGINT)
        return await _seed(*args, **kwargs)

    demo.seed = _interrupted_seed
"""


def test_ctrl_c_while_the_demo_is_seeding_leaves_and_keeps_no_half_network(
    terminal: Spawn, tmp_path: Path
) -> None:
    console = terminal(**_interrupt_from(tmp_path, SIGINT_IN_SEED))
    assert console.wait_for_exit(within=TIMEOUT) == 0  # the start-up, then the interrupt
    assert (tmp_path / "interrupted").exists()
    assert "Traceback" not in console.output and "Exception" not in console.output
    assert USAGE not in console.output  # it left during the start-up
    assert console.output.endswith("\n")
    # Migrated, and the seeding rolled back as a whole: the next start seeds it afresh.
    with closing(sqlite3.connect(tmp_path / "data" / "demo" / "demo.sqlite3")) as database:
        assert database.execute("SELECT version_num FROM alembic_version").fetchall()
        assert database.execute("SELECT count(*) FROM person").fetchone() == (0,)


SIGINT_IN_MIGRATION = """
    import os, signal
    from alembic.operations import batch
    from sqlalchemy.sql.dml import Insert

    _create = batch.ApplyBatchImpl._create

    def _interrupted_create(self, op_impl):
        original = op_impl._exec

        def _exec(construct, *args, **kwargs):
            if isinstance(construct, Insert) and not os.path.exists(os.environ["INJECT_MARKER"]):
                open(os.environ["INJECT_MARKER"], "w").close()
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while a table is copied
            return original(construct, *args, **kwargs)

        op_impl._exec = _exec
        try:
            return _create(self, op_impl)
        finally:
            del op_impl._exec

    batch.ApplyBatchImpl._create = _interrupted_create
"""


def test_ctrl_c_during_the_first_migration_leaves_quietly_and_the_next_start_works(
    terminal: Spawn, tmp_path: Path
) -> None:
    console = terminal(**_interrupt_from(tmp_path, SIGINT_IN_MIGRATION))
    if console.child.expect_exact([USAGE, pexpect.EOF, pexpect.TIMEOUT]) == 0:
        raise RuntimeError("the migration was not interrupted: the injection no longer fits Alembic")
    status = console.wait_for_exit()
    assert "Traceback" not in console.output, console.output[-600:]
    assert status == 0

    again = terminal()
    _started(again, "Welcome, Demo Focal Point!", DEMO_MENU)
    again.say("/quit")
    assert again.wait_for_exit() == 0


def test_ctrl_c_straight_after_launch_leaves_quietly(terminal: Spawn) -> None:
    console = terminal()
    time.sleep(0.3)
    console.child.sendintr()
    status = console.wait_for_exit()
    assert "Traceback" not in console.output, console.output[-400:]
    assert status == 0 and console.child.signalstatus is None


def test_the_prompt_comes_after_the_reply(terminal: Spawn, tmp_path: Path) -> None:
    console = terminal(BOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'own.sqlite3'}")
    _started(console, "Welcome, demo!", GUEST_MENU)
    console.say("/help", TERMINAL_HELP)
    time.sleep(0.5)
    console.say("/quit")
    assert console.wait_for_exit() == 0
    after_help = console.output.split("/help\n", 1)[1]
    assert after_help.startswith("bot> Here is what I can do:"), after_help[:80]
    assert after_help.split(TERMINAL_HELP, 1)[1].strip().startswith("you> ")
