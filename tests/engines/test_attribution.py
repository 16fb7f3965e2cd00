"""Attribution: sourced / influenced / none, window boundaries (90 and 180 days), latest wins, self-referrals;
the pure rule function and the same rules over the store (SQLite and PostgreSQL) and the CLI."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from warmintro.engines.attribution import OpportunityRow, ReferralRow, attribute, attribution
from warmintro.engines.ledger import create_referral, update_referral
from warmintro.importer.run import import_folder
from warmintro.program import Rules
from warmintro.store import models as m

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
AS_OF = datetime(2027, 1, 1, tzinfo=UTC)
RULES = Rules()


def ref(rid: str, at: datetime, domain: str = "acme.example", referrer: str = "pat@northwind.example",
        made_intro: bool = True) -> ReferralRow:
    return ReferralRow(rid, referrer, domain, at, "customer", frozenset({referrer.split("@")[1]}), made_intro)


def opp(created: datetime, amount: float | None = 50_000, stage: str = "discovery", closed: datetime | None = None,
        domain: str = "acme.example", oid: str = "O-1") -> OpportunityRow:
    return OpportunityRow(oid, domain, stage, created, amount, closed)


def one(o: OpportunityRow, refs: list[ReferralRow], rules: Rules = RULES, **kw):
    [credit] = attribute([o], refs, as_of=AS_OF, rules=rules, **kw)
    return credit


SEC = timedelta(seconds=1)


@pytest.mark.parametrize(("amount", "gap", "credit"), [
    (50_000, timedelta(days=90), "sourced"),  # exactly 90 days: inside
    (50_000, timedelta(days=90) + SEC, "none"),  # one second past the 90-day window
    (99_999.99, timedelta(days=91), "none"),
    (100_000, timedelta(days=91), "sourced"),  # enterprise-size: 180 days
    (100_000, timedelta(days=180), "sourced"),
    (250_000, timedelta(days=180) + SEC, "none"),
    (None, timedelta(days=90), "sourced"),
    (None, timedelta(days=91), "none"),
])
def test_window_boundaries(amount, gap, credit):
    got = one(opp(T0 + gap, amount=amount), [ref("R-1", T0)])
    assert got.credit == credit
    assert got.window_days == (180 if amount and amount >= 100_000 else 90)
    if credit == "none":
        assert (got.reason, got.referral_id) == ("outside_window", None)
    else:
        assert (got.reason, got.referral_id, got.referrer_email) == ("in_window", "R-1", "pat@northwind.example")


def test_enterprise_size_and_windows_follow_the_rules_override():
    rules = Rules(attribution_days=30, attribution_days_enterprise=60, enterprise_deal_size=10_000)
    assert one(opp(T0 + timedelta(days=31), amount=5_000), [ref("R-1", T0)], rules).credit == "none"
    assert one(opp(T0 + timedelta(days=60), amount=10_000), [ref("R-1", T0)], rules).credit == "sourced"
    assert one(opp(T0 + timedelta(days=61), amount=10_000), [ref("R-1", T0)], rules).credit == "none"


def test_latest_referral_in_the_window_wins():
    refs = [ref("R-old", T0, referrer="a@one.example"), ref("R-new", T0 + timedelta(days=10), referrer="b@two.example"),
            ref("R-after", T0 + timedelta(days=40), referrer="c@three.example")]
    got = one(opp(T0 + timedelta(days=20)), refs)
    assert (got.credit, got.referral_id, got.referrer_email) == ("sourced", "R-new", "b@two.example")


def test_a_later_referral_does_not_steal_a_sourced_deal():
    # R-2 comes while the opportunity is open: R-1 sourced it, R-2 only influenced it.
    got = one(opp(T0 + timedelta(days=5)), [ref("R-1", T0), ref("R-2", T0 + timedelta(days=6))])
    assert (got.credit, got.referral_id) == ("sourced", "R-1")


def test_pre_existing_opportunity_is_influenced_not_sourced():
    got = one(opp(T0), [ref("R-1", T0 + timedelta(days=3))])
    assert (got.credit, got.reason, got.referral_id) == ("influenced", "pre_existing_opportunity", "R-1")


def test_referral_after_the_close_earns_nothing():
    got = one(opp(T0, stage="won", closed=T0 + timedelta(days=10)), [ref("R-1", T0 + timedelta(days=11))])
    assert (got.credit, got.reason) == ("none", "referral_after_close")


def test_same_moment_counts_as_sourced():
    assert one(opp(T0), [ref("R-1", T0)]).credit == "sourced"


def test_self_referral_is_never_sourced():
    got = one(opp(T0 + timedelta(days=5), domain="northwind.example"), [ref("R-1", T0, domain="northwind.example")])
    assert (got.credit, got.reason, got.referral_id) == ("none", "self_referral", None)
    # ... and a self-referral next to a legitimate one never wins, even when it is later
    mixed = [ref("R-ok", T0, domain="northwind.example", referrer="b@two.example"),
             ref("R-self", T0 + timedelta(days=2), domain="northwind.example")]
    assert one(opp(T0 + timedelta(days=5), domain="northwind.example"), mixed).referral_id == "R-ok"


def test_existing_customer_is_influenced_only():
    got = one(opp(T0 + timedelta(days=5)), [ref("R-1", T0)], customer_since={"acme.example": T0 - timedelta(days=400)})
    assert (got.credit, got.reason) == ("influenced", "existing_customer")
    # a referee who became a customer after the referral (the referred deal itself) is still sourced
    later = one(opp(T0 + timedelta(days=5)), [ref("R-1", T0)], customer_since={"acme.example": T0 + timedelta(days=5)})
    assert later.credit == "sourced"


def test_account_level_other_domains_and_no_intro_do_not_count():
    refs = [ref("R-x", T0, domain="other.example"), ref("R-declined", T0, made_intro=False)]
    got = one(opp(T0 + timedelta(days=1)), refs)
    assert (got.credit, got.reason) == ("none", "no_referral")


def test_as_of_hides_the_future():
    refs = [ref("R-1", T0), ref("R-2", T0 + timedelta(days=30))]
    o = opp(T0 + timedelta(days=40), stage="won", closed=T0 + timedelta(days=70))
    assert attribute([o], refs, as_of=T0 + timedelta(days=39), rules=RULES) == []  # not created yet
    [mid] = attribute([o], refs, as_of=T0 + timedelta(days=50), rules=RULES)
    assert (mid.referral_id, mid.stage, mid.closed_at) == ("R-2", "open", None)
    [late] = attribute([o], [refs[0]], as_of=T0 + timedelta(days=80), rules=RULES)
    assert (late.referral_id, late.stage) == ("R-1", "won")


# --- the same rules over the store and the CLI ---------------------------------------------------------

PRIYA = "priya.natarajan@northwind.example"
SAM = "sam.okafor@northwind.example"


def _opps(store, rows):
    with store.session(write=True) as s:
        for oid, domain, stage, amount, created, closed in rows:
            s.add(m.Opportunity(opportunity_id=oid, account_name=domain, domain=domain, stage=stage, amount=amount,
                                created_at=created, closed_at=closed))


@pytest.mark.store
def test_store_attribution_credits_by_the_rules(store, northwind):
    import_folder(store, northwind)
    r_old = create_referral(store, referrer_email=PRIYA, referee_email="a@gale.example", at=T0)
    r_new = create_referral(store, referrer_email=SAM, referee_email="b@gale.example", at=T0 + timedelta(days=30))
    r_big = create_referral(store, referrer_email=PRIYA, referee_email="c@summit.example", at=T0)
    declined = create_referral(store, referrer_email=PRIYA, referee_email="d@quay.example", at=T0, status="asked")
    update_referral(store, declined.referral_id, status="declined", at=T0 + timedelta(days=1))
    _opps(store, [
        ("G-1", "gale.example", "won", 40_000, T0 + timedelta(days=120), T0 + timedelta(days=150)),  # 90 after r_new
        ("G-2", "gale.example", "discovery", 40_000, T0 + timedelta(days=121), None),  # 91 days: outside
        ("S-1", "summit.example", "won", 150_000, T0 + timedelta(days=180), T0 + timedelta(days=200)),  # enterprise
        ("Q-1", "quay.example", "discovery", 10_000, T0 + timedelta(days=2), None),  # declined ask: no intro
    ])
    with store.session() as s:
        got = {c.opportunity_id: c for c in attribution(s, AS_OF)}
    assert (got["G-1"].credit, got["G-1"].referral_id, got["G-1"].referrer_email) == ("sourced", r_new.referral_id, SAM)
    assert (got["G-2"].credit, got["G-2"].reason) == ("none", "outside_window")
    assert (got["S-1"].credit, got["S-1"].referral_id, got["S-1"].window_days) == ("sourced", r_big.referral_id, 180)
    assert (got["Q-1"].credit, got["Q-1"].reason) == ("none", "no_referral")
    # P-1 was open before the referral came: influenced
    _opps(store, [("P-1", "pier.example", "evaluation", 20_000, datetime(2026, 9, 1, tzinfo=UTC), None)])
    pier = create_referral(store, referrer_email=PRIYA, referee_email="pat@pier.example",
                           at=datetime(2026, 11, 25, tzinfo=UTC))
    # O-1 (harbor.example, opened 2026-09-01) carries the CRM's referrer tag (Priya): sourced by the tag, and
    # a later ledger referral into harbor.example does not take it over
    harbor = create_referral(store, referrer_email=SAM, referee_email="jordan.lee@harbor.example",
                             at=datetime(2026, 11, 25, tzinfo=UTC))
    with store.session() as s:
        now = {c.opportunity_id: c for c in attribution(s, AS_OF)}
    p1, o1 = now["P-1"], now["O-1"]
    assert (p1.credit, p1.reason, p1.referral_id) == ("influenced", "pre_existing_opportunity", pier.referral_id)
    assert (o1.credit, o1.reason, o1.referral_id, o1.referrer_email) == ("sourced", "crm_referrer", None, PRIYA)
    assert harbor.referral_id not in {c.referral_id for c in now.values()}
    assert r_old.referral_id not in {c.referral_id for c in got.values()}  # the earlier referral lost to the later one


@pytest.mark.store
def test_store_attribution_reads_the_enterprise_size_from_program_toml(store, northwind):
    toml = northwind / "program.toml"
    toml.write_text(toml.read_text() + "attribution_days = 60\nenterprise_deal_size = 30000\n")
    import_folder(store, northwind)
    create_referral(store, referrer_email=PRIYA, referee_email="a@gale.example", at=T0)
    _opps(store, [("G-1", "gale.example", "discovery", 40_000, T0 + timedelta(days=170), None),
                  ("G-2", "gale.example", "discovery", 20_000, T0 + timedelta(days=61), None)])
    with store.session() as s:
        got = {c.opportunity_id: c.credit for c in attribution(s, AS_OF)}
    assert got == {"O-1": "sourced", "O-2": "none", "G-1": "sourced", "G-2": "none"}  # O-1: the CRM's tag


# --- end to end through the CLI: the "done when" ----------------------------------------------------

@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    """The CLI in-process (the same `main` the console script runs), with its own WARMINTRO_HOME."""
    from warmintro.cli import main

    for name in list(os.environ):
        if name.startswith(("WARMINTRO_", "OPENAI_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WARMINTRO_HOME", str(tmp_path / "home"))

    def run(args: list[str]) -> Done:
        capsys.readouterr()
        code = main(args)
        got = capsys.readouterr()
        return Done(code, got.out, got.err)

    return run


def test_cli_referrals_are_credited_by_the_rules(northwind, tmp_path, cli):
    with (northwind / "opportunities.csv").open("a") as f:
        f.write("GALE-1,Gale,gale.example,won,40000,2026-04-01,2026-05-01,referral,,\n"  # exactly 90 days
                "QUAY-1,Quay,quay.example,evaluation,30000,2026-03-01,,,,\n"  # two referrals: the latest wins
                "SUM-1,Summit,summit.example,negotiation,150000,2026-06-30,,,,\n"  # enterprise: 180 days
                "SUM-2,Summit,summit.example,discovery,50000,2026-06-30,,,,\n"  # same referral, 90 days: none
                "PIER-1,Pier,pier.example,evaluation,20000,2026-09-01,,,,\n"  # open before the referral: influenced
                "SELF-1,Northwind,northwind.example,discovery,9000,2026-09-01,,referral,sam.okafor@northwind.example,\n")
    assert cli(["import", str(northwind), "--json"]).returncode == 0
    adds = [(PRIYA, "ann@gale.example", "2026-01-01"), (PRIYA, "quinn@quay.example", "2026-01-01"),
            ("tom.reyes@bluebird.example", "quentin@quay.example", "2026-02-01"),
            (PRIYA, "sue@summit.example", "2026-01-01"), (PRIYA, "pat@pier.example", "2026-10-01")]
    ids = []
    for referrer, referee, at in adds:
        done = cli(["referrals", "add", "--referrer", referrer, "--referee", referee, "--at", at, "--trigger", "nps",
                    "--persona", "economic_buyer", "--json"])
        assert done.returncode == 0, done.stderr
        ids.append(json.loads(done.stdout)["referral_id"])
    for referee, reason in (("someone@northwind.example", "same_domain"), ("buyer@bluebird.example", "customer")):
        done = cli(["referrals", "add", "--referrer", PRIYA, "--referee", referee, "--json"])
        assert done.returncode != 0 and json.loads(done.stdout) == {"error": reason}
        assert "Traceback" not in done.stderr and reason in done.stderr
    listed = json.loads(cli(["referrals", "list", "--json"]).stdout)["referrals"]
    assert sorted(r["referral_id"] for r in listed) == sorted(ids)  # the refused ones were not recorded
    assert all(r["flags"] == [] for r in listed)

    done = cli(["attribution", "--as-of", "2026-12-01", "--json"])
    assert done.returncode == 0, done.stderr
    rows = {o["opportunity_id"]: o for o in json.loads(done.stdout)["opportunities"]}
    for o in rows.values():
        assert set(o) >= {"opportunity_id", "credit", "referral_id", "referrer_email", "reason"}
    got = {k: (o["credit"], o["referral_id"]) for k, o in rows.items()}
    assert got == {"GALE-1": ("sourced", ids[0]), "QUAY-1": ("sourced", ids[2]), "SUM-1": ("sourced", ids[3]),
                   "SUM-2": ("none", None), "PIER-1": ("influenced", ids[4]), "O-2": ("none", None),
                   "O-1": ("sourced", None), "SELF-1": ("none", None)}
    assert (rows["O-1"]["reason"], rows["O-1"]["referrer_email"]) == ("crm_referrer", PRIYA)
    assert rows["SELF-1"]["reason"] == "self_referral"
    assert rows["QUAY-1"]["referrer_email"] == "tom.reyes@bluebird.example"

    done = cli(["payouts", "--as-of", "2026-12-01", "--json"])
    assert done.returncode == 0, done.stderr
    paid = json.loads(done.stdout)["payouts"]
    assert sorted((p["opportunity_id"], p["status"]) for p in paid) == [
        ("GALE-1", "due"), ("O-1", "pending"), ("QUAY-1", "pending"), ("SUM-1", "pending")]  # open: pending
    [payout] = [p for p in paid if p["status"] == "due"]
    assert set(payout) >= {"referral_id", "referrer_email", "program", "opportunity_id", "kind", "amount", "due_at",
                           "status"}
    assert (payout["opportunity_id"], payout["program"], payout["kind"], payout["status"], payout["due_at"]) == (
        "GALE-1", "customer", "non_cash", "due", "2026-05-01T00:00:00Z")  # Northwind is enterprise-size
    rewards = json.loads(cli(["rewards", "--as-of", "2026-12-01", "--json"]).stdout)["rewards"]
    assert [(r["referrer_email"], r["successful_referrals"], r["tier"], r["next_tier_at"]) for r in rewards] == [
        (PRIYA, 1, "thank_you", 5), ("tom.reyes@bluebird.example", 0, None, 1)]  # Tom's deal is still open

    png = tmp_path / "report.png"
    done = cli(["report", "--as-of", "2026-12-01", "--png", str(png), "--json"])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["attribution"] == {"sourced": 4, "influenced": 1, "none": 3}
    assert report["by_trigger"]["nps"]["referrals"] == 5 and report["by_persona"]["economic_buyer"]["won"] == 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000

    bad = cli(["attribution", "--as-of", "yesterday", "--json"])
    assert bad.returncode != 0 and "ISO 8601" in bad.stderr and bad.stdout == ""
    bad = cli(["report", "--png", str(tmp_path / "no" / "such" / "dir.png"), "--json"])
    assert bad.returncode != 0 and "cannot write the PNG" in bad.stderr and bad.stdout == ""
    assert not (tmp_path / "no").exists()
