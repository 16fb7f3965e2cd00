"""The partner program (issue 13): who a partner is, their tier and commission rate, the quality of their
leads, and the qualification a partner's lead passes at submission.

- A partner is a partners.csv row; a referrer belongs to it by its contact_email, else by its domain.
- Tier: the highest configured tier (program.toml `[rewards.partner] tiers`, lowest first) whose `min_won`
  the partner reaches with won, sourced deals closed in the `tier_window_days` (365) before a moment, and
  whose certification it has when the tier asks for one. A tier named in partners.csv is a floor.
- Rate (percent of the won amount): the partner's own commission_rate, else its tier's rate, else 25% for
  an implementation partner and 15% for any other kind (the contract's defaults).
- Quality: of the partner's matured leads (older than `[qualification] mature_days`), the share that
  reached a meeting and the share that reached an opportunity.
- Qualification: a lead whose company is known and outside the ICP, or from a partner with enough history
  below the quality bar, is held for review (referral status `held`) with the reasons.

Everything here is deterministic: the same store and moment give the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from warmintro.engines.attribution import attribution
from warmintro.engines.timeutil import utc
from warmintro.program import ICP, PartnerRewards, PartnerTier, Program, Qualification, load_program
from warmintro.store import models as m

# Ranks for "the furthest stage a referral reached" (held and declined count as nothing reached).
REACHED = {s: i for i, s in enumerate(("suggested", "asked", "approved", "intro_sent", "meeting", "opportunity",
                                        "won"))}


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def find_partner(session: Session, email: str) -> m.Partner | None:
    """The partner a referrer belongs to: by contact_email, else by domain (lowest partner_id first)."""
    email = email.strip().lower()
    partner = session.scalars(select(m.Partner).where(m.Partner.contact_email == email)
                              .order_by(m.Partner.partner_id)).first()
    if partner is not None:
        return partner
    return session.scalars(select(m.Partner).where(m.Partner.domain == _domain(email))
                           .order_by(m.Partner.partner_id)).first()


def partner_referrals(session: Session, partner: m.Partner) -> list[m.Referral]:
    """The partner's referrals (partner program, by its contact or anyone at its domain), oldest first."""
    conds: list[Any] = [m.Referral.referrer_email.like(f"%@{partner.domain}")]
    if partner.contact_email:
        conds.append(m.Referral.referrer_email == partner.contact_email)
    return list(session.scalars(select(m.Referral).where(m.Referral.program == "partner", or_(*conds))
                                .order_by(m.Referral.created_at, m.Referral.referral_id)))


def reached_stages(session: Session, referral_ids: Sequence[str]) -> dict[str, int]:
    """The furthest stage (REACHED rank) each referral reached, from its events and its status."""
    out: dict[str, int] = {rid: -1 for rid in referral_ids}
    if not referral_ids:
        return out
    for rid, status in session.execute(select(m.ReferralEvent.referral_id, m.ReferralEvent.status)
                                       .where(m.ReferralEvent.referral_id.in_(list(referral_ids)))):
        out[rid] = max(out[rid], REACHED.get(status, -1))
    return out


# --- tiers and rates -----------------------------------------------------------------------------------

def tier_for_partner(partner: m.Partner, won: int, tiers: Sequence[PartnerTier]) -> PartnerTier | None:
    """The highest tier reached (tiers are lowest first); a tier named in partners.csv is a floor."""
    best_i = -1
    for i, t in enumerate(tiers):
        if won >= t.min_won and (not t.certified or bool(partner.certified)):
            best_i = i
    named = (partner.tier or "").strip().lower()
    for i, t in enumerate(tiers):
        if t.name.lower() == named:
            best_i = max(best_i, i)
    return tiers[best_i] if best_i >= 0 else None


def partner_rate(partner: m.Partner | None, tier: PartnerTier | None, rewards: PartnerRewards) -> tuple[float, str]:
    """(percent, why): own commission_rate, else the tier's rate, else the kind's default."""
    if partner is None:
        return rewards.default_rate, "no partner record: the default rate"
    if partner.commission_rate is not None:
        return partner.commission_rate, f"{partner.name}'s own rate"
    if tier is not None and tier.rate is not None:
        return tier.rate, f"{partner.name}, {tier.name} tier"
    if partner.kind == "implementation":
        return rewards.implementation_rate, f"{partner.name}, implementation partner"
    return rewards.default_rate, f"{partner.name}, {partner.kind} partner"


