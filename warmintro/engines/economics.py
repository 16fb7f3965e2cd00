"""Program economics (issue 13): per program (customer, partner, employee), referrals, conversion, pipeline
and won revenue, payouts, and referral CAC beside the paid and organic CAC from program.toml `[economics]`;
the 12-month retention and expansion of referred customers against the rest.

- Referral CAC = (payouts due or paid, clawed-back ones excluded + `time_cost_per_referral` x referrals +
  the program's share of `platform_cost`, split by referrals) / won customers (distinct won domains the
  program's referrals sourced).
- Retention (trailing 12 months, what a board reads as logo retention): the customers of `retention_days`
  (365) before as_of — started by then and not churned by then — and of those, the share still customers at
  as_of. The churn date is the account's `extra["churned_at"]`, else its renewal date; a churned account with
  neither counts as in the cohort and not retained.
- Expansion: the average NRR (accounts.csv `nrr`) where known, and ARR growth: ARR at 12 months (the
  `extra["arr_history"]` entry [{at, arr}] nearest after `retention_days`, else the current ARR) over the
  first won deal's amount at the domain (else the first ARR history entry).
- Referred customers: accounts whose domain has a won opportunity a referral sourced.

The seeds' reference points are returned as context text (`reference`), never as results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.engines.timeutil import utc
from warmintro.program import Economics
from warmintro.store import models as m

PROGRAMS = ("customer", "partner", "employee")
REFERENCE = (
    "Reference points from the seeds (context, not results): referral CAC is typically 30-50% below paid CAC; "
    "referred leads close at 3-5x the rate of cold outbound; a healthy program gets 10-20% of its pipeline "
    "from referrals."
)


def _ratio(a: float, b: float) -> float | None:
    return None if not b else round(a / b, 4)


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def program_economics(*, referrals: Sequence[tuple[str, datetime]], credits: Sequence[Any],
                      payouts: Sequence[Any], config: Economics, as_of: datetime,
                      outbound: tuple[int, int] | None = None) -> dict[str, Any]:
    """Per-program rows and the comparison. `referrals`: (program, created_at); `credits`: attribution
    credits; `payouts`: rewards.Payout rows; `outbound`: (opportunities, won) of outbound-sourced deals."""
    as_of = utc(as_of)
    refs = [(p, utc(t)) for p, t in referrals if utc(t) <= as_of]
    total_refs = len(refs)
    rows: dict[str, dict[str, Any]] = {}
    for prog in PROGRAMS:
        n = sum(p == prog for p, _ in refs)
        sourced = [c for c in credits if c.credit == "sourced" and (c.program or "customer") == prog]
        won = [c for c in sourced if c.stage == "won"]
        paid = round(sum(p.amount for p in payouts if p.program == prog and p.status in ("due", "paid")), 2)
        pending = round(sum(p.amount for p in payouts if p.program == prog and p.status == "pending"), 2)
        time_cost = round(config.time_cost_per_referral * n, 2)
        platform = round(config.platform_cost * n / total_refs, 2) if total_refs else 0.0
        customers = len({c.domain for c in won})
        cost = round(paid + time_cost + platform, 2)
        rows[prog] = {
            "referrals": n, "opportunities": len(sourced), "won": len(won), "won_customers": customers,
            "conversion": _ratio(len(won), n), "close_rate": _ratio(len(won), len(sourced)),
            "pipeline": round(sum(c.amount or 0.0 for c in sourced), 2),
            "won_revenue": round(sum(c.amount or 0.0 for c in won), 2),
            "payouts": paid, "payouts_pending": pending, "time_cost": time_cost, "platform_cost": platform,
            "cost": cost, "cac": None if not customers else round(cost / customers, 2),
        }
    total_cost = round(sum(r["cost"] for r in rows.values()), 2)
    total_customers = len({c.domain for c in credits if c.credit == "sourced" and c.stage == "won"})
    total_opps = sum(r["opportunities"] for r in rows.values())
    total_won = sum(r["won"] for r in rows.values())
    referral_cac = None if not total_customers else round(total_cost / total_customers, 2)
    outbound_rate = _ratio(outbound[1], outbound[0]) if outbound and outbound[0] else config.outbound_close_rate
    referral_close = _ratio(total_won, total_opps)
    return {
        "programs": rows,
        "cac": {
            "referral": referral_cac, "paid": config.paid_cac, "organic": config.organic_cac,
            "referral_vs_paid": (None if referral_cac is None or not config.paid_cac
                                 else round(1 - referral_cac / config.paid_cac, 4)),
            "referral_vs_organic": (None if referral_cac is None or not config.organic_cac
                                    else round(1 - referral_cac / config.organic_cac, 4)),
            "cost": total_cost, "won_customers": total_customers,
        },
        "close_rate": {"referral": referral_close, "outbound": outbound_rate,
                       "multiple": (None if referral_close is None or not outbound_rate
                                    else round(referral_close / outbound_rate, 2))},
        "reference": REFERENCE,
    }


def retention(session: Session, as_of: datetime, referred_domains: dict[str, str], days: int = 365
              ) -> dict[str, Any]:
    """12-month retention and expansion of referred customers (by program and together) vs the rest.
    `referred_domains`: domain -> the program whose referral sourced its first won deal."""
    as_of = utc(as_of)
    window = timedelta(days=days)
    first_deal: dict[str, tuple[datetime, float]] = {}
    for o in session.scalars(select(m.Opportunity).where(m.Opportunity.stage == "won")):
        closed = utc(o.closed_at or o.created_at)
        d = o.domain.lower()
        if closed <= as_of and o.amount and (d not in first_deal or closed < first_deal[d][0]):
            first_deal[d] = (closed, float(o.amount))
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in session.scalars(select(m.Account).order_by(m.Account.account_id)):
        if a.customer_since is None or utc(a.customer_since) > as_of - window:
            continue  # not a customer a year ago: not in the cohort
        start = utc(a.customer_since)
        extra = a.extra or {}
        churned = a.lifecycle_stage == "churned"
        churned_at = _parse(extra.get("churned_at")) or (utc(a.renewal_date) if churned and a.renewal_date else None)
        if churned and churned_at is not None and churned_at <= as_of - window:
            continue  # already gone a year ago
        retained = not churned or (churned_at is not None and churned_at > as_of)
        history = sorted(((t, float(h["arr"])) for h in extra.get("arr_history") or []
                          if isinstance(h, dict) and (t := _parse(h.get("at"))) is not None and h.get("arr") is not None),
                         key=lambda x: x[0])
        later = [v for t, v in history if t >= start + window]
        arr_12 = later[0] if later else (a.arr if retained else 0.0)
        deal = first_deal.get(a.domain.lower())
        initial = deal[1] if deal else (history[0][1] if history else None)
        growth = None if not initial or arr_12 is None else arr_12 / initial - 1
        program = referred_domains.get(a.domain.lower())
        row = {"retained": retained, "nrr": a.nrr, "growth": growth}
        groups[program or "rest"].append(row)
        if program:
            groups["referred"].append(row)

    def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
        nrr = [r["nrr"] for r in rows if r["nrr"] is not None]
        growth = [r["growth"] for r in rows if r["growth"] is not None]
        return {"accounts": len(rows), "retained": sum(r["retained"] for r in rows),
                "retention": _ratio(sum(r["retained"] for r in rows), len(rows)),
                "avg_nrr": round(sum(nrr) / len(nrr), 2) if nrr else None,
                "arr_growth": round(sum(growth) / len(growth), 4) if growth else None}

    keys = ("referred", "rest", *PROGRAMS)
    return {"days": days, **{k: summary(groups.get(k, [])) for k in keys}}


def store_economics(session: Session, as_of: datetime, credits: Sequence[Any]) -> dict[str, Any]:
    """The economics section of `program_report` from the store."""
    from warmintro.engines.rewards import payouts
    from warmintro.program import load_program

    as_of = utc(as_of)
    config = load_program(session).economics
    refs = [(p, utc(t)) for p, t in session.execute(select(m.Referral.program, m.Referral.created_at))]
    rows = payouts(session, as_of, credits=list(credits))
    outbound = [o for o in session.scalars(select(m.Opportunity))
                if (o.source or "").strip().lower() == "outbound" and utc(o.created_at) <= as_of]
    out_won = sum(o.stage == "won" and (o.closed_at is None or utc(o.closed_at) <= as_of) for o in outbound)
    data = program_economics(referrals=refs, credits=credits, payouts=rows, config=config, as_of=as_of,
                             outbound=(len(outbound), out_won) if outbound else None)
    referred: dict[str, str] = {}
    for c in sorted((c for c in credits if c.credit == "sourced" and c.stage == "won"),
                    key=lambda c: (c.closed_at or c.created_at or as_of, c.opportunity_id)):
        referred.setdefault(c.domain.lower(), c.program or "customer")
    data["retention"] = retention(session, as_of, referred, config.retention_days)
    return data
