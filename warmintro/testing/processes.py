"""Child processes the harnesses start (the bot over HTTP, the crash-replay fault's worker)."""

from __future__ import annotations

import subprocess
from typing import Any


def stop_process(proc: subprocess.Popen[Any], *, timeout: float = 15) -> None:
    """SIGTERM, wait up to `timeout` seconds for a clean exit, then SIGKILL; always reaps the process."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
