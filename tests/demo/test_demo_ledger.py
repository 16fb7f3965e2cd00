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


def check_report_against_store(report: dict[str, Any], store: Store, as_of: datetime) -> None:
    """Recompute the report's panels from the store: they agree with the ledger and with each other."""
    from warmintro.engines.report import FUNNEL, RANK

    with store.session() as s:
        refs = list(s.scalars(select(m.Referral)))
        asks = s.scalar(select(func.count()).select_from(m.Ask).where(m.Ask.asked_at <= as_of)) or 0
        reached = {r.referral_id: RANK.get(r.status, 0) for r in refs}
        for rid, status in s.execute(select(m.ReferralEvent.referral_id, m.ReferralEvent.status)):
            reached[rid] = max(reached[rid], RANK.get(status, 0))
        vendor = s.scalars(select(m.ProgramSetting.value).where(m.ProgramSetting.section == "vendor")).one()
    funnel = {f["stage"]: f for f in report["funnel"]}
    customer = sum(r.program == "customer" for r in refs)
    assert funnel["asked"]["count"] == max(asks, customer) + len(refs) - customer
    for stage in FUNNEL[1:4]:  # approved, intro sent, meeting: straight from the ledger's events
        assert funnel[stage]["count"] == sum(v >= RANK[stage] for v in reached.values()), stage
    counts = [f["count"] for f in report["funnel"]]
    assert counts == sorted(counts, reverse=True)
    for prev, f in zip(report["funnel"], report["funnel"][1:], strict=False):
        assert f["conversion"] == round(f["count"] / prev["count"], 4)
        # a realistic drop-off at every stage of the referral (a small demo may log more names than asks)
        assert 0 < f["conversion"] < 1 or (f["stage"] == "approved" and f["conversion"] == 1), f["stage"]
    # every referral carries its trigger and persona; the panels add up to the funnel and to the programs
    for key in ("by_trigger", "by_persona"):  # (imported asks carry no trigger: they may sit in "unspecified")
        assert report[key].get("unspecified", {}).get("referrals", 0) == 0
    econ = report["economics"]["programs"]
    for key in ("referrals", "won"):
        stage = "approved" if key == "referrals" else "won"
        total = funnel[stage]["count"]
        assert sum(g[key] for g in report["by_trigger"].values()) == total, key
        assert sum(g[key] for g in report["by_persona"].values()) == total, key
        assert sum(row[key] for row in econ.values()) == total, key
        assert funnel[stage]["by_program"] == {p: econ[p][key] for p in PROGRAMS if econ[p]["referrals"]}
    assert report["pipeline"]["referral"] == round(sum(row["pipeline"] for row in econ.values()), 2)
    assert report["won_revenue"]["referral"] == round(sum(row["won_revenue"] for row in econ.values()), 2)
    assert report["pipeline"]["count_referral"] == funnel["opportunity"]["count"]
    assert report["time_to_first_referral"]["accounts"] == report["referral_rate"]["referring_accounts"]
    # a title and period a person reads, and the currency every amount is in
    assert report["currency"] == vendor.get("currency", "USD") and vendor["name"] in report["title"]
    assert "T09:00" not in report["title"] and report["period"]["to"] == report["as_of"]
    ret = report["economics"]["retention"]
    assert ret["rest"]["retention"] < 1  # some churn among the customers of a year ago


def test_demo_records_planted_referrals_once(database_url: str, tmp_path: Path) -> None:
    workspace = generate_workspace(tmp_path / "truth", accounts=40, seed=11, as_of=AS_OF)
    truth = workspace.programs
    home = tmp_path / "home"
    first = _cli(["demo", *ARGS], home, database_url)
    assert first["referrals"]["blocked"] == []
    assert first["referrals"]["created"] == sum(truth[p]["referrals"] for p in PROGRAMS)
    report = _cli(["report", "--as-of", "2026-03-10T09:00Z"], home, database_url)
    econ = report["economics"]["programs"]
    for p in PROGRAMS:
        row, planted = econ[p], truth[p]
        dropped = (planted["dropped_before_intro"] + planted["dropped_before_meeting"]
                   + planted["dropped_after_meeting"])
        assert planted["referrals"] == len(planted["opportunities"]) + dropped > 0 and dropped > 0
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
        planned = {e["key"]: e for e in workspace.ledger}
        for r in refs:  # dated in the past, before the deal; the status follows the deal's stage
            assert r.created_at.replace(tzinfo=UTC) <= AS_OF
            key = r.idempotency_key.rsplit(":", 1)[-1]
            e = planned[key]
            assert (r.trigger_type, r.persona) == (e["trigger"], e["persona"]) and r.trigger_type and r.persona
            if e["opportunity_id"] is None:  # dropped out before a deal: into a company no deal touches
                assert r.referee_domain == e["domain"] and r.referee_domain not in {o.domain for o in opps.values()}
                assert r.status == {"approved": "no_response", "intro_sent": "no_response", "meeting": "lost"}[
                    e["reached"]]
                continue
            o = opps[key]
            assert r.referee_domain == o.domain
            assert r.created_at < o.created_at
            assert r.status == (o.stage if o.stage in ("won", "lost") else "opportunity")
        check_report_against_store(report, store, AS_OF)
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
