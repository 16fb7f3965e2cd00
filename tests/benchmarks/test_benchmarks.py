"""The benchmark harness works: a micro workspace (size XS), two figures, every key present.

No timed assertions: the benchmarks report speeds, they never gate CI on them. Only the structure and
that each ratio is a finite number are checked.
"""

from __future__ import annotations

import json
import math
import os

import pytest

from benchmarks.cli import FIGURES, main
from warmintro.testing.databases import postgres_schema


def test_the_harness_produces_every_key(tmp_path, capsys):
    out = tmp_path / "results"
    code = main(["--size", "XS", "--only", "import_usage", "scan", "who_knows", "--json", "--out", str(out),
                 "--work", str(tmp_path / "work")])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == json.loads((out / "bench-XS.json").read_text())
    assert (out / "bench-XS.md").read_text().startswith("### Benchmarks, size XS")
    assert doc["size"] == "XS"
    assert {"cpu", "cores", "memory_gb", "python", "sqlite"} <= set(doc["machine"])
    assert set(doc["figures"]) == {"import_usage", "scan", "who_knows"}
    for name, fig in doc["figures"].items():
        assert "error" not in fig, fig
        for key in ("value", "unit", "baseline", "baseline_value", "baseline_name", "ratio", "n", "size",
                    "peak_rss_mb"):
            assert key in fig, (name, key)
        assert math.isfinite(fig["value"]) and math.isfinite(fig["ratio"]) and fig["ratio"] > 0
    assert [r["name"] for r in doc["results"]] == ["import_usage", "scan", "who_knows"]
    assert all(set(r) == {"name", "value", "unit", "baseline_value", "ratio", "n", "size"} for r in doc["results"])
    # the naive loop decided exactly what the scan did for every contact it saw
    assert doc["figures"]["scan"]["naive"]["agreement"] == 1.0
    # classifying the notes, reading their stored sentiment in a fresh process, and a warm scan decide alike
    assert doc["figures"]["scan"]["same_decisions"] is True and doc["figures"]["scan"]["notes_stored"] > 0
    assert 0 <= doc["figures"]["who_knows"]["same_paths"] <= 1
    # the usage-only import read the workspace's usage.csv whole, and left no scratch store behind
    usage = doc["figures"]["import_usage"]
    assert usage["rows"]["usage"] == usage["n"] > 0 and usage["rolled_up"]["usage_daily"] > 0
    assert not (tmp_path / "work" / "work-XS" / "usage-only").exists()


def test_every_figure_name_is_registered():
    assert FIGURES == ("import", "import_usage", "scan", "targets", "who_knows", "embed", "retrieval", "draft_tokens", "slack_ack",
                       "cold_home", "cold_hook", "cold_scan", "slack_load")


def test_the_store_figures_run_on_postgresql(tmp_path, capsys):
    base = os.environ.get("WARMINTRO_TEST_DATABASE_URL")
    if not base:
        pytest.skip("WARMINTRO_TEST_DATABASE_URL is not set")
    with postgres_schema(base, "bench") as url:
        code = main(["--size", "XS", "--only", "import", "import_usage", "scan", "--json", "--out", str(tmp_path / "results"),
                     "--work", str(tmp_path / "work"), "--database-url", url])
        doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["database"] == "postgresql"
    imp = doc["figures"]["import"]
    assert "error" not in imp and imp["database"] == "postgresql" and imp["store_mb"] > 0
    assert imp["rows"]["contacts"] > 0 and doc["figures"]["scan"]["naive"]["agreement"] == 1.0
    # the floors of the whole-folder bar: reading alone, then checked and rolled up, then a row store's append
    assert 0 < imp["polars_read_folder_over_usage_parse"] < imp["checked_read_floor_over_usage_parse"] \
        < imp["row_store_floor_over_usage_parse"]
    usage = doc["figures"]["import_usage"]
    assert "error" not in usage and usage["database"] == "postgresql" and usage["rows"]["usage"] == usage["n"] > 0


def test_the_import_floor_reads_checks_and_rolls_up_every_file(tmp_path):
    from benchmarks.fig_import import _floor

    (tmp_path / "usage.csv").write_text(
        "account_id,contact_email,event,occurred_at,count\n"
        "A1,ann@x.example,login,2026-11-24T16:43:21Z,4\n"
        "A1,ann@x.example,login,2026-11-24T18:00:00Z,1\n"  # the same day: one rolled-up row with the first
        "A1,ann@x.example,login,2026-11-25,2\n")
    (tmp_path / "people.csv").write_text("email,name\nbo@y.example,Bo\ncy@y.example,Cy\n")
    rows, read_s, floor = _floor([tmp_path / "usage.csv", tmp_path / "people.csv"])
    assert rows == 5 and read_s == floor["read_s"] > 0
    assert floor["rows_kept"] == 2 + 2  # usage kept as its two days, people as they are
    assert floor["checked_read_s"] == floor["read_s"] + floor["checks_and_rollup_s"]
    assert floor["sqlite_append_rows_per_s"] > 0
    assert floor["sqlite_append_s"] == floor["rows_kept"] / floor["sqlite_append_rows_per_s"]
