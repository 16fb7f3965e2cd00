"""Attribution: which referral, if any, gets the credit for each opportunity.

The rules (product.md engine 8, contract "attribution"):
- account-level: a referral matches every opportunity at the referee's domain;
- the window is `attribution_days` (90), or `attribution_days_enterprise` (180) for a deal whose amount is at
  least `enterprise_deal_size` (100,000); both ends are inclusive (a referral exactly 90 days before the
  opportunity was created still sources it);
- "sourced": the latest eligible referral made at most the window before the opportunity was created;
- "influenced": no referral sourced it, but one was made while the opportunity was already open (it existed
  before the referral), or the opportunity's account was already a customer when the referral was made;
- "none": nothing in the window; a self-referral (the referrer's own domain) never earns credit.

An opportunity the CRM tagged with a referrer_email (opportunities.csv) counts as a referral made when the
opportunity was created, below any ledger referral: it sources the deal (reason "crm_referrer", with the
CRM's referral_id) only when no ledger referral does, and the self-referral and existing-customer rules apply
to it too.

Only referrals that reached "approved" (an intro the champion agreed to) count; suggested, asked, declined
and no-response referrals never made an introduction. Everything is evaluated as of a moment: referrals
and opportunities created later are ignored, and a deal closed later is still open.

`attribute()` is pure (plain rows in, credits out); `attribution(session, as_of)` loads the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.engines.referrers import infer_program
from warmintro.engines.timeutil import iso, utc
from warmintro.program import Rules, load_program
from warmintro.store import models as m

CREDITS = ("sourced", "influenced", "none")
# Statuses at or beyond an approved intro; a referral counts once it reached one of them.
INTRO_STATUSES = frozenset({"approved", "intro_sent", "meeting", "opportunity", "won", "lost"})


@dataclass(frozen=True)
class ReferralRow:
    referral_id: str
    referrer_email: str
    referee_domain: str
    created_at: datetime
    program: str = "customer"
    # The referrer's own domains (email domain and, for a customer contact, their account's domain).
    referrer_domains: frozenset[str] = frozenset()
    made_intro: bool = True  # reached approved or later


@dataclass(frozen=True)
class OpportunityRow:
    opportunity_id: str
    domain: str
    stage: str
    created_at: datetime
    amount: float | None = None
    closed_at: datetime | None = None
    # The CRM's own tag, when the export carries one (see the module docstring).
    referrer_email: str | None = None
    referrer_domains: frozenset[str] = frozenset()
    referrer_program: str | None = None
    referral_id: str | None = None


@dataclass
class Credit:
    opportunity_id: str
    credit: str
    referral_id: str | None
    referrer_email: str | None
    reason: str
    explanation: str
    window_days: int
    domain: str
    amount: float | None
    stage: str
    program: str | None = None
    created_at: datetime | None = None
    closed_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"opportunity_id": self.opportunity_id, "credit": self.credit, "referral_id": self.referral_id,
                "referrer_email": self.referrer_email, "reason": self.reason, "explanation": self.explanation,
                "window_days": self.window_days, "domain": self.domain, "amount": self.amount, "stage": self.stage,
                "program": self.program, "created_at": iso(self.created_at), "closed_at": iso(self.closed_at)}


def stage_as_of(stage: str, closed_at: datetime | None, as_of: datetime) -> str:
    """A won or lost deal closed after `as_of` was still open then."""
    if stage in ("won", "lost") and closed_at is not None and utc(closed_at) > as_of:
        return "open"
    return stage


def window_days(amount: float | None, rules: Rules) -> int:
    if amount is not None and amount >= rules.enterprise_deal_size:
        return rules.attribution_days_enterprise
    return rules.attribution_days


def _latest(rows: list[ReferralRow]) -> ReferralRow:
    return max(rows, key=lambda r: (r.created_at, r.referral_id))


def attribute(opportunities: Iterable[OpportunityRow], referrals: Iterable[ReferralRow], *, as_of: datetime,
              rules: Rules, customer_since: Mapping[str, datetime] | None = None) -> list[Credit]:
    """Credit each opportunity created by `as_of`. `customer_since` maps a domain that is (still) a customer to
    when it became one: a referral into an account that was already a customer is at most "influenced"."""
    as_of = utc(as_of)
    customers = {d: utc(t) for d, t in (customer_since or {}).items()}
    by_domain: dict[str, list[ReferralRow]] = defaultdict(list)
    for r in referrals:
        if r.made_intro and utc(r.created_at) <= as_of:
            by_domain[r.referee_domain.lower()].append(r)
    credits: list[Credit] = []
    for o in sorted(opportunities, key=lambda o: (utc(o.created_at), o.opportunity_id)):
        created = utc(o.created_at)
        if created > as_of:
            continue
        closed = utc(o.closed_at) if o.closed_at is not None and utc(o.closed_at) <= as_of else None
        domain = o.domain.lower()
        days = window_days(o.amount, rules)
        window = timedelta(days=days)

        def make(credit: str, r: ReferralRow | None, reason: str, text: str, *, o: OpportunityRow = o,
                 domain: str = domain, days: int = days, closed: datetime | None = closed) -> Credit:
            return Credit(o.opportunity_id, credit, r.referral_id if r else None, r.referrer_email if r else None,
                          reason, text, days, domain, o.amount, stage_as_of(o.stage, o.closed_at, as_of),
                          r.program if r else None, utc(o.created_at), closed)

        candidates = list(by_domain.get(domain, []))
        tag = None
        if o.referrer_email:
            tag = ReferralRow(o.referral_id or "", o.referrer_email, domain, created, o.referrer_program or "customer",
                              o.referrer_domains or frozenset({o.referrer_email.rsplit("@", 1)[-1].lower()}))
            candidates.append(tag)
        if not candidates:
            credits.append(make("none", None, "no_referral", f"no referral into {domain} by {iso(as_of)}"))
            continue
        valid = [r for r in candidates if domain not in {d.lower() for d in r.referrer_domains}]
        if not valid:
            r = _latest(candidates)
            credits.append(make("none", None, "self_referral",
                                f"{r.referrer_email} referred their own company ({domain}); self-referrals earn no credit"))
            continue
        ledger = [r for r in valid if r is not tag]
        sourcing = [r for r in ledger if utc(r.created_at) <= created and created - utc(r.created_at) <= window]
        if not sourcing and tag is not None and tag in valid:
            since = customers.get(domain)
            if since is not None and since <= created:
                credits.append(make("influenced", tag, "existing_customer",
                                    f"{domain} was already a customer when the CRM's referral came"))
            else:
                credits.append(make("sourced", tag, "crm_referrer",
                                    f"the CRM records {tag.referrer_email} as the referrer and the ledger has no "
                                    "referral that sourced it"))
            credits[-1].referral_id = tag.referral_id or None
            continue
        valid = ledger
        if sourcing:
            r = _latest(sourcing)
            age = (created - utc(r.created_at)).total_seconds() / 86400
            since = customers.get(domain)
            if since is not None and since <= utc(r.created_at):
                credits.append(make("influenced", r, "existing_customer",
                                    f"{domain} was already a customer when {r.referral_id} was made"))
            else:
                credits.append(make("sourced", r, "in_window",
                                    f"{r.referral_id} came {age:g} days before the opportunity "
                                    f"(window {days} days); the latest referral in the window wins"))
            continue
        influencing = [r for r in valid if utc(r.created_at) > created and (closed is None or utc(r.created_at) <= closed)]
        if influencing:
            r = _latest(influencing)
            credits.append(make("influenced", r, "pre_existing_opportunity",
                                f"the opportunity existed before {r.referral_id} (created {iso(created)})"))
            continue
        if all(closed is not None and utc(r.created_at) > closed for r in valid):
            credits.append(make("none", None, "referral_after_close", "every referral came after the deal closed"))
        else:
            latest = _latest([r for r in valid if utc(r.created_at) <= created])
            gap = (created - utc(latest.created_at)).total_seconds() / 86400
            credits.append(make("none", None, "outside_window",
                                f"the latest referral ({latest.referral_id}) came {gap:g} days before the opportunity, "
                                f"outside the {days}-day window"))
    return credits


def load_referral_rows(session: Session) -> list[ReferralRow]:
    contact_domain: dict[str, str] = {
        email: domain for email, domain in session.execute(
            select(m.Contact.email, m.Account.domain).join(m.Account, m.Account.account_id == m.Contact.account_id))}
    reached: dict[str, set[str]] = defaultdict(set)
    for rid, status in session.execute(select(m.ReferralEvent.referral_id, m.ReferralEvent.status)):
        reached[rid].add(status)
    rows = []
    for r in session.scalars(select(m.Referral)):
        domains = {r.referrer_email.rsplit("@", 1)[-1].lower()}
        if r.referrer_email in contact_domain:
            domains.add(contact_domain[r.referrer_email].lower())
        statuses = reached[r.referral_id] | {r.status}
        rows.append(ReferralRow(r.referral_id, r.referrer_email, (r.referee_domain or "").lower(), utc(r.created_at),
                                r.program, frozenset(domains), bool(statuses & INTRO_STATUSES)))
    return rows


def load_opportunity_rows(session: Session) -> list[OpportunityRow]:
    contact_domain: dict[str, str] = {
        email: domain for email, domain in session.execute(
            select(m.Contact.email, m.Account.domain).join(m.Account, m.Account.account_id == m.Contact.account_id))}
    rows = []
    programs: dict[str, str] = {}
    for o in session.scalars(select(m.Opportunity)):
        tag = (o.referrer_email or "").strip().lower() or None
        domains: frozenset[str] = frozenset()
        if tag:
            domains = frozenset({tag.rsplit("@", 1)[-1]} | ({contact_domain[tag].lower()} if tag in contact_domain else set()))
            if tag not in programs:
                programs[tag] = infer_program(session, tag)
        rows.append(OpportunityRow(o.opportunity_id, o.domain, o.stage, utc(o.created_at), o.amount,
                                   utc(o.closed_at) if o.closed_at else None, tag, domains,
                                   programs.get(tag) if tag else None, o.referral_id or None))
    return rows


def customer_since_by_domain(session: Session) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for a in session.scalars(select(m.Account).where(m.Account.customer_since.is_not(None))):
        if a.lifecycle_stage != "churned" and a.customer_since is not None:
            d = a.domain.lower()
            out[d] = min(out.get(d, utc(a.customer_since)), utc(a.customer_since))
    return out


def attribution(session: Session, as_of: datetime) -> list[Credit]:
    """Credits for every opportunity in the store created by `as_of`, oldest first."""
    rules = load_program(session).rules
    return attribute(load_opportunity_rows(session), load_referral_rows(session), as_of=as_of, rules=rules,
                     customer_since=customer_since_by_domain(session))
