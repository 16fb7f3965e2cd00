"""The benchmark workspace: a generated contract folder imported through the real importer.

The folder is generated once per size and seed (reused while its marker matches); the store is rebuilt
whenever the `import` figure runs, else reused when a previous run left one.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.sizes import Size
from benchmarks.util import log, peak_memory

AS_OF = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SEED = 7


@dataclass
class Workspace:
    size: Size
    dir: Path
    folder: Path
    store: Any  # warmintro.store.db.Store
    truth: dict[str, Any]
    as_of: datetime = AS_OF
    generate_seconds: float | None = None
    import_seconds: float | None = None
    import_peak_mb: float | None = None
    import_cpu_seconds: float | None = None  # this process's CPU time (all threads): robust to a shared machine
    imported: dict[str, int] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # shared between figures (graph, index, ...)
    database_url: str | None = None  # PostgreSQL, when the run measures it (--database-url); else SQLite under dir

    def close(self) -> None:
        self.store.close()


def _marker(size: Size) -> dict[str, Any]:
    return {"generator": size.generator, "seed": SEED, "as_of": AS_OF.isoformat(), "version": 1}


def _empty_postgres(url: str) -> None:
    """The benchmark's PostgreSQL schema (the URL's current schema: `public`, or the search_path it sets)
    dropped and made again, so the import starts clean."""
    from sqlalchemy import text

    from warmintro.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()


def prepare(size: Size, work: Path, *, fresh_import: bool, database_url: str | None = None) -> Workspace:
    """The size's workspace, imported into SQLite under `work` or, with `database_url` (PostgreSQL), into that
    database, emptied first and imported fresh every run (figures then measure that store)."""
    from warmintro.importer.run import import_folder
    from warmintro.store.db import Store

    work = Path(work) / f"work-{size.name}"
    folder = work / "folder"
    marker_path = work / "folder.json"
    marker = _marker(size)
    gen_s = None
    if not (marker_path.is_file() and json.loads(marker_path.read_text()) == marker and (folder / "ground_truth.json").is_file()):
        from warmintro.demo.generator import generate_workspace

        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        log(f"generating the {size.name} workspace: {size.generator}")
        t0 = time.perf_counter()
        generate_workspace(folder, seed=SEED, as_of=AS_OF, **size.generator)
        gen_s = time.perf_counter() - t0
        marker_path.write_text(json.dumps(marker))
        log(f"generated in {gen_s:.1f} s")
        fresh_import = True
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    db = work / "store.sqlite3"
    done = work / "store.json"
    if database_url or fresh_import or not done.is_file() or not db.is_file():
        shutil.rmtree(work / "chroma", ignore_errors=True)  # its vectors belong to the store replaced here
        if database_url:
            _empty_postgres(database_url)
        else:
            for p in work.glob("store.sqlite3*"):
                p.unlink()
            done.unlink(missing_ok=True)
        store = Store.open(database_url or f"sqlite:///{db}")
        log(f"importing into {store.engine.url.render_as_string(hide_password=True)} through "
            "warmintro.importer.run.import_folder")
        with peak_memory() as mem:
            t0, c0 = time.perf_counter(), time.process_time()
            result = import_folder(store, folder)
            imp_s, imp_cpu = time.perf_counter() - t0, time.process_time() - c0
        log(f"imported in {imp_s:.1f} s: {result.imported}")
        if not database_url:  # a PostgreSQL store is imported afresh every run, never reused
            done.write_text(json.dumps({"imported": result.imported, "seconds": imp_s}))
        return Workspace(size, work, folder, store, truth, generate_seconds=gen_s, import_seconds=imp_s,
                         import_peak_mb=mem["peak_rss_mb"], imported=dict(result.imported), import_cpu_seconds=imp_cpu,
                         database_url=database_url)
    log(f"reusing the imported store {db}")
    store = Store.open(f"sqlite:///{db}")
    info = json.loads(done.read_text())
    return Workspace(size, work, folder, store, truth, imported=info["imported"])
