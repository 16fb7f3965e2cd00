"""The program report: the pure row-based builder (fed the real Olist lead -> deal data), the store-backed
report with attribution, SLA, triggers, personas and flags, and the PNG."""

from __future__ import annotations

import csv
import json
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warmintro.engines.ledger import create_referral, update_referral
from warmintro.engines.report import (
    AccountRow,
    AskRow,
    OpportunityRow,
    ReferralRow,
    build_report,
    program_report,
    render_png,
)
from warmintro.importer.run import import_folder
from warmintro.store import models as m

OLIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "referral_funnel" / "olist_marketing_funnel"
LEADS = OLIST / "olist_marketing_qualified_leads_dataset.noheader.csv"
DEALS = OLIST / "olist_closed_deals_cleaned.csv"


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def olist_rows() -> list[OpportunityRow]:
    """Each marketing-qualified lead as an opportunity, its origin as the source, won when it closed a deal."""
    if not (LEADS.is_file() and DEALS.is_file()):
        pytest.skip(f"Olist data not found under {OLIST}")
    with DEALS.open(newline="", encoding="utf-8") as f:
        deals = {row["mql_id"]: row for row in csv.DictReader(f)}
    rows = []
    with LEADS.open(newline="", encoding="utf-8") as f:
        for mql_id, first_contact, _landing_page, origin in csv.reader(f):  # no header row
            deal = deals.get(mql_id)
            revenue = float(deal["declared_monthly_revenue"] or 0) if deal else 0.0
            rows.append(OpportunityRow(
                mql_id, _when(first_contact), "won" if deal else "lost", revenue or None,
                _when(deal["won_date"]) if deal else None, None if origin in ("", "NaN") else origin))
    return rows


# counted independently from the two CSV files: origin -> (leads, won)
OLIST_BY_ORIGIN = {
    "organic_search": (2296, 271), "paid_search": (1586, 195), "social": (1350, 75), "unknown": (1099, 179),
    "direct_traffic": (499, 56), "email": (493, 15), "referral": (284, 24), "other": (150, 4), "display": (118, 6),
    "other_publicities": (65, 3), "unspecified": (60, 14),
}


@pytest.fixture(scope="module")
def olist_report():
    return build_report(as_of=datetime(2019, 1, 1, tzinfo=UTC), opportunities=olist_rows())


def test_olist_conversion_by_origin(olist_report):
    by_source = olist_report["by_source"]
    assert {k: (v["opportunities"], v["won"]) for k, v in by_source.items()} == OLIST_BY_ORIGIN
    assert by_source["referral"]["conversion"] == pytest.approx(24 / 284, abs=1e-4)
    assert list(by_source)[:2] == ["organic_search", "paid_search"]  # largest first
    # referral share of the pipeline (by count: the leads carry no amount) and of won deals
    assert (olist_report["pipeline"]["count_referral"], olist_report["pipeline"]["count_total"]) == (284, 8000)
    assert (olist_report["won_revenue"]["count_referral"], olist_report["won_revenue"]["count_total"]) == (24, 842)
    funnel = {s["stage"]: s["count"] for s in olist_report["funnel"]}
    assert (funnel["opportunity"], funnel["won"]) == (284, 24)


def test_olist_as_of_hides_later_leads_and_deals():
    early = build_report(as_of=datetime(2018, 1, 1, tzinfo=UTC), opportunities=olist_rows())
    assert early["pipeline"]["count_total"] < 8000
    assert early["won_revenue"]["count_total"] < 842


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_olist_png_is_a_real_chart(olist_report, tmp_path):
    path = render_png(olist_report, tmp_path / "olist.png")
    assert _png_size(path) == (1210, 880)
    assert path.stat().st_size > 30_000  # four drawn panels, not a blank canvas


