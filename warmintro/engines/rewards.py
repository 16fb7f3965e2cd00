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

Issue 13 additions: a partner's rate follows its tier at the close (warmintro.engines.partners: own rate >
tier rate > kind default); double-sided customer rewards (`[rewards.customer] double_sided`) add a row for
the referee (`side` "referee"), never for deals at or above the enterprise deal size unless
`referee_enterprise`; every row has a stable `payout_id` (a hash of opportunity, referral, side and the
payment's number: 0 at close, n at the n-th anniversary), and a row marked paid in the store
(`mark_paid`, table payouts) reads `paid` (or `clawed_back` with its `paid_at` when the customer churned
after it was paid). Recomputing gives the same rows in the same order.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.engines.attribution import Credit, attribution
from warmintro.engines.partners import (
    find_partner,
    partner_closes,
    partner_rate,
    tier_for_partner,
    won_before,
)
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
    side: str = "referrer"  # referrer, or referee (double-sided customer rewards)
    recipient_email: str | None = None  # who is paid: the referrer, or the referee
    number: int = 0  # 0: at close; n: the n-th anniversary
    paid_at: datetime | None = None
    paid_by: str | None = None

    @property
    def payout_id(self) -> str:
        """Stable across recomputations: the same deal, referral, side and payment number, the same id."""
        key = f"{self.opportunity_id}|{self.referral_id or '-'}|{self.side}|{self.number}"
        return "PO-" + hashlib.sha1(key.encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        return {"referral_id": self.referral_id, "referrer_email": self.referrer_email, "program": self.program,
                "opportunity_id": self.opportunity_id, "kind": self.kind, "amount": self.amount,
                "due_at": iso(self.due_at), "status": self.status, "tier": self.tier, "note": self.note,
                "payout_id": self.payout_id, "side": self.side,
                "recipient_email": self.recipient_email or self.referrer_email, "paid_at": iso(self.paid_at),
                "paid_by": self.paid_by}


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
    closes = partner_closes(session, credits)
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
            partner = find_partner(session, referrer)
            ptier = None
            if partner is not None:  # the tier at the close (an open deal: the tier now)
                won_n = won_before(closes.get(partner.partner_id, []), closed or as_of, c.opportunity_id,
                                   rewards.partner.tier_window_days)
                ptier = tier_for_partner(partner, won_n, rewards.partner.tiers)
            rate, why = partner_rate(partner, ptier, rewards.partner)
            amount = round((c.amount or 0.0) * rate / 100, 2)
            out.append(Payout(**base, kind="recurring_share", amount=amount, due_at=closed, status=status,
                              tier=ptier.name if ptier else None, note=f"{rate:g}% of {c.amount or 0:,.0f} ({why})"))
            if won and closed is not None and not clawed and rewards.partner.recurring:
                out.extend(_anniversaries(base, amount, closed, churn.get(c.domain), as_of, rate,
                                          ptier.name if ptier else None))
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
        if program_kind == "customer" and r is not None:
            side = referee_reward(rewards, rules, c.amount)
            if side is not None:
                out.append(Payout(**base, kind=side[0], amount=side[1], due_at=closed, status=status,
                                  note="referee reward (double-sided)", side="referee",
                                  recipient_email=r.referee_email))
    return _with_paid(session, out)


def referee_reward(rewards: RewardRules, rules: Rules, amount: float | None) -> tuple[str, float] | None:
    """(kind, amount) the referee of a customer referral gets, or None: double-sided rewards are off by
    default, and off for deals at or above the enterprise deal size unless `referee_enterprise`."""
    cust = rewards.customer
    if not cust.double_sided or cust.referee_amount <= 0:
        return None
    if amount is not None and amount >= rules.enterprise_deal_size and not cust.referee_enterprise:
        return None
    return cust.referee_kind, round(cust.referee_amount, 2)


def _with_paid(session: Session, rows: list[Payout]) -> list[Payout]:
    """Overlay what the store says was paid (table payouts)."""
    paid = {p.payout_id: p for p in session.scalars(select(m.PayoutRecord))}
    for row in rows:
        rec = paid.get(row.payout_id)
        if rec is None:
            continue
        row.paid_at, row.paid_by = utc(rec.paid_at), rec.paid_by
        if row.status in ("due", "pending"):
            row.status = "paid"
    return rows


def mark_paid(session: Session, payout_id: str, *, as_of: datetime, by: str, reference: str | None = None
              ) -> Payout:
    """Record a due payout as paid (admin). Paying twice is a no-op that returns the paid row; a pending,
    clawed-back or unknown payout is refused."""
    from warmintro.errors import NotFoundError, WarmintroError

    as_of = utc(as_of)
    row = next((p for p in payouts(session, as_of) if p.payout_id == payout_id), None)
    if row is None:
        raise NotFoundError(f"no payout {payout_id!r} as of {iso(as_of)}")
    if row.status == "paid":
        return row
    if row.status != "due":
        raise WarmintroError(f"payout {payout_id} is {row.status}, not due: nothing to pay")
    session.add(m.PayoutRecord(payout_id=payout_id, referral_id=row.referral_id, opportunity_id=row.opportunity_id,
                               recipient_email=row.recipient_email or row.referrer_email, kind=row.kind,
                               amount=row.amount, due_at=row.due_at, paid_at=as_of, paid_by=by, reference=reference))
    session.add(m.AuditLog(at=as_of, actor=by, action="payout_paid", subject=payout_id,
                           detail={"amount": row.amount, "recipient": row.recipient_email or row.referrer_email,
                                   "reference": reference}))
    session.flush()
    row.status, row.paid_at, row.paid_by = "paid", as_of, by
    return row


CSV_COLUMNS = ("payout_id", "referral_id", "referrer_email", "recipient_email", "side", "program", "opportunity_id",
               "kind", "amount", "due_at", "status", "paid_at", "tier", "note")


def csv_cell(value: Any) -> str:
    """One CSV cell a spreadsheet opens safely: a value starting with = + - @ (or a tab / CR) gets a leading '
    so it is never read as a formula."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.2f}"
        return text  # numbers are numbers (a negative amount stays loadable)
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def payouts_csv(rows: list[Payout]) -> str:
    """The finance export: one row per payout, the columns of CSV_COLUMNS, formula-safe cells."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for p in rows:
        data = p.to_json()
        w.writerow([csv_cell(p.amount) if c == "amount" else csv_cell(data.get(c)) for c in CSV_COLUMNS])
    return buf.getvalue()


def _anniversaries(base: dict[str, Any], amount: float, closed: datetime, churn: _Churn | None, as_of: datetime,
                   rate: float, tier: str | None = None) -> list[Payout]:
    out = []
    years = 1
    while (due := _anniversary(closed, years)) <= as_of:
        if churn is not None and churn.churned and (churn.at is None or churn.at <= due):
            break  # no longer a customer at this anniversary
        out.append(Payout(**base, kind="recurring_share", amount=amount, due_at=due, status="due", tier=tier,
                          note=f"anniversary {years}: {rate:g}%", number=years))
        years += 1
    return out


def _partner_rate(session: Session, referrer: str, rewards: RewardRules) -> tuple[float, str]:
    """The rate without tiers (kept for callers of the ledger issue's API)."""
    return partner_rate(find_partner(session, referrer), None, rewards.partner)


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
        if p.side != "referrer":
            continue  # the referee's own reward (double-sided) is not the referrer's
        row = rows.setdefault(p.referrer_email, {"referrer_email": p.referrer_email, "program": p.program,
                                                 "successful_referrals": 0, "tier": None, "next_tier_at": None,
                                                 "amount_due": 0.0, "amount_pending": 0.0, "amount_clawed_back": 0.0,
                                                 "amount_paid": 0.0, "payouts": []})
        row["payouts"].append(p.to_json())
        if p.status in ("due", "paid"):
            key = "amount_due" if p.status == "due" else "amount_paid"
            row[key] = round(row[key] + p.amount, 2)
            if p.number == 0:
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
