"""The partner and employee programs in the demo (issue 13), and the programs' planted truth.

Customers refer through the CRM's `referrer_email` on opportunities.csv (source `referral`), partners the
same way with their partners.csv contact (source `partner`, written by events.opportunities). This module adds
the employee program, as the contract allows: opportunities.csv rows with source `employee` whose
`referrer_email` is a vendor team member (team.csv role csm, ae, sdr or employee; customer-facing people
refer more often): won deals at customer accounts the CRM had no deal for yet, and a few open and lost deals
at network companies no other deal touches. Those open and lost deals are older than the targets engine's
90-day "recently referred" window, so no planted target or decoy changes. It draws from its own random stream
(`derive_rng(seed, "programs")`), so every other file of a seed stays as it was, apart from the OPP- ids.

`program_truth` is what each program must show in the report's economics, by construction: the
opportunities each program's referrers are tagged on, and as many ledger referrals (`referrals`, one per
tagged deal, recorded by `warmintro demo`: warmintro.demo.ledger; `conversion` = won / referrals) (all "sourced": every tagged deal is at a company that
was not a customer yet, and no referrer works there), the won ones, pipeline and won revenue, the payouts at
close under the default rules (partner: its own commission_rate, else 25% for an implementation partner and
15% for any other kind; employee: 1,000 below the enterprise deal size of 100,000, 3,000 at or above it;
nothing is clawed back: every demo churn comes long after the close), and the 12-month retention cohort.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from warmintro.demo.events import at_hour
from warmintro.demo.model import Company, Opportunity, World

PROGRAM_OF_SOURCE = {"referral": "customer", "partner": "partner", "employee": "employee"}
EMPLOYEE_ROLES = {"csm": 3, "ae": 3, "sdr": 3, "employee": 1}  # role -> weight: customer-facing first
ENTERPRISE_DEAL = 100_000.0  # program rules default (contract "Program rules")
EMPLOYEE_FEE, EMPLOYEE_ENTERPRISE_FEE = 1000.0, 3000.0
IMPLEMENTATION_RATE, DEFAULT_RATE = 25.0, 15.0
RECENTLY_REFERRED_DAYS = 90  # warmintro.engines.targets: open employee deals stay older than this
RETENTION_DAYS = 365


def employee_referrals(world: World, r: random.Random, prospects: list[Company]) -> None:
    """Employee-referred deals (source `employee`, referrer a vendor team member)."""
    T = world.as_of
    members = [m for m in world.team if m.role in EMPLOYEE_ROLES]
    if not members:
        return
    weights = [EMPLOYEE_ROLES[m.role] for m in members]

    def referrer() -> str:
        return r.choices(members, weights)[0].email

    with_deal = {o.domain for o in world.opportunities}
    n_won = max(2, len(world.accounts) // 15)
    fresh = [a for a in world.accounts if a.domain not in with_deal and a.customer_since > T - timedelta(days=1100)]
    # half in the 12-month retention cohort (customers for a year or more), so its figures are not empty
    cohort = [a for a in fresh if a.customer_since <= T - timedelta(days=RETENTION_DAYS)]
    newer = [a for a in fresh if a.customer_since > T - timedelta(days=RETENTION_DAYS)]
    picks = r.sample(cohort, min(len(cohort), (n_won + 1) // 2))
    picks += r.sample(newer, min(len(newer), n_won - len(picks)))
    for a in sorted(picks, key=lambda a: a.index):
        created = a.customer_since - timedelta(days=r.randint(30, 120))
        world.opportunities.append(Opportunity(a.name, a.domain, "won", a.arr, created, a.customer_since,
                                               "employee", referrer()))
    planted = {p.domain for p in world.planted_people}
    free = [c for c in prospects if c.domain not in with_deal and c.domain not in planted]
    n_open, n_lost = max(1, len(world.accounts) // 30), max(1, len(world.accounts) // 40)
    for i, co in enumerate(r.sample(free, min(len(free), n_open + n_lost))):
        is_open = i < n_open
        created = at_hour(T - timedelta(days=r.randint(RECENTLY_REFERRED_DAYS + 10, 400)), r, 9, 18)
        stage = r.choice(("discovery", "evaluation", "negotiation")) if is_open else "lost"
        closed = None if is_open else min(T - timedelta(days=1), created + timedelta(days=r.randint(20, 120)))
        amount = float(max(6000, round(co.employees * r.uniform(30, 100) / 500) * 500))
        world.opportunities.append(Opportunity(co.name, co.domain, stage, amount, created, closed, "employee",
                                               referrer()))


def _payout(program: str, o: Opportunity, partner_rate: dict[str, float]) -> float:
    """The payout at close for a won deal (or pending for an open one) under the default rules."""
    if program == "employee":
        return EMPLOYEE_ENTERPRISE_FEE if o.amount >= ENTERPRISE_DEAL else EMPLOYEE_FEE
    return round(o.amount * partner_rate.get(o.referrer_email, DEFAULT_RATE) / 100, 2)


def program_truth(world: World) -> dict[str, dict[str, Any]]:
    """Per program (customer, partner, employee): what the report's economics must show (module docstring)."""
    T = world.as_of
    partner_rate = {p.contact_email: (p.commission_rate if p.commission_rate is not None else
                                      IMPLEMENTATION_RATE if p.kind == "implementation" else DEFAULT_RATE)
                    for p in world.partners}
    accounts = {a.domain: a for a in world.accounts}
    out: dict[str, dict[str, Any]] = {}
    for program in ("customer", "partner", "employee"):
        opps = [o for o in world.opportunities if o.referrer_email and PROGRAM_OF_SOURCE.get(o.source) == program]
        won = [o for o in opps if o.stage == "won"]
        row: dict[str, Any] = {
            "opportunities": sorted(o.opportunity_id for o in opps), "won": len(won),
            # `warmintro demo` records one ledger referral per tagged deal (warmintro.demo.ledger)
            "referrals": len(opps), "conversion": round(len(won) / len(opps), 4) if opps else None,
            "won_customers": len({o.domain for o in won}),
            "pipeline": round(sum(o.amount for o in opps), 2), "won_revenue": round(sum(o.amount for o in won), 2),
            "payouts_at_close": None, "payouts_pending": None,
        }
        if program != "customer":  # customer rewards follow tiers per referrer: not planted here
            row["payouts_at_close"] = round(sum(_payout(program, o, partner_rate) for o in won), 2)
            row["payouts_pending"] = round(sum(_payout(program, o, partner_rate) for o in opps
                                               if o.stage not in ("won", "lost")), 2)
        cohort = [accounts[d] for d in sorted({o.domain for o in won} & set(accounts))
                  if accounts[d].customer_since <= T - timedelta(days=RETENTION_DAYS)]
        retained = [a for a in cohort if a.stage != "churned"
                    or a.renewal_date > a.customer_since + timedelta(days=RETENTION_DAYS)]
        nrr = [a.nrr for a in cohort if a.nrr is not None]
        row["retention"] = {"accounts": len(cohort), "retained": len(retained),
                            "avg_nrr": round(sum(nrr) / len(nrr), 2) if nrr else None}
        out[program] = row
    return out
