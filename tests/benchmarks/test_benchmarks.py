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
    usage = doc["figures"]["import_usage"]
    assert "error" not in usage and usage["database"] == "postgresql" and usage["rows"]["usage"] == usage["n"] > 0