def test_pure_report_figures():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    as_of = t0 + timedelta(days=60)
    accounts = [AccountRow("A", t0 - timedelta(days=100)), AccountRow("B", t0 - timedelta(days=10)), AccountRow("C"),
                AccountRow("D", churned=True)]
    asks = [AskRow(t0, "x@a", "nps", "economic_buyer"), AskRow(t0, "y@a", "qbr", "power_user"),
            AskRow(t0, "z@b", "nps", "economic_buyer"), AskRow(t0, "w@c", "nps", "power_user"),
            AskRow(as_of + timedelta(days=1), "later@a", "nps", None)]
    h = timedelta(hours=1)
    refs = [
        ReferralRow("R1", t0, "won", "A", "nps", "economic_buyer", sla_due_at=t0 + 24 * h, first_touch_at=t0 + 2 * h),
        ReferralRow("R2", t0 + 5 * h, "meeting", "A", "qbr", "power_user", sla_due_at=t0 + 29 * h,
                    first_touch_at=t0 + 30 * h),
        ReferralRow("R3", t0 + timedelta(days=20), "approved", "B", "nps", "economic_buyer",
                    sla_due_at=t0 + timedelta(days=21)),
        ReferralRow("R4", as_of - h, "approved", "D", "nps", None, sla_due_at=as_of + 23 * h),
        ReferralRow("R5", as_of + h, "won", "C"),  # after as_of: ignored
    ]
    opps = [OpportunityRow("O1", t0 + timedelta(days=3), "won", 30_000, t0 + timedelta(days=40), credit="sourced"),
            OpportunityRow("O2", t0, "discovery", 70_000, credit="none", source="referral"),
            OpportunityRow("O3", t0, "won", 90_000, t0 + timedelta(days=70), credit="none")]  # won after as_of
    r = build_report(as_of=as_of, accounts=accounts, asks=asks, referrals=refs, opportunities=opps)
    assert r["referral_rate"] == {"customer_accounts": 3, "referring_accounts": 2, "rate": round(2 / 3, 4)}
    assert [(s["stage"], s["count"]) for s in r["funnel"]] == [
        ("asked", 4), ("approved", 4), ("intro_sent", 2), ("meeting", 2), ("opportunity", 1), ("won", 1)]
    assert [s["conversion"] for s in r["funnel"]] == [None, 1.0, 0.5, 1.0, 0.5, 1.0]
    assert r["pipeline"]["total"] == 190_000 and r["pipeline"]["referral"] == 30_000  # the CRM tag alone is not credit
    assert r["pipeline"]["share"] == round(30_000 / 190_000, 4)
    assert (r["won_revenue"]["total"], r["won_revenue"]["share"]) == (30_000, 1.0)
    assert r["time_to_first_referral"] == {"accounts": 2, "median_days": 65.0, "mean_days": 65.0}
    assert r["sla"] == {"met": 1, "breached": 2, "pending": 1, "compliance": round(1 / 3, 4)}
    nps = r["by_trigger"]["nps"]
    assert (nps["asks"], nps["referrals"], nps["won"], nps["conversion"], nps["ask_to_referral"]) == (3, 3, 1, 0.3333, 1.0)
    assert r["by_trigger"]["qbr"]["meetings"] == 1
    assert r["by_persona"]["economic_buyer"]["referrals"] == 2 and r["by_persona"]["unspecified"]["referrals"] == 1
    assert [t["month"] for t in r["trend"]] == ["2026-01", "2026-02", "2026-03"]


# --- over the store ---------------------------------------------------------------------------------------

PRIYA = "priya.natarajan@northwind.example"
TOM = "tom.reyes@bluebird.example"
AT = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


@pytest.mark.store
def test_store_report_with_attribution_sla_and_flags(store, northwind, tmp_path):
    import_folder(store, northwind)
    a = create_referral(store, referrer_email=PRIYA, referee_email="ann@gale.example", at=AT, trigger_type="nps",
                        persona="economic_buyer")
    b = create_referral(store, referrer_email=TOM, referee_email="bo@summit.example", at=AT, trigger_type="qbr",
                        persona="power_user")
    update_referral(store, a.referral_id, status="intro_sent", at=AT + timedelta(hours=3))
    update_referral(store, a.referral_id, status="meeting", at=AT + timedelta(days=4))
    with store.session(write=True) as s:
        s.add(m.Opportunity(opportunity_id="G-1", account_name="Gale", domain="gale.example", stage="won",
                            amount=60_000, created_at=AT + timedelta(days=10), closed_at=AT + timedelta(days=40)))
    as_of = AT + timedelta(days=50)
    with store.session() as s:
        r = program_report(s, as_of)
    assert r["attribution"] == {"sourced": 2, "influenced": 0, "none": 1}  # G-1, and O-1 by its CRM tag
    funnel = {s["stage"]: s["count"] for s in r["funnel"]}
    assert (funnel["approved"], funnel["intro_sent"], funnel["meeting"], funnel["opportunity"], funnel["won"]) == (
        2, 1, 1, 2, 1)  # O-1 counts as a referral opportunity though the ledger never saw its referral
    assert r["won_revenue"]["referral"] == 60_000 and r["won_revenue"]["total"] == 180_000
    assert r["referral_rate"]["referring_accounts"] == 2
    assert r["sla"] == {"met": 1, "breached": 1, "pending": 0, "compliance": 0.5}
    assert r["by_trigger"]["nps"]["won"] == 1 and r["by_persona"]["power_user"]["won"] == 0
    assert b.referral_id not in {f["referral_id"] for f in r["flags"]}
    path = render_png(r, tmp_path / "report.png")
    assert _png_size(path) == (1210, 880)
    json.dumps(r)  # the --json output is plain JSON
