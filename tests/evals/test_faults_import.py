"""A small slice of the fault suite's bad-input and recovery parts (evals/faults/import_fuzz.py, recovery.py), so a
regression shows up in the unit tests and not only in `python -m evals --suite faults`. The full counts are the
suite's; here a few dozen fuzzed folders, one CLI run, a few kills and a few dozen fuzzed requests, on SQLite
(and PostgreSQL when WARMINTRO_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evals.faults import import_fuzz, recovery  # noqa: E402

pytestmark = pytest.mark.store


@pytest.fixture(params=[
    "sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
        not os.environ.get("WARMINTRO_TEST_DATABASE_URL"), reason="WARMINTRO_TEST_DATABASE_URL not set"))])
def server_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database the parts make their own stores in (a SQLite file per store, a schema per store)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    return os.environ["WARMINTRO_TEST_DATABASE_URL"]


def test_fuzzed_folders_are_rejected_cleanly_and_change_nothing(server_url, tmp_path):
    counts = import_fuzz.Counts()
    with import_fuzz.isolated_url(server_url, tmp_path, "t") as url:
        import_fuzz.fuzz_imports(url, tmp_path, lambda _m: None, seed=7, cases=12, cli_cases=1, counts=counts)
    assert counts.cases == 12 and counts.cli == 1
    assert counts.rejected > 0
    assert (counts.partial, counts.tracebacks, counts.unlocated) == (0, 0, 0), counts.examples


def test_every_mutation_kind_is_reachable():
    base = import_fuzz.Folder.read(import_fuzz.FIXTURE)
    kinds = set()
    for i in range(400):
        folder = base.copy()
        import_fuzz.mutate(folder, random.Random(i), "x")
        kinds.add(folder.notes[0].split(":")[0])
    assert {"truncate", "latin1", "utf16", "nul", "giant", "dup_header", "drop_required", "formula",
            "program", "emails", "garbage"} <= kinds


def test_killed_imports_leave_the_store_before_or_after(server_url, tmp_path):
    from warmintro.demo.generator import generate_workspace

    big, baseline = tmp_path / "big", tmp_path / "baseline"
    generate_workspace(big, accounts=30, seed=3)
    generate_workspace(baseline, accounts=30, seed=4, people=100, ties=100, emails=10)
    with import_fuzz.isolated_url(server_url, tmp_path, "k") as url:
        out = recovery.kill_trials(url, tmp_path, big, baseline, 1, random.Random(1), lambda _m: None)
        if url.startswith("sqlite"):  # the doctor's own tests cover PostgreSQL URLs
            checks, failed, output = recovery.run_doctor(url, tmp_path)
            assert checks >= 5 and failed == 0, output
    assert out["corrupt_stores"] == 0
    assert out["kill_import_trials"] + out["kill_import_after"] == 1


def test_fuzzed_hook_bodies_never_get_a_server_error(server_url, tmp_path):
    with import_fuzz.isolated_url(server_url, tmp_path, "h") as url:
        sent, bad, examples = import_fuzz.fuzz_requests(url, tmp_path, lambda _m: None, 5, 30, only="hooks")
    assert sent == 30 and bad == 0, examples


def test_fuzzed_slack_payloads_never_get_a_server_error(server_url, tmp_path):
    with import_fuzz.isolated_url(server_url, tmp_path, "s") as url:
        sent, bad, examples = import_fuzz.fuzz_requests(url, tmp_path, lambda _m: None, 5, 30, only="slack")
    assert sent == 30 and bad == 0, examples
