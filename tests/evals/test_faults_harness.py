"""A tiny slice of the fault suite's parts (evals/faults), on SQLite: the same code paths as
`python -m evals --suite faults`, with small counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evals.faults import FaultContext
from evals.faults import cadence as fc

D = timedelta(days=1)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def ctx(tmp_path: Path) -> FaultContext:
    return FaultContext(workdir=tmp_path, database_urls=[f"sqlite:///{tmp_path / 'faults.sqlite3'}"], log=lambda _m: None)


def test_the_independent_cadence_checker_sees_each_kind_of_violation():
    assert fc.independent_violations([(T0, None), (T0 + 90 * D, None), (T0 + 180 * D, None)]) == 0
    assert fc.independent_violations([(T0, None), (T0 + 89 * D, None)]) == 1
    assert fc.independent_violations([(T0 + i * 91 * D, None) for i in range(4)]) == 1  # 4 asks in 273 days
    assert fc.independent_violations([(T0, "declined"), (T0 + 100 * D, None)]) == 1
    assert fc.independent_violations([(T0, "declined"), (T0 + 180 * D, None)]) == 0


def test_cadence_pure_rules_small():
    res = fc.pure_rules(40, seed=1)
    assert res["histories"] == 40 and res["violations"] == 0 and res["accepted"] > 0


@pytest.mark.store
def test_cadence_store_and_concurrent_writers_small(tmp_path: Path):
    c = ctx(tmp_path)
    assert fc.store_write_path(c.sqlite_url("store"), 4, seed=1)["violations"] == 0
    race = fc.concurrent_writers(c.sqlite_url("race"), 2, 2, seed=1)
    assert race["violations"] == 0 and race["errors"] == 0 and race["accepted"] >= 1


@pytest.mark.store
def test_forged_requests_and_double_clicks_small(tmp_path: Path):
    from evals.faults import slack_faults as sf
    from warmintro.store.db import Store

    store = Store.open(f"sqlite:///{tmp_path / 'slack.sqlite3'}")
    mock = sf.start_mock()
    try:
        sf.small_workspace().load(store, tmp_path / "ws")
        with sf.harness(store, mock, tmp_path / "home") as h:
            forged = sf.forged(h)
        assert forged["forged_requests"] >= 100 and forged["forged_accepted"] == 0
        assert forged["signed_controls_accepted"] == 2
        agent = sf.agent_double_click(store, mock, tmp_path / "home", 2)
        assert agent["duplicates"] == 0 and agent["lost"] == 0
    finally:
        mock.stop()
        store.close()


@pytest.mark.store
def test_llm_faults_fall_back_and_nothing_ungrounded_is_sent(tmp_path: Path, store, northwind):
    from evals.faults import llm_faults as lf
    from warmintro.importer.run import import_folder

    import_folder(store, northwind)
    res = lf.agent_cases(store, tmp_path / "home")
    assert res["cases"] >= 30 and res["crashes"] == 0 and res["ungrounded"] == 0 and res["lost"] == 0


@pytest.mark.store
def test_roles_do_not_leak_small(tmp_path: Path, store, northwind):
    from evals.faults import roles
    from warmintro.importer.run import import_folder

    import_folder(store, northwind)
    res = roles.agent_roles(store, northwind, tmp_path / "home")
    assert res["leaks"] == 0 and res["errors"] == 0 and res["controls_seen"] >= 1
    assert roles.csv_cases(30)["leaks"] == 0
