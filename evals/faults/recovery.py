"""Recovery: the store survives a kill mid-import, and `warmintro doctor` says what state a deployment is in.

A sizeable demo folder (warmintro/demo/generator.py) is imported by the real CLI (`python -m warmintro import DIR`,
a subprocess) into a store that already holds an earlier, smaller import; the process is SIGKILLed at a random
moment of the import (parsing, validating or inside the one write transaction). After each kill the store must
open and migrate to head (SQLite: `PRAGMA integrity_check` ok), and hold either exactly what it held before the
import or exactly the fully imported folder (compared table by table, ignoring the import_runs/audit_log rows a
completed import adds), never a mix. On SQLite (WAL) and on PostgreSQL (one transaction) when reachable.

    kill_import_trials   SIGKILLs delivered while the import was still running
    kill_import_after    trials whose import had committed before the kill landed (store = fully imported)
    corrupt_stores       a store that did not open or migrate, failed its integrity check, or was neither
                         before nor after (must be 0)
    doctor_checks        checks `warmintro doctor --json` ran on the recovered store (offline: no Slack, no model)
    doctor_failures      of which failed (must be 0: a migrated, reachable store with nothing else configured)
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from evals.faults.import_fuzz import ROOT, backend, cli_env, isolated_url
from warmintro.store.db import Store, current_revision, head_revision

TRIALS_PER_DB = int(os.environ.get("WARMINTRO_FAULTS_KILL_TRIALS", "10"))
ACCOUNTS = int(os.environ.get("WARMINTRO_FAULTS_KILL_ACCOUNTS", "30"))
BOOKKEEPING = ("import_runs", "audit_log")


def _data(store: Store) -> dict[str, list[Any]]:
    """Every row of every table but the bookkeeping ones, without surrogate integer ids (PostgreSQL sequences
    do not rewind when the store is reset between trials, so the same rows get new ids)."""
    from sqlalchemy import Integer, select

    from warmintro.store.models import Base

    out: dict[str, list[Any]] = {}
    with store.engine.connect() as conn:
        for name, table in sorted(Base.metadata.tables.items()):
            if name in BOOKKEEPING:
                continue
            cols = [c for c in table.columns
                    if not (c.primary_key and isinstance(c.type, Integer) and c.autoincrement is True)]
            out[name] = sorted((tuple(r) for r in conn.execute(select(*cols)).all()), key=repr)
    return out


def _import_cmd(folder: Path) -> list[str]:
    return [sys.executable, "-m", "warmintro", "import", str(folder), "--json"]


def _reset(url: str, baseline: Path) -> None:
    """Back to the baseline: every table emptied, the baseline folder imported again."""
    from warmintro.importer.run import import_folder
    from warmintro.store.models import Base

    store = Store.open(url)
    try:
        with store.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        import_folder(store, baseline)
    finally:
        store.close()


def _check(url: str) -> tuple[bool, str, dict[str, list[Any]] | None]:
    """(ok, why not, dump): the store opens, migrates to head and (SQLite) passes its integrity check."""
    try:
        store = Store.open(url)
    except Exception as exc:
        return False, f"does not open: {exc}", None
    try:
        if current_revision(store.engine) != head_revision(store.engine):
            return False, "not at the head revision after migrate", None
        if store.dialect == "sqlite":
            with store.engine.connect() as conn:
                result = conn.execute(text("PRAGMA integrity_check")).scalar()
            if result != "ok":
                return False, f"integrity_check: {result}", None
        return True, "", _data(store)
    finally:
        store.close()


def kill_trials(url: str, workdir: Path, big: Path, baseline: Path, trials: int, rnd: random.Random,
                log: Any) -> dict[str, int]:
    from warmintro.importer.run import import_folder

    home = workdir / "home-recovery"
    out = {"kill_import_trials": 0, "kill_import_after": 0, "corrupt_stores": 0}
    # The reference states: before (baseline only) and after (baseline, then the big folder).
    store = Store.open(url)
    try:
        import_folder(store, baseline)
        before = _data(store)
    finally:
        store.close()
    started = time.perf_counter()
    done = subprocess.run(_import_cmd(big), cwd=str(ROOT), env=cli_env(url, home), capture_output=True, text=True,
                          timeout=600)
    duration = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"reference import failed: {done.stderr[-500:]}")
    ok, why, full = _check(url)
    if not ok or full is None:
        raise RuntimeError(f"reference store: {why}")
    after = full
    _reset(url, baseline)
    log(f"recovery: {backend(url)} import of {big.name} takes {duration:.1f}s; {trials} kills")
    for i in range(trials):
        delay = rnd.uniform(0.2, duration * 1.05)
        proc = subprocess.Popen(_import_cmd(big), cwd=str(ROOT), env=cli_env(url, home),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed = proc.returncode == -signal.SIGKILL
        if killed:
            out["kill_import_trials"] += 1
        ok, why, state = _check(url)
        if not ok or state is None:
            out["corrupt_stores"] += 1
            log(f"recovery: {backend(url)} trial {i} (kill at {delay:.2f}s): {why}")
            _reset(url, baseline)
            continue
        data = state
        if data == after:
            out["kill_import_after"] += 1
            _reset(url, baseline)
        elif data != before:
            out["corrupt_stores"] += 1
            changed = [k for k in data if data[k] != before.get(k)]
            log(f"recovery: {backend(url)} trial {i} (kill at {delay:.2f}s, exit {proc.returncode}): partial store, "
                f"tables differ: {changed}")
            _reset(url, baseline)
    return out


def run_doctor(url: str, workdir: Path) -> tuple[int, int, str]:
    """(checks, failed, output) of `warmintro doctor --json` on `url` with nothing else configured."""
    env = cli_env(url, workdir / "home-doctor")
    proc = subprocess.run([sys.executable, "-m", "warmintro", "doctor", "--json"], cwd=str(ROOT), env=env,
                          capture_output=True, text=True, timeout=120)
    try:
        checks = json.loads(proc.stdout)["checks"]
    except (ValueError, KeyError, TypeError):
        return 0, 1, proc.stdout[-300:] + proc.stderr[-300:]
    failed = sum(1 for c in checks if c.get("status") == "fail")
    return len(checks), failed, proc.stdout


def run(ctx: Any, *, trials_per_db: int | None = None, accounts: int | None = None) -> dict[str, int | float]:
    from warmintro.demo.generator import generate_workspace

    trials = TRIALS_PER_DB if trials_per_db is None else trials_per_db
    n = ACCOUNTS if accounts is None else accounts
    big = ctx.workdir / "recovery-big"
    baseline = ctx.workdir / "recovery-baseline"
    generate_workspace(big, accounts=n, seed=ctx.seed)
    generate_workspace(baseline, accounts=30, seed=ctx.seed + 1, people=200, ties=300, emails=40)
    rnd = random.Random(ctx.seed)
    totals: dict[str, int | float] = {"kill_import_trials": 0, "kill_import_after": 0, "corrupt_stores": 0, "doctor_checks": 0,
              "doctor_failures": 0}
    for url in ctx.database_urls:
        with isolated_url(url, ctx.workdir, "kill") as own:
            for k, v in kill_trials(own, ctx.workdir, big, baseline, trials, rnd, ctx.log).items():
                totals[k] += v
            checks, failed, output = run_doctor(own, ctx.workdir)
            totals["doctor_checks"] += checks
            totals["doctor_failures"] += failed
            if failed:
                ctx.log(f"recovery: doctor on {backend(url)}: {output[-600:]}")
    ctx.log(f"recovery: {totals}")
    return totals
