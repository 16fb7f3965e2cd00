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
nothing is clawed back: every demo churn comes long after the close), and the trailing 12-month retention
cohort (customers a year ago; retained when still a customer now).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from warmintro.demo.events import at_hour
from warmintro.demo.model import Company, Opportunity, World, ts

PROGRAM_OF_SOURCE = {"referral": "customer", "partner": "partner", "employee": "employee"}
EMPLOYEE_ROLES = {"csm": 3, "ae": 3, "sdr": 3, "employee": 1}  # role -> weight: customer-facing first
ENTERPRISE_DEAL = 100_000.0  # program rules default (contract "Program rules")
EMPLOYEE_FEE, EMPLOYEE_ENTERPRISE_FEE = 1000.0, 3000.0
IMPLEMENTATION_RATE, DEFAULT_RATE = 25.0, 15.0
RECENTLY_REFERRED_DAYS = 90  # warmintro.engines.targets: open employee deals stay older than this
RETENTION_DAYS = 365
# The trigger behind a customer's referral: what opened the ask (weights: NPS and QBRs are most common).
CUSTOMER_TRIGGERS = {"nps": 30, "qbr": 20, "go_live": 12, "expansion": 10, "renewal": 10, "public_win": 6,
                     "milestone": 7, "offboarding": 5}
# A partner's or an employee's referral has no customer moment behind it: its trigger is the channel, its
# persona the program (the report groups them beside the customer personas).
PROGRAM_TRIGGER = {"partner": "partner_submission", "employee": "employee_referral"}
# Referrals that never became a deal, per referral that did: (the intro never made, no meeting after the
# intro, a meeting and no opportunity). Customer intros drop most; partners qualify their leads first.
DROPPED = {"customer": (0.2, 0.8, 0.35), "partner": (0.05, 0.45, 0.3), "employee": (0.1, 0.6, 0.3)}
# days a dropped referral's history takes (first touch <= 50 h; no_response 14 days after the intro; a meeting
# 3-10 days after it, lost 21 days later): it is made at least this long before as_of
SETTLED_DAYS = {"approved": 3, "intro_sent": 17, "meeting": 34}


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


def plan_ledger(world: World, r: random.Random, prospects: list[Company]) -> None:
    """Every ledger referral the demo records (world.ledger, written to ground_truth.json): one per
    referral-, partner- or employee-tagged deal, and the referrals that dropped out before a deal (DROPPED),
    each with its trigger and the referrer's persona. The dropped ones are spread over the last two years (a
    recent one makes its company "recently referred" for the targets engine, but none goes to a company a deal,
    an account, a planted target or decoy, a who-knows target or a competitor touches, so no planted truth
    moves). Own random stream: nothing else in the seed changes."""
    T = world.as_of
    persona = {c.email: c.persona for c in world.contacts}

    def trigger_and_persona(program: str, referrer: str) -> tuple[str, str]:
        if program != "customer":
            return PROGRAM_TRIGGER[program], program
        trigger = r.choices(list(CUSTOMER_TRIGGERS), list(CUSTOMER_TRIGGERS.values()))[0]
        return trigger, persona.get(referrer, "product_user")

    made: dict[str, int] = {}
    for o in sorted(world.opportunities, key=lambda o: o.opportunity_id):
        program = PROGRAM_OF_SOURCE.get(o.source)
        if not program or not o.referrer_email or o.created_at > T:
            continue
        trigger, who = trigger_and_persona(program, o.referrer_email)
        won = o.stage == "won" and o.closed_at is not None and o.closed_at <= T
        world.ledger.append({"key": o.opportunity_id, "program": program, "referrer_email": o.referrer_email,
                             "domain": o.domain, "company": o.account_name, "trigger": trigger, "persona": who,
                             "opportunity_id": o.opportunity_id, "reached": "won" if won else "opportunity"})
        made[program] = made.get(program, 0) + 1

    taken = ({o.domain for o in world.opportunities} | {p.domain for p in world.planted_people}
             | {a.domain for a in world.accounts} | set(world.icp.get("exclude_domains", [])) | set(world.who_knows))
    free = [c for c in prospects if c.domain not in taken]
    r.shuffle(free)
    live = [c for c in world.contacts if not c.dnc and not c.extra and not c.champion and not c.planted]
    members = [m for m in world.team if m.role in EMPLOYEE_ROLES]
    for program, (no_intro, no_meeting, no_deal) in DROPPED.items():
        n = made.get(program, 0)
        stages = (["approved"] * round(n * no_intro) + ["intro_sent"] * round(n * no_meeting)
                  + ["meeting"] * round(n * no_deal))
        for k, stage in enumerate(stages):
            if not free:
                return
            # old enough for its whole history (warmintro.demo.ledger) to have happened by as_of
            at = at_hour(T - timedelta(days=r.randint(SETTLED_DAYS[stage], 700)), r, 9, 18)
            if program == "customer":
                pool = [c for c in live if world.accounts[c.account].customer_since < at]
                referrer = r.choice(pool).email if pool else ""
            elif program == "partner":
                referrer = r.choice(world.partners).contact_email if world.partners else ""
            else:
                referrer = r.choices(members, [EMPLOYEE_ROLES[m.role] for m in members])[0].email if members else ""
            if not referrer:
                continue
            co = free.pop()
            trigger, who = trigger_and_persona(program, referrer)
            world.ledger.append({"key": f"{program}-dropped-{k + 1:04d}", "program": program,
                                 "referrer_email": referrer, "domain": co.domain, "company": co.name,
                                 "trigger": trigger, "persona": who, "opportunity_id": None, "reached": stage,
                                 "made_at": ts(at)})


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
        ledger = [e for e in world.ledger if e["program"] == program]
        n = len(ledger)
        row: dict[str, Any] = {
            "opportunities": sorted(o.opportunity_id for o in opps), "won": len(won),
            # `warmintro demo` records one ledger referral per tagged deal and the ones that dropped out before
            # a deal (warmintro.demo.ledger, plan_ledger)
            "referrals": n, "conversion": round(len(won) / n, 4) if n else None,
            "dropped_before_intro": sum(e["reached"] == "approved" for e in ledger),
            "dropped_before_meeting": sum(e["reached"] == "intro_sent" for e in ledger),
            "dropped_after_meeting": sum(e["reached"] == "meeting" for e in ledger),
            "won_customers": len({o.domain for o in won}),
            "pipeline": round(sum(o.amount for o in opps), 2), "won_revenue": round(sum(o.amount for o in won), 2),
            "payouts_at_close": None, "payouts_pending": None,
        }
        if program != "customer":  # customer rewards follow tiers per referrer: not planted here
            row["payouts_at_close"] = round(sum(_payout(program, o, partner_rate) for o in won), 2)
            row["payouts_pending"] = round(sum(_payout(program, o, partner_rate) for o in opps
                                               if o.stage not in ("won", "lost")), 2)
        # trailing 12 months: customers a year ago (a churned account's churn date is its renewal date), and
        # of those, the ones still customers now
        year_ago = T - timedelta(days=RETENTION_DAYS)
        cohort = [accounts[d] for d in sorted({o.domain for o in won} & set(accounts))
                  if accounts[d].customer_since <= year_ago
                  and not (accounts[d].stage == "churned" and accounts[d].renewal_date <= year_ago)]
        retained = [a for a in cohort if a.stage != "churned" or a.renewal_date > T]
        nrr = [a.nrr for a in cohort if a.nrr is not None]
        row["retention"] = {"accounts": len(cohort), "retained": len(retained),
                            "avg_nrr": round(sum(nrr) / len(nrr), 2) if nrr else None}
        out[program] = row
    return out
