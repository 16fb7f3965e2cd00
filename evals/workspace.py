"""The eval workspace: the demo generator's folder (planted ground truth included), imported into a store in a
temporary WARMINTRO_HOME, once per run; plus a "hostile" copy with the prompt-injection plants of
evals/tasks/fixture.json applied before import.

    ws = build(fixture)            # Workspace(clean=..., hostile=..., truth=..., folder=...)
    ws.close()

Nothing is downloaded: the generator is deterministic and offline.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from warmintro.demo.model import GroundTruth
from warmintro.store.db import Store

TASKS_DIR = Path(__file__).resolve().parent / "tasks"
FIXTURE = TASKS_DIR / "fixture.json"


def load_fixture(path: Path = FIXTURE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def demo_kwargs(fixture: dict[str, Any]) -> dict[str, Any]:
    demo = dict(fixture["demo"])
    demo["as_of"] = datetime.fromisoformat(demo["as_of"].replace("Z", "+00:00"))
    return demo


def generate(folder: Path, fixture: dict[str, Any]) -> GroundTruth:
    from warmintro.demo.generator import generate_workspace

    return generate_workspace(folder, **demo_kwargs(fixture))


# ---------------------------------------------------------------------------------------------------
# Plants: edits to the contract folder, as data ({"file", "match": {col: value}, "set"/"append": {col: text}})


def _edit_csv(path: Path, plants: list[dict[str, Any]]) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    hits = 0
    for p in plants:
        matched = False
        for row in rows:
            if all((row.get(k) or "").lower() == str(v).lower() for k, v in p["match"].items()):
                for col, val in p.get("set", {}).items():
                    row[col] = val
                for col, val in p.get("append", {}).items():
                    row[col] = f"{row.get(col) or ''} {val}".strip()
                matched = True
                if not p.get("all", False):
                    break
        if not matched:
            raise ValueError(f"plant matched no row in {path.name}: {p['match']}")
        hits += 1
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return hits


def _edit_emails(path: Path, plants: list[dict[str, Any]]) -> int:
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    hits = 0
    for p in plants:
        for row in lines:
            ok = True
            for k, v in p["match"].items():
                have = row.get(k)
                if isinstance(have, list):
                    ok = ok and str(v).lower() in [str(x).lower() for x in have]
                else:
                    ok = ok and str(have or "").lower() == str(v).lower()
            if ok:
                for col, val in p.get("set", {}).items():
                    row[col] = val
                for col, val in p.get("append", {}).items():
                    row[col] = f"{row.get(col) or ''}\n\n{val}".strip()
                hits += 1
                break
        else:
            raise ValueError(f"plant matched no email: {p['match']}")
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    return hits


def apply_plants(folder: Path, plants: list[dict[str, Any]]) -> int:
    by_file: dict[str, list[dict[str, Any]]] = {}
    for p in plants:
        by_file.setdefault(p["file"], []).append(p)
    n = 0
    for name, ps in by_file.items():
        path = folder / name
        n += _edit_emails(path, ps) if name.endswith(".jsonl") else _edit_csv(path, ps)
    return n


# ---------------------------------------------------------------------------------------------------


@dataclass
class Workspace:
    root: Path
    folder: Path
    truth: GroundTruth
    clean: Store
    hostile: Store | None
    home: Path
    timings: dict[str, float] = field(default_factory=dict)
    _old_home: str | None = None

    @property
    def as_of(self) -> datetime:
        return self.truth.as_of_datetime

    def store(self, name: str) -> Store:
        if name == "hostile":
            if self.hostile is None:
                raise ValueError("this workspace was built without the hostile copy")
            return self.hostile
        return self.clean

    def close(self) -> None:
        self.clean.close()
        if self.hostile is not None:
            self.hostile.close()
        if self._old_home is None:
            os.environ.pop("WARMINTRO_HOME", None)
        else:
            os.environ["WARMINTRO_HOME"] = self._old_home
        shutil.rmtree(self.root, ignore_errors=True)


def build(fixture: dict[str, Any] | None = None, *, hostile: bool = True) -> Workspace:
    """Generate the demo folder, import it (and a planted copy) into fresh SQLite stores in a temp home."""
    import time

    from warmintro.testing.workspace import imported_sqlite_store

    fixture = fixture or load_fixture()
    root = Path(tempfile.mkdtemp(prefix="warmintro-evals-"))
    home = root / "home"
    home.mkdir()
    old = os.environ.get("WARMINTRO_HOME")
    os.environ["WARMINTRO_HOME"] = str(home)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    folder = root / "workspace"
    truth = generate(folder, fixture)
    timings["generate"] = time.perf_counter() - t
    t = time.perf_counter()
    clean = imported_sqlite_store(root / "clean.sqlite3", folder)
    timings["import_clean"] = time.perf_counter() - t
    hostile_store: Store | None = None
    if hostile and fixture.get("plants"):
        t = time.perf_counter()
        planted = root / "hostile"
        shutil.copytree(folder, planted)
        apply_plants(planted, fixture["plants"])
        hostile_store = imported_sqlite_store(root / "hostile.sqlite3", planted)
        timings["import_hostile"] = time.perf_counter() - t
    return Workspace(root, folder, truth, clean, hostile_store, home, timings, old)


def read_csv(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
