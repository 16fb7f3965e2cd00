"""The CLI as a script sees it: real processes, exit codes, JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parents[1] / "fixtures" / "northwind"


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("WARMINTRO_", "OPENAI_", "SLACK_"))}
    full_env.update({"WARMINTRO_HOME": str(home), **env})
    return subprocess.run([sys.executable, "-m", "warmintro", *args], capture_output=True, text=True, env=full_env,
                          timeout=300)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    done = run(["import", str(FIXTURE), "--json"], home)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["imported"]["accounts"] == 4 and data["warnings"] == []
    return home


def test_version(tmp_path):
    done = run(["--version"], tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("warmintro ")


def test_scan_json_shape(home):
    done = run(["scan", "--as-of", "2026-11-25T09:00:00Z", "--json"], home)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["as_of"] == "2026-11-25T09:00:00Z"
    assert set(data) >= {"as_of", "asks", "skipped"}
    for ask in data["asks"]:
        assert set(ask) >= {"contact_email", "account_id", "persona", "trigger", "expires_at", "priority", "reasons"}
        assert set(ask["trigger"]) == {"type", "occurred_at", "signal_id"}
    for skip in data["skipped"]:
        assert set(skip) >= {"contact_email", "account_id", "reason"}


def test_personas_json_shape(home):
    done = run(["personas", "ACC-1", "--as-of", "2026-11-25", "--json"], home)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["account_id"] == "ACC-1"
    assert {c["email"] for c in data["contacts"]} == {
        "priya.natarajan@northwind.example", "sam.okafor@northwind.example", "lena@northwind.example"}
    for c in data["contacts"]:
        assert set(c) == {"email", "persona", "confidence", "evidence"} and c["evidence"]


def test_unknown_account_is_a_clean_error(home):
    done = run(["personas", "NOPE", "--json"], home)
    assert done.returncode != 0
    assert "NOPE" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_bad_import_exits_2_with_problems_and_no_traceback(home, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in FIXTURE.iterdir():
        if f.is_file():
            (bad / f.name).write_bytes(f.read_bytes())
    text = (bad / "signals.csv").read_text(encoding="utf-8").replace("2026-11-22,,positive", "2026-13-22,,positive")
    (bad / "signals.csv").write_text(text, encoding="utf-8")
    done = run(["import", str(bad), "--json"], home)
    assert done.returncode == 2
    assert "signals.csv, line 6, column occurred_at" in done.stderr and "Traceback" not in done.stderr
    assert json.loads(done.stdout)["errors"][0]["line"] == 6


def test_bad_as_of_and_bad_database_url(home):
    done = run(["scan", "--as-of", "someday"], home)
    assert done.returncode != 0 and "ISO 8601" in done.stderr and "Traceback" not in done.stderr
    done = run(["status"], home, WARMINTRO_DATABASE_URL="postgresql://nobody@127.0.0.1:1/x?connect_timeout=2")
    assert done.returncode == 3 and "cannot" in done.stderr and "Traceback" not in done.stderr


def test_import_of_a_missing_folder(home, tmp_path):
    done = run(["import", str(tmp_path / "nothing")], home)
    assert done.returncode != 0 and "not a folder" in done.stderr
