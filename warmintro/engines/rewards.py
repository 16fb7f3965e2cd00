"""Rewards and payouts (contract "Programs and payouts"; program.toml `[rewards]`, see warmintro.program).

Only an opportunity a referral *sourced* (the attribution engine; a CRM-tagged referrer included) earns a
payout, and only for that referral:
- customer: tiers by the referrer's count of successful (won, not clawed back) referrals — by default
  from the 1st, 5th and 10th on — each success earning its tier's reward; a referrer at an enterprise-size
  account (employees >= enterprise_employees, or ARR >= the enterprise deal size) gets `non_cash` by default;
- partner: `recurring_share` of the won amount — the partner's own commission_rate, else 25% for an
  implementation partner and 15% for any other kind — due at close and at each anniversary while the account
  stays a customer;
- employee: a `one_time_fee` of 1,000 below the enterprise deal size and 3,000 at or above it, due at close.
Due when the deal is won (closed_at); an open sourced deal shows as `pending`; nothing for a lost one. If the
referred customer churns within `clawback_days` (90) of the close, the payout is `clawed_back`. The churn date
is read from the account's `extra["churned_at"]` when present; without it, a churned account counts as
churned within the window only when the close was at most that long before `as_of`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.engines.attribution import Credit, attribution
from warmintro.engines.timeutil import iso, utc
from warmintro.program import RewardRules, RewardTier, Rules, load_program
from warmintro.store import models as m

KINDS = ("recurring_share", "one_time_fee", "bonus", "credit", "non_cash", "donation")
STATUSES = ("pending", "due", "paid", "clawed_back")


@dataclass
class Payout:
    referral_id: str | None  # None for a deal only the CRM tagged with its referrer
    referrer_email: str
    program: str
    opportunity_id: str
    kind: str
    amount: float
    due_at: datetime | None
    status: str
    tier: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"referral_id": self.referral_id, "referrer_email": self.referrer_email, "program": self.program,
                "opportunity_id": self.opportunity_id, "kind": self.kind, "amount": self.amount,
                "due_at": iso(self.due_at), "status": self.status, "tier": self.tier, "note": self.note}


def tier_for(n: int, tiers: list[RewardTier]) -> RewardTier | None:
    """The tier the n-th successful referral falls in (the highest `at` <= n)."""
    best = None
    for t in sorted(tiers, key=lambda t: t.at):
        if t.at <= n:
            best = t
    return best


def _anniversary(start: datetime, years: int) -> datetime:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


@dataclass(frozen=True)
class _Churn:
    churned: bool
    at: datetime | None


def _churn_by_domain(session: Session) -> dict[str, _Churn]:
    out: dict[str, _Churn] = {}
    for a in session.scalars(select(m.Account)):
        churned = a.lifecycle_stage == "churned"
        prev = out.get(a.domain.lower())
        if prev is not None and not prev.churned:
            continue  # another account at the domain is still a customer
        out[a.domain.lower()] = _Churn(churned, _parse((a.extra or {}).get("churned_at")) if churned else None)
    return out


def _clawed(closed: datetime, churn: _Churn | None, as_of: datetime, days: int) -> bool:
    if churn is None or not churn.churned:
        return False
    window = timedelta(days=days)
    if churn.at is not None:
        return churn.at <= as_of and churn.at - closed <= window
    return as_of - closed <= window


def payouts(session: Session, as_of: datetime, *, credits: list[Credit] | None = None) -> list[Payout]:
    as_of = utc(as_of)
    program = load_program(session)
    rules, rewards = program.rules, program.reward_rules
    credits = attribution(session, as_of) if credits is None else credits
    sourced = [c for c in credits if c.credit == "sourced" and c.referrer_email and c.stage != "lost"]
    referrals = {r.referral_id: r for r in session.scalars(
        select(m.Referral).where(m.Referral.referral_id.in_([c.referral_id for c in sourced])))}
    churn = _churn_by_domain(session)
    # the order successes happen in decides customer tiers
    sourced.sort(key=lambda c: (c.closed_at or as_of + timedelta(days=1), c.created_at or as_of, c.opportunity_id))
    successes: dict[str, int] = defaultdict(int)
    out: list[Payout] = []
    for c in sourced:
        r = referrals.get(c.referral_id or "")
        # a deal the CRM tagged with its referrer (no ledger referral): the tag's referrer and program
        referrer, program_kind = (r.referrer_email, r.program) if r else (c.referrer_email or "", c.program or "customer")
        won = c.stage == "won"
        closed = c.closed_at or c.created_at if won else None
        clawed = won and closed is not None and _clawed(closed, churn.get(c.domain), as_of, rewards.clawback_days)
        status = "pending" if not won else ("clawed_back" if clawed else "due")
        base: dict[str, Any] = {"referral_id": c.referral_id, "referrer_email": referrer, "program": program_kind,
                                "opportunity_id": c.opportunity_id}
        if program_kind == "partner":
            rate, why = _partner_rate(session, referrer, rewards)
            amount = round((c.amount or 0.0) * rate / 100, 2)
            out.append(Payout(**base, kind="recurring_share", amount=amount, due_at=closed, status=status,
                              note=f"{rate:g}% of {c.amount or 0:,.0f} ({why})"))
            if won and closed is not None and not clawed and rewards.partner.recurring:
                out.extend(_anniversaries(base, amount, closed, churn.get(c.domain), as_of, rate))
        elif program_kind == "employee":
            big = (c.amount or 0.0) >= rules.enterprise_deal_size
            fee = rewards.employee.enterprise_fee if big else rewards.employee.fee
            out.append(Payout(**base, kind="one_time_fee", amount=round(fee, 2), due_at=closed, status=status,
                              note="enterprise-size deal" if big else None))
        else:
            n = successes[referrer] + 1
            if won and not clawed:
                successes[referrer] = n
            tier = tier_for(n, rewards.customer.tiers)
            if tier is None:
                continue
            enterprise = _enterprise_referrer(session, referrer, rules, rewards)
            kind = rewards.customer.enterprise_kind if enterprise else tier.kind
            out.append(Payout(**base, kind=kind, amount=round(tier.amount, 2), due_at=closed, status=status,
                              tier=tier.name, note=f"successful referral #{n}" + (
                                  "; enterprise-size account" if enterprise else "")))
    return out


def _anniversaries(base: dict[str, Any], amount: float, closed: datetime, churn: _Churn | None, as_of: datetime,
                   rate: float) -> list[Payout]:
    out = []
    years = 1
    while (due := _anniversary(closed, years)) <= as_of:
        if churn is not None and churn.churned and (churn.at is None or churn.at <= due):
            break  # no longer a customer at this anniversary
        out.append(Payout(**base, kind="recurring_share", amount=amount, due_at=due, status="due",
                          note=f"anniversary {years}: {rate:g}%"))
        years += 1
    return out


def _partner_rate(session: Session, referrer: str, rewards: RewardRules) -> tuple[float, str]:
    domain = referrer.rsplit("@", 1)[-1]
    partner = session.scalars(select(m.Partner).where(m.Partner.contact_email == referrer)).first() or \
        session.scalars(select(m.Partner).where(m.Partner.domain == domain).order_by(m.Partner.partner_id)).first()
    if partner is None:
        return rewards.partner.default_rate, "no partner record: the default rate"
    if partner.commission_rate is not None:
        return partner.commission_rate, f"{partner.name}'s own rate"
    if partner.kind == "implementation":
        return rewards.partner.implementation_rate, f"{partner.name}, implementation partner"
    return rewards.partner.default_rate, f"{partner.name}, {partner.kind} partner"


def _enterprise_referrer(session: Session, referrer: str, rules: Rules, rewards: RewardRules) -> bool:
    contact = session.scalars(select(m.Contact).where(m.Contact.email == referrer)).first()
    account = session.get(m.Account, contact.account_id) if contact is not None else None
    if account is None:
        return False
    return ((account.employees or 0) >= rewards.customer.enterprise_employees
            or (account.arr or 0.0) >= rules.enterprise_deal_size)


def referrer_rewards(session: Session, as_of: datetime) -> list[dict[str, Any]]:
    """Per referrer: program, successful referrals, current tier and the next one, amounts, payouts."""
    rewards = load_program(session).reward_rules
    rows: dict[str, dict[str, Any]] = {}
    for p in payouts(session, as_of):
        row = rows.setdefault(p.referrer_email, {"referrer_email": p.referrer_email, "program": p.program,
                                                 "successful_referrals": 0, "tier": None, "next_tier_at": None,
                                                 "amount_due": 0.0, "amount_pending": 0.0, "amount_clawed_back": 0.0,
                                                 "payouts": []})
        row["payouts"].append(p.to_json())
        if p.status == "due":
            row["amount_due"] = round(row["amount_due"] + p.amount, 2)
            if not (p.note or "").startswith("anniversary"):
                row["successful_referrals"] += 1
        elif p.status == "pending":
            row["amount_pending"] = round(row["amount_pending"] + p.amount, 2)
        elif p.status == "clawed_back":
            row["amount_clawed_back"] = round(row["amount_clawed_back"] + p.amount, 2)
    for row in rows.values():
        if row["program"] == "customer":
            n = row["successful_referrals"]
            tier = tier_for(n, rewards.customer.tiers)
            row["tier"] = tier.name if tier else None
            row["next_tier_at"] = next((t.at for t in rewards.customer.tiers if t.at > n), None)
    return sorted(rows.values(), key=lambda r: (-r["successful_referrals"], r["referrer_email"]))


def csv_cell(value: Any) -> str:
    """One CSV cell a spreadsheet opens safely: a value starting with = + - @ (or a tab / CR) gets a leading '
    so it is never read as a formula."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"  # numbers are numbers (a negative amount stays loadable)
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text
