"""The CLI's progress display: shown to a person at a terminal (a real pseudo-terminal here), never under
--json or when the output is piped."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parents[1] / "fixtures" / "northwind"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARMINTRO_", "OPENAI_", "SLACK_"))}
    env.update({"WARMINTRO_HOME": str(home), "COLUMNS": "100", "TERM": "xterm"})
    return env


def on_terminal(args: list[str], home: Path) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal; (exit code, everything it wrote)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "warmintro", *args], stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=slave, env=_env(home), close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:  # keep reading so a chatty display never blocks the child on a full pty buffer
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    code = proc.wait(timeout=300)
    reader.join(timeout=30)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("progress-home")
    code, shown = on_terminal(["import", str(FIXTURE)], home)
    assert code == 0, shown
    return home, shown


def test_import_on_a_terminal_shows_each_file(home):
    _, shown = home
    assert "Importing" in shown and "accounts.csv" in shown and "rows" in shown
    assert "Imported" in shown  # the result table follows the display


def test_scan_on_a_terminal_shows_its_step_then_the_queue(home):
    code, shown = on_terminal(["scan", "--as-of", "2026-11-25T09:00:00Z"], home[0])
    assert code == 0, shown
    assert "Scanning signals" in shown
    assert "priya.natarajan@northwind.example" in shown or "Priya" in shown


def test_json_on_a_terminal_is_quiet(home):
    code, shown = on_terminal(["scan", "--as-of", "2026-11-25T09:00:00Z", "--json"], home[0])
    assert code == 0 and "Scanning" not in shown
    assert json.loads(shown)["asks"]  # nothing but the JSON


def test_a_pipe_is_quiet(home, monkeypatch: pytest.MonkeyPatch):
    """Output that is not a terminal (here: the CLI in this process writing into buffers, as into a pipe,
    without starting a process per command) gets the answer alone."""
    from warmintro import cli as cli_module
    from warmintro.commands import common

    monkeypatch.setenv("WARMINTRO_HOME", str(home[0]))
    for key in [k for k in os.environ if k.startswith(("WARMINTRO_", "OPENAI_", "SLACK_")) and k != "WARMINTRO_HOME"]:
        monkeypatch.delenv(key)
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "_file", None)  # the console writes to whatever sys.stdout/stderr is

    def piped(*args: str) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_module.main(list(args))
        return code, out.getvalue() + err.getvalue()

    code, shown = piped("report", "--as-of", "2026-11-25T09:00:00Z")
    assert code == 0 and "Referral program" in shown
    assert "Computing" not in shown
    code, shown = piped("scan", "--as-of", "2026-11-25T09:00:00Z")
    assert code == 0 and "Scanning" not in shown
