"""The fault suite: `python -m evals --suite faults [--json]`, the same harness and output shape as the quick
suite, whose metrics are counts of trials and of failures. Each part is a module listed in PARTS with
`run(ctx: FaultContext) -> dict[str, int | float]`; it drives the real code paths (the bolt app over HTTP, the
store on SQLite and on PostgreSQL when reachable, real processes) and returns its counts. A part that
raises is reported as `fault_part_errors` (a failure count, ceiling 0), never silently skipped.
"""

from __future__ import annotations

import importlib
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARTS: tuple[str, ...] = ("evals.faults.cadence", "evals.faults.slack_faults", "evals.faults.llm_faults",
                          "evals.faults.roles", "evals.faults.import_fuzz", "evals.faults.recovery",
                          "evals.faults.crash")

#: Every metric the issue names; the suite fails when one is missing.
REQUIRED = ("crash_trials", "approvals_lost", "approvals_doubled", "cadence_histories", "cadence_violations",
            "forged_requests", "forged_accepted", "duplicate_posts", "llm_fault_cases", "llm_fault_crashes",
            "ungrounded_sent", "import_fuzz_cases", "partial_imports", "import_tracebacks", "role_leak_cases",
            "role_leaks")


@dataclass
class FaultContext:
    workdir: Path  # a fresh temp folder for this run
    database_urls: list[str]  # "sqlite:///..." files are made by the parts; PostgreSQL when reachable
    log: Callable[[str], None]
    seed: int = 20261201
    timings: dict[str, float] = field(default_factory=dict)

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{self.workdir / (name + '.sqlite3')}"


def postgres_url() -> str | None:
    """The PostgreSQL URL the store tests use, when the server answers (CI sets it; the default is local)."""
    url = os.environ.get("WARMINTRO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3).close()
    except Exception:
        return None
    return url


def run_faults(ctx: FaultContext, parts: tuple[str, ...] | None = None) -> dict[str, Any]:
    metrics: dict[str, Any] = {"fault_part_errors": 0}
    errors: dict[str, str] = {}
    for name in parts if parts is not None else PARTS:
        started = time.perf_counter()
        ctx.log(f"faults: {name}")
        try:
            metrics.update(importlib.import_module(name).run(ctx))
        except Exception as exc:
            metrics["fault_part_errors"] += 1
            errors[name] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            ctx.log(f"faults: {name} FAILED: {errors[name]}")
        ctx.timings[name.rsplit(".", 1)[-1]] = round(time.perf_counter() - started, 1)
    if errors:
        metrics["_part_errors"] = errors
    return metrics
