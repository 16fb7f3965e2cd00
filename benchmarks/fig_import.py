"""`import`: rows/s through the real importer, beside the csv module and polars reading the same files."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from benchmarks.workspace import Workspace

CSV_FILES = ("accounts.csv", "contacts.csv", "signals.csv", "usage.csv", "meetings.csv", "people.csv",
             "employment.csv", "relationships.csv", "team.csv", "opportunities.csv", "asks.csv", "partners.csv")


def run(ws: Workspace) -> dict[str, Any]:
    if ws.import_seconds is None:
        raise RuntimeError("the store was reused: the import figure needs a fresh import")
    rows = sum(v for k, v in ws.imported.items() if k != "program")
    ours = rows / ws.import_seconds
    files = [ws.folder / f for f in CSV_FILES if (ws.folder / f).is_file()]
    # Baseline: the csv module only parsing the same files (no validation, no writes): an upper bound
    # for any row-at-a-time Python importer.
    t0, c0 = time.perf_counter(), time.process_time()
    csv_rows = 0
    usage_s = usage_cpu = 0.0
    for path in files:
        n, wall, cpu = _csv_module_parse(path)
        csv_rows += n
        if path.name == "usage.csv":
            usage_s, usage_cpu = wall, cpu
    csv_s, csv_cpu = time.perf_counter() - t0, time.process_time() - c0
    # Columnar reference: polars reading the same files into memory, and what any validating importer
    # spends at least beyond that (see _floor).
    pl_rows, pl_s, floor = _floor(files)
    csv_rate = csv_rows / csv_s
    import_cpu = getattr(ws, "import_cpu_seconds", None)
    return {
        "value": ours, "unit": "rows/s", "baseline_value": csv_rate,
        "baseline_name": "csv module parsing the same CSV files (no validation, no writes)",
        "ratio": ours / csv_rate, "ratio_meaning": "ours / baseline rows/s",
        "n": rows, "import_seconds": ws.import_seconds, "generate_seconds": ws.generate_seconds,
        "rows": {k: v for k, v in ws.imported.items() if k != "program"},
        "reference": {"polars_read_csv_rows_per_s": pl_rows / pl_s, "csv_module_rows_per_s": csv_rate,
                      "quoted": "brief: polars 2M rows/s vs csv module 0.4M rows/s on this machine"},
        "peak_rss_mb_import": ws.import_peak_mb,
        # CPU seconds (this process, all threads) beside wall time: on a shared machine the wall clock
        # measures the neighbours as much as the code.
        "cpu": {"import_cpu_s": import_cpu, "csv_parse_cpu_s": csv_cpu,
                "ratio": (csv_cpu / csv_rows) / (import_cpu / rows) if import_cpu and csv_rows else None},
        # The bar: the whole folder imported at least as fast as the csv module parses usage.csv alone.
        "usage_csv_parse_s": usage_s, "usage_csv_parse_cpu_s": usage_cpu,
        "whole_import_over_usage_parse": ws.import_seconds / usage_s if usage_s else None,
        "whole_import_over_usage_parse_cpu": import_cpu / usage_cpu if usage_cpu and import_cpu else None,
        # The columnar limit of that bar: polars only reading the folder's CSV files (no validation, no
        # writes) against the same usage.csv parse. Above 1, no importer that reads the files can meet it.
        "polars_read_folder_s": pl_s,
        "polars_read_folder_over_usage_parse": pl_s / usage_s if usage_s else None,
        # Lower bounds of the same bar (see _floor): reading plus the email and date checks plus the usage
        # rollup, with no writes; then adding the bare SQLite append of the rows a row store keeps.
        "floor": floor,
        "checked_read_floor_over_usage_parse": floor["checked_read_s"] / usage_s if usage_s else None,
        "row_store_floor_over_usage_parse": (floor["checked_read_s"] + floor["sqlite_append_s"]) / usage_s
        if usage_s else None,
        "store_mb": _store_mb(ws),
        "database": "postgresql" if ws.database_url else "sqlite",
    }


APPEND_SAMPLE = 1_000_000


def _floor(files: list[Path]) -> tuple[int, float, dict[str, Any]]:
    """(rows, seconds) of polars only reading `files`, and the floors of the whole-folder import bar.

    `checked_read_s`: the read, plus only the cheapest form of the checks the contract asks of every row
    (one pattern test per email column, the importer's own date parse per date column) and the importer's
    own usage rollup: no other column checks, no duplicate or reference checks, no writes. No importer that
    validates and rolls up can take less. `sqlite_append_s`: the rows a row store keeps (usage as its
    rollup), at the rate of the bare SQLite append: `executemany` of the frame's rows into a table with
    no key and no index, in a scratch file, timed on a sample of the usage rollup."""
    import polars as pl

    from warmintro.importer.run import ROW, _sum_days
    from warmintro.importer.schema import FILES
    from warmintro.importer.validate import EMAIL_RE, parse_datetimes

    read_s = check_s = 0.0
    rows = kept = 0
    sample: pl.DataFrame | None = None
    for path in files:
        t0 = time.perf_counter()
        frame = pl.read_csv(path, infer_schema=False)
        t1 = time.perf_counter()
        read_s += t1 - t0
        rows += frame.height
        spec = FILES[path.name]
        emails = [c.name for c in spec.columns if c.kind == "email" and c.name in frame.columns]
        dates = {c.name: parse_datetimes(frame[c.name]) for c in spec.columns
                 if c.kind == "datetime" and c.name in frame.columns}
        if emails:
            frame.select(pl.col(c).str.contains(EMAIL_RE).all() for c in emails)
        if spec.rollup:
            at_day = frame.select("account_id", "contact_email", "event", dates["occurred_at"].dt.date().alias("day"),
                                  pl.col("count").cast(pl.Int64), pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW))
            rolled = _sum_days(at_day)
            kept += rolled.height
            sample = rolled.head(APPEND_SAMPLE).drop(ROW).with_columns(pl.col("day").cast(pl.String))
        else:
            kept += frame.height
        check_s += time.perf_counter() - t1
    append_rate = _sqlite_append_rate(sample) if sample is not None and sample.height else None
    return rows, read_s, {
        "read_s": read_s, "checks_and_rollup_s": check_s, "checked_read_s": read_s + check_s,
        "rows_kept": kept, "sqlite_append_rows_per_s": append_rate,
        "sqlite_append_s": kept / append_rate if append_rate else 0.0,
    }


def _sqlite_append_rate(sample: Any) -> float:
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        conn = sqlite3.connect(Path(scratch) / "append.sqlite3", isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"CREATE TABLE t ({', '.join(f'c{i}' for i in range(sample.width))})")
            marks = ", ".join("?" for _ in range(sample.width))
            t0 = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO t VALUES ({marks})", sample.iter_rows())
            conn.execute("COMMIT")
            return sample.height / (time.perf_counter() - t0)
        finally:
            conn.close()


def _csv_module_parse(path: Path) -> tuple[int, float, float]:
    """(data records, wall s, CPU s) of the csv module only parsing `path`: the baseline of both figures."""
    t0, c0 = time.perf_counter(), time.process_time()
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        rows = sum(1 for _ in reader)
    return rows, time.perf_counter() - t0, time.process_time() - c0


def _store_mb(ws: Workspace) -> float:
    if ws.database_url:
        from sqlalchemy import text

        with ws.store.engine.connect() as conn:
            return round(int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()) / 2**20, 1)
    return round(sum(p.stat().st_size for p in ws.dir.glob("store.sqlite3*")) / 2**20, 1)


USAGE_FOLDER_FILES = ("program.toml", "accounts.csv", "contacts.csv", "usage.csv")


def run_usage(ws: Workspace) -> dict[str, Any]:
    """`import_usage`: the issue's usage bar on its own (10M usage rows for 50,000 contacts at L): a folder of
    the workspace's accounts, contacts, program and usage.csv, imported into a new store (SQLite beside the
    workspace's, or a new schema of the --database-url database), against the csv module parsing that
    usage.csv in the same run."""
    import shutil
    from contextlib import ExitStack

    from warmintro.importer.run import import_folder
    from warmintro.store.db import Store
    from warmintro.testing.databases import postgres_schema

    scratch = ws.dir / "usage-only"
    shutil.rmtree(scratch, ignore_errors=True)
    folder = scratch / "folder"
    folder.mkdir(parents=True)
    for name in USAGE_FOLDER_FILES:
        (folder / name).symlink_to((ws.folder / name).resolve())
    usage_rows, parse_s, parse_cpu = _csv_module_parse(folder / "usage.csv")
    with ExitStack() as stack:
        url = (stack.enter_context(postgres_schema(ws.database_url, "bench_usage")) if ws.database_url
               else f"sqlite:///{scratch / 'store.sqlite3'}")
        stack.callback(shutil.rmtree, scratch, True)
        store = Store.open(url)
        stack.callback(store.close)  # closed first, then the folder and the schema go
        t0, c0 = time.perf_counter(), time.process_time()
        result = import_folder(store, folder)
        import_s, import_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "value": import_s, "unit": "s", "baseline_value": parse_s,
        "baseline_name": "csv module parsing usage.csv alone (no validation, no writes)",
        "ratio": parse_s / import_s, "ratio_meaning": "baseline / ours seconds (the issue's bar: >= 1)",
        "n": usage_rows, "rows": dict(result.imported), "rolled_up": dict(result.rolled_up),
        "cpu": {"import_cpu_s": import_cpu, "csv_parse_cpu_s": parse_cpu},
        "database": "postgresql" if ws.database_url else "sqlite",
    }
