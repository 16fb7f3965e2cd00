"""`warmintro demo` records the referrals the workspace says happened in the ledger (warmintro.demo.ledger):
the report's per-program referrals and conversion match the planted truth, and a second run adds nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from warmintro.demo.generator import generate_workspace
from warmintro.store import models as m
from warmintro.store.db import Store

AS_OF = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
ARGS = ["--accounts", "40", "--seed", "11", "--as-of", "2026-03-10T09:00Z"]
PROGRAMS = ("customer", "partner", "employee")


def _cli(args: list[str], home: Path, database_url: str) -> Any:
    env = {**os.environ, "WARMINTRO_HOME": str(home), "WARMINTRO_DATABASE_URL": database_url,
           "WARMINTRO_LLM": "offline"}
    done = subprocess.run([sys.executable, "-m", "warmintro", *args, "--json"], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_demo_records_planted_referrals_once(database_url: str, tmp_path: Path) -> None:
    truth = generate_workspace(tmp_path / "truth", accounts=40, seed=11, as_of=AS_OF).programs
    home = tmp_path / "home"
    first = _cli(["demo", *ARGS], home, database_url)
    assert first["referrals"]["blocked"] == []
    assert first["referrals"]["created"] == sum(truth[p]["referrals"] for p in PROGRAMS)
    report = _cli(["report", "--as-of", "2026-03-10T09:00Z"], home, database_url)
    econ = report["economics"]["programs"]
    for p in PROGRAMS:
        row, planted = econ[p], truth[p]
        assert planted["referrals"] == len(planted["opportunities"]) > 0
        assert row["referrals"] == planted["referrals"], p
        assert row["opportunities"] == len(planted["opportunities"]), p
        assert row["won"] == planted["won"] > 0, p
        assert row["conversion"] == planted["conversion"] > 0, p
        assert row["pipeline"] == planted["pipeline"] and row["won_revenue"] == planted["won_revenue"], p
        assert row["won_customers"] == planted["won_customers"], p
        ret = report["economics"]["retention"][p]
        assert (ret["accounts"], ret["retained"], ret["avg_nrr"]) == (
            planted["retention"]["accounts"], planted["retention"]["retained"], planted["retention"]["avg_nrr"]), p
        if planted["payouts_at_close"] is not None:  # partner and employee (partners: plus anniversaries)
            assert row["payouts_pending"] == planted["payouts_pending"], p
            assert row["payouts"] >= planted["payouts_at_close"] > 0, p
    assert econ["employee"]["payouts"] == truth["employee"]["payouts_at_close"]

    store = Store.open(database_url)
    try:
        with store.session() as s:
            refs = list(s.scalars(select(m.Referral)))
            events = s.scalar(select(func.count()).select_from(m.ReferralEvent))
            opps = {o.opportunity_id: o for o in s.scalars(select(m.Opportunity))}
        for r in refs:  # dated in the past, before the deal; the status follows the deal's stage
            assert r.created_at.replace(tzinfo=UTC) <= AS_OF
            o = opps[r.idempotency_key.rsplit(":", 1)[-1]]
            assert r.referee_domain == o.domain
            assert r.created_at < o.created_at
            assert r.status == (o.stage if o.stage in ("won", "lost") else "opportunity")
        with store.session() as s:  # the history's Slack messages count as sent: the bot sends none of them
            from warmintro.engines.ledger import due_notifications

            sent = {k.removeprefix("notice:") for k in s.scalars(select(m.SlackEvent.event_id))}
            assert sent and due_notifications(s, AS_OF, sent=sent) == []
    finally:
        store.close()

    again = _cli(["demo", *ARGS], home, database_url)
    assert again["referrals"]["created"] == 0
    assert again["referrals"]["existing"] == len(refs)
    store = Store.open(database_url)
    try:
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(m.Referral)) == len(refs)
            assert s.scalar(select(func.count()).select_from(m.ReferralEvent)) == events
    finally:
        store.close()
    assert _cli(["report", "--as-of", "2026-03-10T09:00Z"], home, database_url)["economics"]["programs"] == econ