def won_before(closes: Iterable[tuple[datetime, str]], at: datetime, opportunity_id: str | None, days: int) -> int:
    """How many of (closed_at, opportunity_id) closed in the `days` before `at` (earlier deals only; a deal
    closed at the same moment counts when its id sorts first), so a deal's own tier never depends on itself."""
    at = utc(at)
    start = at - timedelta(days=days)
    n = 0
    for closed, oid in closes:
        closed = utc(closed)
        if start < closed < at or (closed == at and opportunity_id is not None and oid < opportunity_id):
            n += 1
    return n


# --- quality -------------------------------------------------------------------------------------------

@dataclass
class Quality:
    leads: int = 0
    matured: int = 0
    meetings: int = 0
    opportunities: int = 0
    meeting_rate: float | None = None
    opportunity_rate: float | None = None
    below_bar: bool = False
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"leads": self.leads, "matured": self.matured, "meetings": self.meetings,
                "opportunities": self.opportunities, "meeting_rate": self.meeting_rate,
                "opportunity_rate": self.opportunity_rate, "below_bar": self.below_bar, "reasons": self.reasons}


def partner_quality(session: Session, partner: m.Partner, as_of: datetime, q: Qualification) -> Quality:
    as_of = utc(as_of)
    refs = [r for r in partner_referrals(session, partner) if utc(r.created_at) <= as_of]
    matured = [r for r in refs if as_of - utc(r.created_at) >= timedelta(days=q.mature_days)]
    reached = reached_stages(session, [r.referral_id for r in matured])
    for r in matured:
        reached[r.referral_id] = max(reached[r.referral_id], REACHED.get(r.status, -1))
    out = Quality(leads=len(refs), matured=len(matured))
    out.meetings = sum(v >= REACHED["meeting"] for v in reached.values())
    out.opportunities = sum(v >= REACHED["opportunity"] for v in reached.values())
    if matured:
        out.meeting_rate = round(out.meetings / len(matured), 4)
        out.opportunity_rate = round(out.opportunities / len(matured), 4)
    if len(matured) >= q.min_history:
        assert out.meeting_rate is not None and out.opportunity_rate is not None
        if out.meeting_rate < q.min_meeting_rate:
            out.reasons.append(f"{partner.name}: {out.meetings} of {len(matured)} leads reached a meeting "
                               f"({out.meeting_rate:.0%}; the bar is {q.min_meeting_rate:.0%})")
        if out.opportunity_rate < q.min_opportunity_rate:
            out.reasons.append(f"{partner.name}: {out.opportunities} of {len(matured)} leads reached an opportunity "
                               f"({out.opportunity_rate:.0%}; the bar is {q.min_opportunity_rate:.0%})")
        out.below_bar = bool(out.reasons)
    return out


# --- qualification at submission -----------------------------------------------------------------------

@dataclass
class LeadCheck:
    held: bool
    reasons: list[str]  # each "code: text"; codes outside_icp, icp_unknown, partner_quality
    icp: dict[str, Any]
    quality: dict[str, Any] | None
    partner_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {"held": self.held, "reasons": self.reasons, "icp": self.icp, "quality": self.quality,
                "partner_id": self.partner_id}


def company_facts(session: Session, referee_email: str) -> tuple[str | None, float | None, str]:
    """(industry, employees, where from) for the referee's company: people.csv for the person, else anyone
    at the same domain."""
    person = session.get(m.Person, referee_email)
    rows = [person] if person is not None else []
    rows += list(session.scalars(select(m.Person).where(m.Person.domain == _domain(referee_email))
                                 .order_by(m.Person.email)))
    industry = next((p.industry for p in rows if p.industry), None)
    employees = next((float(p.company_employees) for p in rows if p.company_employees is not None), None)
    return industry, employees, "people.csv" if rows else "unknown"


def icp_fit(icp: ICP, industry: str | None, employees: float | None) -> dict[str, Any]:
    from warmintro.engines.targets import company_icp_check

    res = company_icp_check(icp, industry, employees)
    unknown = [f for f in res.failed if f.endswith("unknown")]
    return {"passes": res.passes, "fit": round(res.fit, 4), "matched": res.matched, "failed": res.failed,
            "unknown": bool(unknown) and len(unknown) == len(res.failed)}


