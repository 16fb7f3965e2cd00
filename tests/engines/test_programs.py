"""Issue 13: three programs on one ledger. Program inference; partner tiers, rates and qualification (a lead
below the bar is held for review, a partner whose quality falls is flagged); the payout boundaries per
program (exactly the enterprise size, churn on day 89 and 91, anniversaries either side of as-of, lost and
open deals); double-sided customer rewards; payouts marked paid, reproducible, and exported as safe CSV;
employee suggestions from employment history; program economics on a workspace whose CAC and retention are
known."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warmintro.engines.economics import store_economics
from warmintro.engines.ledger import create_referral, infer_program, referral_flags, update_referral
from warmintro.engines.partners import partner_summary
from warmintro.engines.programs import employee_suggestions, team_suggestions
from warmintro.engines.rewards import CSV_COLUMNS, csv_cell, mark_paid, payouts, payouts_csv
from warmintro.errors import WarmintroError
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.workspace import PROGRAM, Workspace

pytestmark = pytest.mark.store
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
C = T0 + timedelta(days=30)  # every deal here closes 30 days after its referral
TOM = "tom@a.example"  # customer contact (account A: 300 employees, ARR 30,000)
KIM = "kim@routewise.example"  # implementation partner, certified
STACK = "x@stackhouse.example"  # agency partner, own rate 12.5%
LOW = "lou@lowq.example"  # referral partner
EVE = "eve@vendor.example"  # employee
ADMIN = "root@vendor.example"

ICP_PROGRAM = PROGRAM.replace('industries = ["Logistics"]', 'industries = ["Logistics"]\nemployees_min = 100\n'
                              'employees_max = 5000')


def base(program_extra: str = "") -> Workspace:
    ws = Workspace(program=ICP_PROGRAM + program_extra)
    ws.account("A", name="Alpha", domain="a.example", employees=300, arr=30_000, customer_since="2022-01-01")
    ws.contact(TOM, "A", name="Tom Reyes")
    for email, name, role in (("dana@vendor.example", "Dana", "csm"), ("alex@vendor.example", "Alex", "ae"),
                              (EVE, "Eve", "employee"), (ADMIN, "Root", "admin"), ("pat@partnerco.example", "Pat", "partner")):
        ws.add("team.csv", email=email, name=name, role=role)
    ws.add("partners.csv", partner_id="P-1", name="Routewise", domain="routewise.example", kind="implementation",
           certified="true", contact_email=KIM)
    ws.add("partners.csv", partner_id="P-2", name="Stackhouse", domain="stackhouse.example", kind="agency",
           certified="false", commission_rate=12.5)
    ws.add("partners.csv", partner_id="P-3", name="LowQ", domain="lowq.example", kind="referral", certified="false")
    for email, industry, size in (("fit@fitco.example", "Logistics", 900), ("bad@softco.example", "Software", 900),
                                  ("big@hugeco.example", "Logistics", 90_000)):
        ws.add("people.csv", email=email, name=email.split("@")[0].title(), company=email.split("@")[1],
               domain=email.split("@")[1], industry=industry, company_employees=size)
    return ws


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    base().load(store, tmp_path / "ws")
    return store


def deal(store: Store, referrer: str, domain: str, *, at: datetime = T0, amount: float = 20_000,
         stage: str = "won", close_after: int = 30, oid: str | None = None) -> str:
    view = create_referral(store, referrer_email=referrer, referee_email=f"buyer@{domain}", at=at)
    with store.session(write=True) as s:
        s.add(m.Opportunity(opportunity_id=oid or f"O-{domain}", account_name=domain, domain=domain, stage=stage,
                            amount=amount, created_at=at + timedelta(days=5),
                            closed_at=at + timedelta(days=close_after) if stage in ("won", "lost") else None))
    return view.referral_id


def churn(store: Store, domain: str, at: datetime) -> None:
    with store.session(write=True) as s:
        s.add(m.Account(account_id=f"ACC-{domain}", name=domain, domain=domain, lifecycle_stage="churned",
                        extra={"churned_at": at.isoformat()}))


def rows(store: Store, as_of: datetime) -> list[tuple[str, str, str, float, str]]:
    with store.session() as s:
        return sorted((p.opportunity_id, p.program, p.kind, p.amount, p.status) for p in payouts(s, as_of))


# --- program inference ---------------------------------------------------------------------------------

def test_program_follows_from_who_the_referrer_is(loaded: Store):
    with loaded.session() as s:
        assert [infer_program(s, e) for e in (TOM, EVE, ADMIN, KIM, "anyone@stackhouse.example",
                                              "pat@partnerco.example", "stranger@else.example")] == [
            "customer", "employee", "employee", "partner", "partner", "partner", "customer"]
    view = create_referral(loaded, referrer_email=EVE, referee_email="x@fitco.example", at=T0, program_kind="partner")
    assert view.program == "partner"  # --program overrides


# --- partners: qualification, quality, tiers ---------------------------------------------------------------

def test_partner_lead_outside_the_icp_is_held_for_review_then_released(loaded: Store):
    held = create_referral(loaded, referrer_email=KIM, referee_email="bad@softco.example", at=T0)
    assert (held.status, held.owner_email, held.sla_due_at) == ("held", None, None)
    with loaded.session() as s:
        r = s.get(m.Referral, held.referral_id)
        q = r.extra["qualification"]
        assert q["held"] and q["reasons"] == ["outside_icp: industry Software is not in the ICP"]
        events = s.query(m.ReferralEvent).filter_by(referral_id=held.referral_id).all()
        assert "held for review: outside_icp" in events[0].note
    ok = create_referral(loaded, referrer_email=KIM, referee_email="fit@fitco.example", at=T0)
    unknown = create_referral(loaded, referrer_email=KIM, referee_email="who@nowhere.example", at=T0)
    too_big = create_referral(loaded, referrer_email=KIM, referee_email="big@hugeco.example", at=T0)
    assert (ok.status, unknown.status, too_big.status) == ("approved", "approved", "held")
    assert ok.owner_email == "alex@vendor.example"
    customer_lead = create_referral(loaded, referrer_email=TOM, referee_email="bad2@softco.example", at=T0)
    assert customer_lead.status == "approved"  # qualification is the partner program's
    released = update_referral(loaded, held.referral_id, status="approved", at=T0 + timedelta(hours=3))
    assert released.owner_email == "alex@vendor.example"
    assert released.sla_due_at == T0 + timedelta(hours=27)  # the SLA starts when it is let through


def test_held_leads_wait_silently_and_earn_no_credit(loaded: Store):
    from warmintro.engines.ledger import due_notifications

    held = create_referral(loaded, referrer_email=KIM, referee_email="bad@softco.example", at=T0)
    with loaded.session(write=True) as s:
        s.add(m.Opportunity(opportunity_id="O-soft", account_name="Softco", domain="softco.example", stage="won",
                            amount=50_000, created_at=T0 + timedelta(days=5), closed_at=C))
    with loaded.session() as s:
        assert [n for n in due_notifications(s, T0 + timedelta(days=40)) if n.referral_id == held.referral_id] == []
        assert [p for p in payouts(s, C + timedelta(days=1)) if p.referral_id == held.referral_id] == []


def test_a_partner_whose_quality_falls_is_flagged_and_its_next_lead_held(loaded: Store):
    for i in range(5):
        create_referral(loaded, referrer_email=LOW, referee_email=f"p{i}@fitco{i}.example", at=T0 + timedelta(days=i))
    later = T0 + timedelta(days=60)
    lead = create_referral(loaded, referrer_email=LOW, referee_email="fit@fitco.example", at=later)
    assert lead.status == "held"
    with loaded.session() as s:
        q = s.get(m.Referral, lead.referral_id).extra["qualification"]
        assert q["quality"]["matured"] == 5 and q["quality"]["meeting_rate"] == 0.0
        assert q["reasons"][0].startswith("partner_quality: LowQ: 0 of 5 leads reached a meeting (0%; the bar is 30%)")
        flags = referral_flags(s, later)
        assert {f.flag for f in flags[lead.referral_id]} == {"partner_quality"}
        summary = {p["partner_id"]: p for p in partner_summary(s, later)}
        assert summary["P-3"]["flagged"] and not summary["P-1"]["flagged"]
    # Kim's leads reach meetings: Kim stays unflagged with the same history size
    for i in range(5):
        v = create_referral(loaded, referrer_email=KIM, referee_email=f"k{i}@kfit{i}.example", at=T0)
        update_referral(loaded, v.referral_id, status="opportunity", at=T0 + timedelta(days=10))
    assert create_referral(loaded, referrer_email=KIM, referee_email="fit2@fitco.example", at=later).status == "approved"


def test_partner_tiers_by_won_deals_in_the_last_12_months_set_the_rate(store: Store, tmp_path: Path):
    base('\n[rewards.partner]\ntiers = [{name = "registered"}, {name = "silver", min_won = 2, rate = 20}, '
         '{name = "gold", min_won = 3, certified = true, rate = 30}]\n').load(store, tmp_path / "ws")
    for i in range(4):  # LowQ (not certified): 15, 15, then silver 20 twice (gold needs a certification)
        deal(store, LOW, f"l{i}.example", at=T0 + timedelta(days=10 * i), amount=10_000)
    deal(store, LOW, "late.example", at=T0 + timedelta(days=30 + 400), amount=10_000)  # the window is empty again
    for i in range(4):  # Routewise (certified): 25, 25, 20 (silver), 30 (gold)
        deal(store, KIM, f"k{i}.example", at=T0 + timedelta(days=10 * i), amount=10_000)
    for i in range(3):  # Stackhouse: its own 12.5% whatever its tier
        deal(store, STACK, f"s{i}.example", at=T0 + timedelta(days=10 * i), amount=10_000)
    with store.session() as s:
        got = [p for p in payouts(s, T0 + timedelta(days=500)) if p.number == 0]
    by = {p.opportunity_id: (p.amount, p.tier) for p in got}
    assert [by[f"O-l{i}.example"] for i in range(4)] == [(1500, "registered"), (1500, "registered"),
                                                         (2000, "silver"), (2000, "silver")]
    assert by["O-late.example"] == (1500, "registered")
    assert [by[f"O-k{i}.example"][0] for i in range(4)] == [2500, 2500, 2000, 3000]
    assert {by[f"O-s{i}.example"][0] for i in range(3)} == {1250}


def test_default_tiers_keep_the_contract_rates(loaded: Store):
    for i in range(6):
        deal(loaded, KIM, f"k{i}.example", at=T0 + timedelta(days=i), amount=10_000)
    with loaded.session() as s:
        got = [p for p in payouts(s, C + timedelta(days=30)) if p.number == 0]
        assert {p.amount for p in got} == {2500}
        assert got[-1].tier == "gold"  # promoted (certified, 5 won), at the contract's 25%


# --- payout rules per program: the boundaries --------------------------------------------------------

def test_employee_fee_at_exactly_the_enterprise_size_and_churn_on_day_89_and_91(loaded: Store):
    deal(loaded, EVE, "under.example", amount=99_999.99)
    deal(loaded, EVE, "exact.example", amount=100_000)
    deal(loaded, EVE, "d89.example", amount=20_000)
    deal(loaded, EVE, "d91.example", amount=20_000)
    churn(loaded, "d89.example", C + timedelta(days=89))
    churn(loaded, "d91.example", C + timedelta(days=91))
    assert rows(loaded, C + timedelta(days=200)) == [
        ("O-d89.example", "employee", "one_time_fee", 1000, "clawed_back"),
        ("O-d91.example", "employee", "one_time_fee", 1000, "due"),
        ("O-exact.example", "employee", "one_time_fee", 3000, "due"),
        ("O-under.example", "employee", "one_time_fee", 1000, "due"),
    ]


def test_partner_churn_day_89_and_91_and_anniversaries_either_side_of_as_of(loaded: Store):
    deal(loaded, KIM, "keep.example", amount=40_000)
    deal(loaded, KIM, "d89.example", amount=40_000)
    deal(loaded, KIM, "d91.example", amount=40_000)
    churn(loaded, "d89.example", C + timedelta(days=89))
    churn(loaded, "d91.example", C + timedelta(days=91))
    anniversary = C.replace(year=C.year + 1)
    before = rows(loaded, anniversary - timedelta(seconds=1))
    assert before == [("O-d89.example", "partner", "recurring_share", 10_000, "clawed_back"),
                      ("O-d91.example", "partner", "recurring_share", 10_000, "due"),
                      ("O-keep.example", "partner", "recurring_share", 10_000, "due")]
    after = rows(loaded, anniversary)
    assert after == sorted(before + [("O-keep.example", "partner", "recurring_share", 10_000, "due")])


def test_lost_and_open_deals_pay_nothing_in_any_program(loaded: Store):
    for who, tag in ((EVE, "e"), (KIM, "k"), (TOM, "t")):
        deal(loaded, who, f"{tag}-open.example", stage="discovery")
        deal(loaded, who, f"{tag}-lost.example", stage="lost")
    got = rows(loaded, C + timedelta(days=400))
    assert {(oid, status) for oid, *_, status in got} == {
        ("O-e-open.example", "pending"), ("O-k-open.example", "pending"), ("O-t-open.example", "pending")}


# --- customers: double-sided rewards -----------------------------------------------------------------------

def test_double_sided_rewards_are_off_by_default(loaded: Store):
    rid = deal(loaded, TOM, "small.example", amount=20_000)
    with loaded.session() as s:
        assert {p.side for p in payouts(s, C + timedelta(days=1))} == {"referrer"}
        assert (s.get(m.Referral, rid).extra or {}).get("referee_reward") is None


def test_double_sided_rewards_for_the_referee_below_the_enterprise_size(store: Store, tmp_path: Path):
    base('\n[rewards.customer]\ndouble_sided = true\nreferee_amount = 100\n').load(store, tmp_path / "ws")
    small = deal(store, TOM, "small.example", amount=99_999)
    deal(store, TOM, "exact.example", amount=100_000)
    with store.session() as s:
        got = payouts(s, C + timedelta(days=1))
        reward = s.get(m.Referral, small).extra["referee_reward"]
    assert reward["amount"] == 100 and reward["kind"] == "credit" and "below the enterprise" in reward["condition"]
    referee = [p for p in got if p.side == "referee"]
    assert [(p.opportunity_id, p.amount, p.recipient_email, p.status) for p in referee] == [
        ("O-small.example", 100, "buyer@small.example", "due")]
    with store.session() as s:
        from warmintro.engines.rewards import referrer_rewards

        [tom] = referrer_rewards(s, C + timedelta(days=1))
    assert tom["successful_referrals"] == 2 and tom["amount_due"] == 500  # the referee's 100 is not Tom's


# --- payouts: paid, reproducible, exported -------------------------------------------------------------------

def test_mark_paid_is_recorded_and_recomputing_gives_the_same_rows(loaded: Store):
    deal(loaded, KIM, "k.example", amount=40_000)
    deal(loaded, EVE, "open.example", stage="discovery")
    as_of = C + timedelta(days=400)
    with loaded.session() as s:
        first = [p.to_json() for p in payouts(s, as_of)]
        second = [p.to_json() for p in payouts(s, as_of)]
    assert first == second and len({p["payout_id"] for p in first}) == len(first) == 3
    due = next(p for p in first if p["status"] == "due")
    pending = next(p for p in first if p["status"] == "pending")
    with loaded.session(write=True) as s:
        paid = mark_paid(s, due["payout_id"], as_of=as_of, by=ADMIN, reference="TX-1")
    assert paid.status == "paid"
    with loaded.session(write=True) as s:
        assert mark_paid(s, due["payout_id"], as_of=as_of + timedelta(days=1), by=ADMIN).paid_at == as_of  # no-op
        with pytest.raises(WarmintroError, match="pending"):
            mark_paid(s, pending["payout_id"], as_of=as_of, by=ADMIN)
    with loaded.session() as s:
        again = {p.payout_id: p for p in payouts(s, as_of)}
        assert again[due["payout_id"]].status == "paid" and again[due["payout_id"]].amount == due["amount"]
        assert [p.to_json() for p in payouts(s, as_of)] == [p.to_json() for p in payouts(s, as_of)]
        assert s.query(m.PayoutRecord).count() == 1


def test_a_paid_payout_clawed_back_stays_visible_as_clawed_back(loaded: Store):
    deal(loaded, EVE, "gone.example", amount=20_000)
    with loaded.session(write=True) as s:
        [p] = payouts(s, C + timedelta(days=1))
        mark_paid(s, p.payout_id, as_of=C + timedelta(days=1), by=ADMIN)
    churn(loaded, "gone.example", C + timedelta(days=30))
    with loaded.session() as s:
        [after] = payouts(s, C + timedelta(days=60))
    assert (after.status, after.paid_at) == ("clawed_back", C + timedelta(days=1))


def test_csv_cells_never_start_a_formula():
    assert [csv_cell(v) for v in ("=1+2", "+x", "-y", "@SUM(A1)", "\tq", "plain", None, 12.5)] == [
        "'=1+2", "'+x", "'-y", "'@SUM(A1)", "'\tq", "plain", "", "12.50"]


def test_payouts_csv_export_loads_and_is_safe(loaded: Store):
    deal(loaded, "=HYPERLINK(evil)@stackhouse.example", "s.example", amount=10_000)
    with loaded.session() as s:
        text = payouts_csv(payouts(s, C + timedelta(days=1)))
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["referrer_email"].startswith("'=hyperlink") and row["amount"] == "1250.00"  # Stackhouse's 12.5%
    assert row["status"] == "due" and row["payout_id"].startswith("PO-")


def test_cli_payouts_list_mark_paid_and_export(loaded: Store, database_url: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    from warmintro.cli import main

    deal(loaded, EVE, "e.example", amount=20_000)
    monkeypatch.setenv("WARMINTRO_DATABASE_URL", database_url)
    monkeypatch.setenv("WARMINTRO_HOME", str(tmp_path / "home"))
    as_of = (C + timedelta(days=1)).isoformat()

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(list(args))
        return code, capsys.readouterr().out

    code, text = run("payouts", "--as-of", as_of, "--json")
    assert code == 0, text
    [p] = json.loads(text)["payouts"]
    assert {"referral_id", "referrer_email", "program", "opportunity_id", "kind", "amount", "due_at",
            "status"} <= set(p) and p["status"] == "due"
    assert run("payouts", "mark-paid", p["payout_id"], "--as", EVE)[0] != 0  # not an admin
    code, text = run("payouts", "mark-paid", p["payout_id"], "--as", ADMIN, "--at", as_of, "--json")
    assert code == 0 and json.loads(text)["status"] == "paid"
    out = tmp_path / "payouts.csv"
    assert run("payouts", "export", "--as-of", as_of, "--csv", str(out))[0] == 0
    [row] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert (row["payout_id"], row["status"]) == (p["payout_id"], "paid")
    code, text = run("payouts", "export", "--as-of", as_of, "--status", "due")
    assert code == 0 and text.strip().splitlines() == [",".join(CSV_COLUMNS)]  # only the header: nothing is due
    code, text = run("partners", "--as-of", as_of, "--json")
    assert code == 0 and [p["partner_id"] for p in json.loads(text)["partners"]] == ["P-1", "P-2", "P-3"]
    code, text = run("suggestions", EVE, "--as-of", as_of, "--json")
    assert code == 0 and json.loads(text)["employee"] == EVE
    code, text = run("report", "--as-of", as_of)
    assert code == 0 and "Programs" in text and "Reference points" in text


def test_payouts_from_imported_opportunities_match_the_contract_rules(store: Store, tmp_path: Path):
    """Referrals logged first, then the CRM's opportunities imported (as a customer's nightly export would)."""
    ws = base()
    ws.load(store, tmp_path / "ws")
    create_referral(store, referrer_email=KIM, referee_email="a@impl.example", at=T0)
    create_referral(store, referrer_email=STACK, referee_email="b@agency.example", at=T0)
    create_referral(store, referrer_email=EVE, referee_email="c@big.example", at=T0)
    create_referral(store, referrer_email=EVE, referee_email="d@lost.example", at=T0)
    create_referral(store, referrer_email=TOM, referee_email="e@cust.example", at=T0)
    for oid, domain, stage, amount in (("O-1", "impl.example", "won", 60_000), ("O-2", "agency.example", "won", 40_000),
                                       ("O-3", "big.example", "won", 100_000), ("O-4", "lost.example", "lost", 50_000),
                                       ("O-5", "cust.example", "won", 10_000)):
        ws.add("opportunities.csv", opportunity_id=oid, account_name=domain, domain=domain, stage=stage, amount=amount,
               created_at=T0 + timedelta(days=5), closed_at=C)
    ws.add("accounts.csv", account_id="CUST", name="Cust", domain="cust.example", lifecycle_stage="churned",
           customer_since=C.date().isoformat(), renewal_date=(C + timedelta(days=60)).date().isoformat())
    ws.load(store, tmp_path / "ws2")
    with store.session() as s:
        got = sorted((p.opportunity_id, p.program, p.kind, p.amount, p.status) for p in payouts(s, C + timedelta(days=1)))
    assert got == [("O-1", "partner", "recurring_share", 15_000, "due"),
                   ("O-2", "partner", "recurring_share", 5_000, "due"),
                   ("O-3", "employee", "one_time_fee", 3_000, "due"),
                   ("O-5", "customer", "credit", 250, "clawed_back")]  # churned within 90 days (no date: the window)


# --- employees: suggestions ------------------------------------------------------------------------------

def test_suggestions_from_employment_history_customer_facing_first(store: Store, tmp_path: Path):
    ws = base()
    for email, company, domain, start, end in (
            (EVE, "Harbor", "harbor.example", "2018-01-01", "2022-01-01"), (EVE, "Relaydesk", "vendor.example", "2022-02-01", ""),
            ("dana@vendor.example", "Harbor", "harbor.example", "2019-01-01", "2021-01-01"),
            ("dana@vendor.example", "Relaydesk", "vendor.example", "2021-02-01", ""),
            ("jo@fitco.example", "Harbor", "harbor.example", "2017-01-01", "2020-06-01"),
            ("jo@fitco.example", "Fitco", "fitco.example", "2020-07-01", ""),
            ("sam@softco.example", "Harbor", "harbor.example", "2018-06-01", "2021-01-01"),
            ("sam@softco.example", "Softco", "softco.example", "2021-02-01", ""),
            ("late@fitco.example", "Harbor", "harbor.example", "2023-01-01", "2024-01-01"),
            ("late@fitco.example", "Fitco", "fitco.example", "2024-02-01", "")):
        ws.add("employment.csv", email=email, company=company, domain=domain, start=start, end=end)
    for email, name, title, industry, domain in (("jo@fitco.example", "Jo Park", "VP Operations", "Logistics", "fitco.example"),
                                                 ("sam@softco.example", "Sam Lee", "CTO", "Software", "softco.example"),
                                                 ("late@fitco.example", "Late Comer", "Analyst", "Logistics", "fitco.example")):
        ws.add("people.csv", email=email, name=name, company=domain, domain=domain, title=title, industry=industry,
               company_employees=900)
    ws.load(store, tmp_path / "ws")
    with store.session() as s:
        eve = employee_suggestions(s, EVE, T0)
        team = team_suggestions(s, T0)
    assert [x["email"] for x in eve["suggestions"]] == ["jo@fitco.example"]  # Sam's company is outside the ICP
    assert "worked with you at Harbor (2018-2020" in eve["suggestions"][0]["reasons"][0]
    assert {"email": "sam@softco.example", "reason": "outside_icp"} in eve["excluded"]
    assert all(x["email"] != "late@fitco.example" for x in eve["suggestions"])  # never overlapped
    assert [t["employee"] for t in team] == ["dana@vendor.example", EVE]  # the CSM first
    create_referral(store, referrer_email=EVE, referee_email="jo@fitco.example", at=T0)
    with store.session() as s:
        assert employee_suggestions(s, EVE, T0)["suggestions"] == []  # already referred


# --- economics -------------------------------------------------------------------------------------------

ECONOMICS = """
[economics]
paid_cac = 20000
organic_cac = 8000
platform_cost = 3000
time_cost_per_referral = 100
"""


def test_economics_on_a_workspace_with_known_cac_and_retention(store: Store, tmp_path: Path):
    ws = base(ECONOMICS)
    ws.account("R1", domain="r1.example", customer_since="2023-01-01", lifecycle_stage="churned",
               renewal_date="2025-09-01", nrr="")
    ws.account("R3", domain="r3.example", customer_since="2022-01-01", lifecycle_stage="churned",
               renewal_date="2024-01-01", nrr="")  # gone before the 12 months: not in the cohort
    ws.account("R2", domain="r2.example", customer_since="2023-06-01", nrr=100)
    ws.rows["accounts.csv"][0]["nrr"] = 110  # A
    for i, stage in enumerate(("won", "lost", "lost", "prospecting")):
        ws.add("opportunities.csv", opportunity_id=f"OUT-{i}", account_name=f"Out {i}", domain=f"out{i}.example",
               stage=stage, amount=10_000, created_at="2024-10-01", closed_at="2024-11-01" if stage != "prospecting" else "",
               source="outbound")
    ws.load(store, tmp_path / "ws")
    deal(store, EVE, "e-won.example", amount=50_000)
    deal(store, EVE, "e-open.example", amount=30_000, stage="discovery")
    deal(store, KIM, "k-won.example", amount=80_000)
    deal(store, KIM, "k-lost.example", amount=10_000, stage="lost")
    deal(store, TOM, "t1.example", amount=20_000)
    deal(store, TOM, "t2.example", amount=20_000)
    with store.session(write=True) as s:  # the referred deals became customers at the close
        for d, nrr, churned in (("e-won", 120, None), ("k-won", 110, None), ("t1", 130, None),
                                ("t2", None, C + timedelta(days=200))):
            s.add(m.Account(account_id=f"ACC-{d}", name=d, domain=f"{d}.example", customer_since=C, nrr=nrr,
                            arr=60_000 if d == "e-won" else None, lifecycle_stage="churned" if churned else "active",
                            extra={"churned_at": churned.isoformat()} if churned else None))
    as_of = C + timedelta(days=400)
    with store.session() as s:
        from warmintro.engines.attribution import attribution

        econ = store_economics(s, as_of, attribution(s, as_of))
    p = econ["programs"]
    # employee: fee 1,000 + 2 x 100 time + 2/6 of 3,000 platform = 2,200 for 1 customer
    assert (p["employee"]["referrals"], p["employee"]["won"], p["employee"]["payouts"], p["employee"]["cac"]) == (
        2, 1, 1000, 2200)
    assert (p["employee"]["conversion"], p["employee"]["pipeline"], p["employee"]["won_revenue"]) == (0.5, 80_000, 50_000)
    # partner: 25% of 80,000 at close and again at the anniversary = 40,000; + 200 + 1,000
    assert (p["partner"]["payouts"], p["partner"]["cac"], p["partner"]["won_revenue"]) == (40_000, 41_200, 80_000)
    # customer: two thank-you credits (250 each) + 200 + 1,000 over 2 customers
    assert (p["customer"]["payouts"], p["customer"]["cac"]) == (500, 850)
    cac = econ["cac"]
    assert (cac["referral"], cac["paid"], cac["organic"]) == (round(45_100 / 4, 2), 20_000, 8_000)
    assert cac["referral_vs_paid"] == round(1 - 11_275 / 20_000, 4)
    assert econ["close_rate"] == {"referral": round(4 / 6, 4), "outbound": 0.25, "multiple": round((4 / 6) / 0.25, 2)}
    ret = econ["retention"]
    assert (ret["referred"]["accounts"], ret["referred"]["retained"], ret["referred"]["retention"]) == (4, 3, 0.75)
    # trailing 12 months: A, R1 and R2 were customers a year ago, R1 churned since; R3 had gone already
    assert (ret["rest"]["accounts"], ret["rest"]["retained"]) == (3, 2)
    assert ret["referred"]["avg_nrr"] == 120 and ret["rest"]["avg_nrr"] == 105
    assert ret["employee"]["arr_growth"] == 0.2  # 60,000 ARR on a 50,000 first deal
    assert "30-50% below paid" in econ["reference"]


def test_report_json_and_png_carry_the_economics(store: Store, tmp_path: Path):
    from warmintro.engines.report import program_report, render_png

    base(ECONOMICS).load(store, tmp_path / "ws")
    deal(store, EVE, "e-won.example", amount=50_000)
    with store.session() as s:
        report = program_report(s, C + timedelta(days=1))
    assert report["economics"]["programs"]["employee"]["won"] == 1
    assert report["economics"]["cac"]["paid"] == 20_000
    path = render_png(report, tmp_path / "r.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 30_000
