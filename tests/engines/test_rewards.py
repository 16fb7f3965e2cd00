"""Rewards and payouts: customer tiers (1st, 5th, 10th; configurable), non-cash for enterprise-size accounts,
partner recurring share (25% implementation / 15% other / own rate) with anniversaries, employee fees by
deal size, pending / due / clawed back on churn within 90 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_programs import deal  # a referral and its opportunity, as the programs' tests make them

from warmintro.engines.ledger import create_referral
from warmintro.engines.rewards import payouts, referrer_rewards, tier_for
from warmintro.importer.run import ImportRejected, import_folder
from warmintro.program import DEFAULT_TIERS
from warmintro.store import models as m

pytestmark = pytest.mark.store
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PRIYA = "priya.natarajan@northwind.example"  # Northwind: 1,200 employees -> enterprise-size
TOM = "tom.reyes@bluebird.example"  # Bluebird: 430 employees, ARR 36,000
KIM = "kim@routewise.example"  # implementation partner, no own rate
STACK = "x@stackhouse.example"  # agency partner with its own 12.5%
DANA = "dana@vendor.example"  # employee (csm)


def test_tier_for_boundaries():
    tiers = list(DEFAULT_TIERS)
    assert [tier_for(n, tiers).name if tier_for(n, tiers) else None for n in (0, 1, 4, 5, 9, 10, 40)] == [
        None, "thank_you", "thank_you", "advocate", "advocate", "champion", "champion"]


@pytest.fixture
def loaded(store, northwind):
    import_folder(store, northwind)
    return store


def test_customer_tiers_and_enterprise_non_cash(loaded):
    for i in range(6):
        deal(loaded, TOM, f"t{i}.example", at=T0 + timedelta(days=i), amount=20_000)
    deal(loaded, PRIYA, "p0.example", at=T0, amount=20_000)
    deal(loaded, TOM, "open.example", at=T0 + timedelta(days=10), amount=20_000, stage="discovery")
    deal(loaded, TOM, "lost.example", at=T0 + timedelta(days=11), amount=20_000, stage="lost")
    with loaded.session() as s:
        got = payouts(s, T0 + timedelta(days=200))
    tom = [p for p in got if p.referrer_email == TOM]
    assert [(p.tier, p.kind, p.amount, p.status) for p in tom if p.status == "due"] == (
        [("thank_you", "credit", 250, "due")] * 4 + [("advocate", "credit", 500, "due")] * 2)
    assert [(p.opportunity_id, p.status, p.due_at) for p in tom if p.status != "due"] == [
        ("O-open.example", "pending", None)]  # open: pending; lost: nothing
    assert tom[0].due_at == T0 + timedelta(days=30)  # due when won
    [priya] = [p for p in got if p.referrer_email == PRIYA]
    assert (priya.kind, priya.amount, priya.program) == ("non_cash", 250, "customer")
    with loaded.session() as s:
        rows = {r["referrer_email"]: r for r in referrer_rewards(s, T0 + timedelta(days=200))}
    assert (rows[TOM]["successful_referrals"], rows[TOM]["tier"], rows[TOM]["next_tier_at"]) == (6, "advocate", 10)
    assert rows[TOM]["amount_due"] == 2000 and rows[TOM]["amount_pending"] == 500  # the open one would be #7


def test_rewards_config_from_program_toml(store, northwind):
    toml = northwind / "program.toml"
    toml.write_text(toml.read_text() + '\n[rewards.customer]\nenterprise_kind = "donation"\n'
                    'tiers = [{at = 1, name = "first", amount = 100}, {at = 2, name = "second", amount = 300, kind = "bonus"}]\n')
    import_folder(store, northwind)
    for i in range(3):
        deal(store, TOM, f"t{i}.example", at=T0 + timedelta(days=i), amount=20_000)
    deal(store, PRIYA, "p.example", at=T0, amount=20_000)
    with store.session() as s:
        got = payouts(s, T0 + timedelta(days=200))
    assert [(p.tier, p.kind, p.amount) for p in got if p.referrer_email == TOM] == [
        ("first", "credit", 100), ("second", "bonus", 300), ("second", "bonus", 300)]
    assert [(p.kind, p.amount) for p in got if p.referrer_email == PRIYA] == [("donation", 100)]


def test_bad_rewards_config_is_rejected_at_import(store, northwind):
    toml = northwind / "program.toml"
    toml.write_text(toml.read_text() + '\n[rewards.customer]\ntiers = [{at = 0, name = "x", amount = 1}]\n')
    with pytest.raises(ImportRejected) as info:
        import_folder(store, northwind)
    assert "rewards.customer.tiers" in str(info.value.to_json())


def test_partner_and_employee_payouts(loaded):
    deal(loaded, KIM, "impl.example", at=T0, amount=80_000)
    deal(loaded, STACK, "agency.example", at=T0, amount=40_000)
    deal(loaded, DANA, "small.example", at=T0, amount=99_999)
    deal(loaded, DANA, "big.example", at=T0, amount=100_000)
    with loaded.session() as s:
        got = payouts(s, T0 + timedelta(days=30 + 366 * 2))  # two anniversaries after the close
    by = sorted((p.opportunity_id, p.program, p.kind, p.amount, p.due_at) for p in got if p.opportunity_id != "O-1")
    closed = T0 + timedelta(days=30)
    assert by == [
        ("O-agency.example", "partner", "recurring_share", 5_000, closed),  # Stackhouse's own 12.5%
        ("O-agency.example", "partner", "recurring_share", 5_000, closed.replace(year=2027)),
        ("O-agency.example", "partner", "recurring_share", 5_000, closed.replace(year=2028)),
        ("O-big.example", "employee", "one_time_fee", 3_000, closed),
        ("O-impl.example", "partner", "recurring_share", 20_000, closed),  # implementation: 25%
        ("O-impl.example", "partner", "recurring_share", 20_000, closed.replace(year=2027)),
        ("O-impl.example", "partner", "recurring_share", 20_000, closed.replace(year=2028)),
        ("O-small.example", "employee", "one_time_fee", 1_000, closed),
    ]
    assert {p.status for p in got if p.opportunity_id != "O-1"} == {"due"}


def _churn(store, domain: str, churned_at: datetime | None) -> None:
    with store.session(write=True) as s:
        s.add(m.Account(account_id=f"ACC-{domain}", name=domain, domain=domain, lifecycle_stage="churned",
                        extra={"churned_at": churned_at.isoformat()} if churned_at else None))


def test_clawback_on_churn_within_90_days(loaded):
    closed = T0 + timedelta(days=30)
    deal(loaded, TOM, "early.example", at=T0, amount=20_000)
    deal(loaded, TOM, "edge.example", at=T0, amount=20_000)
    deal(loaded, TOM, "late.example", at=T0, amount=20_000)
    deal(loaded, KIM, "gone.example", at=T0, amount=80_000)
    _churn(loaded, "early.example", closed + timedelta(days=10))
    _churn(loaded, "edge.example", closed + timedelta(days=90))  # exactly 90 days: still clawed back
    _churn(loaded, "late.example", closed + timedelta(days=91))
    _churn(loaded, "gone.example", closed + timedelta(days=200))
    with loaded.session() as s:
        got = {(p.opportunity_id, p.due_at): p for p in payouts(s, closed + timedelta(days=800))}
    assert got[("O-early.example", closed)].status == "clawed_back"
    assert got[("O-edge.example", closed)].status == "clawed_back"
    late = got[("O-late.example", closed)]
    assert (late.status, late.tier) == ("due", "thank_you")  # the clawed-back ones do not count as successes
    # the partner keeps the first share (churn after 90 days) but gets no anniversary after the churn
    assert [p.status for (oid, _), p in got.items() if oid == "O-gone.example"] == ["due"]


def test_churn_without_a_date_claws_back_only_inside_the_window(loaded):
    closed = T0 + timedelta(days=30)
    deal(loaded, TOM, "nodate.example", at=T0, amount=20_000)
    _churn(loaded, "nodate.example", None)
    with loaded.session() as s:
        assert [p.status for p in payouts(s, closed + timedelta(days=60))] == ["clawed_back"]
        assert [p.status for p in payouts(s, closed + timedelta(days=120))] == ["due"]


def test_influenced_deals_pay_nothing_and_crm_tags_pay_the_tagged_referrer(loaded):
    with loaded.session(write=True) as s:
        s.add(m.Opportunity(opportunity_id="P-1", account_name="Pier", domain="pier.example", stage="won",
                            amount=20_000, created_at=datetime(2026, 9, 1, tzinfo=UTC),
                            closed_at=datetime(2026, 12, 1, tzinfo=UTC)))
    create_referral(loaded, referrer_email=TOM, referee_email="x@pier.example", at=datetime(2026, 11, 1, tzinfo=UTC))
    with loaded.session() as s:
        got = payouts(s, datetime(2027, 1, 1, tzinfo=UTC))
    # P-1 existed before Tom's referral: influenced, no payout. O-1 is tagged in the CRM with Priya: pending.
    assert [(p.opportunity_id, p.referral_id, p.referrer_email, p.status) for p in got] == [
        ("O-1", None, PRIYA, "pending")]