def qualify_lead(session: Session, program: Program, referrer_email: str, referee_email: str,
                 at: datetime) -> LeadCheck:
    """Score a partner's lead against the ICP and the partner's past quality; held when below the bar."""
    q = program.qualification
    industry, employees, source = company_facts(session, referee_email)
    icp = icp_fit(program.icp, industry, employees) | {"source": source}
    reasons: list[str] = []
    if not icp["passes"]:
        if not icp["unknown"]:
            reasons.append("outside_icp: " + "; ".join(f for f in icp["failed"] if not f.endswith("unknown")))
        elif q.hold_unknown_icp:
            reasons.append("icp_unknown: " + "; ".join(icp["failed"]))
    partner = find_partner(session, referrer_email)
    quality = None
    if partner is not None:
        qual = partner_quality(session, partner, at, q)
        quality = qual.to_json()
        reasons += [f"partner_quality: {r}" for r in qual.reasons]
    return LeadCheck(bool(reasons) and q.enabled, reasons, icp, quality, partner.partner_id if partner else None)


# --- the partner list ----------------------------------------------------------------------------------

def partner_summary(session: Session, as_of: datetime, *, credits: list[Any] | None = None) -> list[dict[str, Any]]:
    """Per partner: kind, tier now, rate now, won deals in the tier window, lead quality and a flag."""

    as_of = utc(as_of)
    program = load_program(session)
    rewards = program.reward_rules.partner
    credits = attribution(session, as_of) if credits is None else credits
    closes = partner_closes(session, credits)
    out = []
    for p in session.scalars(select(m.Partner).order_by(m.Partner.partner_id)):
        won = won_before(closes.get(p.partner_id, []), as_of + timedelta(microseconds=1), None,
                         rewards.tier_window_days)
        tier = tier_for_partner(p, won, rewards.tiers)
        rate, why = partner_rate(p, tier, rewards)
        qual = partner_quality(session, p, as_of, program.qualification)
        out.append({"partner_id": p.partner_id, "name": p.name, "domain": p.domain, "kind": p.kind,
                    "certified": bool(p.certified), "tier": tier.name if tier else None, "won_in_window": won,
                    "rate": rate, "rate_reason": why, "quality": qual.to_json(), "flagged": qual.below_bar})
    return out


def partner_closes(session: Session, credits: Iterable[Any]) -> dict[str, list[tuple[datetime, str]]]:
    """partner_id -> [(closed_at, opportunity_id)] of won deals partner referrals sourced."""
    out: dict[str, list[tuple[datetime, str]]] = {}
    cache: dict[str, m.Partner | None] = {}
    for c in credits:
        if c.credit != "sourced" or c.stage != "won" or c.program != "partner" or not c.referrer_email:
            continue
        if c.referrer_email not in cache:
            cache[c.referrer_email] = find_partner(session, c.referrer_email)
        partner = cache[c.referrer_email]
        closed = c.closed_at or c.created_at
        if partner is not None and closed is not None:
            out.setdefault(partner.partner_id, []).append((utc(closed), c.opportunity_id))
    return out


# --- the portal link -----------------------------------------------------------------------------------

PORTAL_KIND = "portal"


@dataclass(frozen=True)
class PortalLink:
    partner_id: str
    url: str
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        from warmintro.engines.timeutil import iso

        return {"partner_id": self.partner_id, "url": self.url, "expires_at": iso(self.expires_at)}


def portal_link(store: Any, settings: Any, partner: str, now: datetime, ttl: timedelta = timedelta(days=365)
                ) -> PortalLink:
    """A signed link to a partner's portal page (web.portal, `/p/{token}`); `partner` is a partner_id or
    an email of the partner. Needs WARMINTRO_LINK_SECRET (warmintro.weblinks)."""
    from datetime import UTC

    from warmintro import weblinks
    from warmintro.errors import NotFoundError

    with store.session() as s:
        row = s.get(m.Partner, partner) or (find_partner(s, partner) if "@" in partner else None)
        if row is None:
            raise NotFoundError(f"no partner {partner!r} in partners.csv")
        pid = row.partner_id
    expires = (now + ttl).astimezone(UTC).replace(microsecond=0)
    token = weblinks.sign(settings, {"k": PORTAL_KIND, "p": pid}, expires)
    return PortalLink(pid, f"{settings.resolved_public_url}/p/{token}", expires)
