"""The referral ledger: creating referrals (with the blocking rules), moving them through their
lifecycle, and routing them to an owner with a first-touch SLA.

Every transition is timestamped in referral_events and audited. A blocked referral raises
ReferralBlocked and records nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warmintro.engines.timeutil import iso, utc
from warmintro.errors import NotFoundError, WarmintroError
from warmintro.program import Program, load_program
from warmintro.store import models as m
from warmintro.store.db import Store

STATUSES = ("suggested", "asked", "approved", "intro_sent", "meeting", "opportunity", "won", "lost", "declined",
            "no_response")
BLOCK_REASONS = ("same_domain", "customer", "do_not_contact", "competitor")
VENDOR_ROLES = ("csm", "ae", "sdr", "revops", "admin", "employee")
OPEN = ("suggested", "asked", "approved", "intro_sent", "meeting", "opportunity")


class ReferralBlocked(WarmintroError):
    """The referral breaks a blocking rule; nothing was recorded."""

    exit_code = 6

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(f"referral refused ({reason}): {detail}")


@dataclass
class ReferralView:
    referral_id: str
    status: str
    owner_email: str | None
    sla_due_at: datetime | None
    referrer_email: str
    referee_email: str
    program: str
    created_at: datetime
    created: bool  # False when an idempotent retry returned the existing referral

    def to_json(self) -> dict[str, Any]:
        return {"referral_id": self.referral_id, "status": self.status, "owner_email": self.owner_email,
                "sla_due_at": iso(self.sla_due_at), "referrer_email": self.referrer_email,
                "referee_email": self.referee_email, "program": self.program, "created_at": iso(self.created_at)}


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def _view(r: m.Referral, created: bool) -> ReferralView:
    return ReferralView(r.referral_id, r.status, r.owner_email, r.sla_due_at, r.referrer_email, r.referee_email,
                        r.program, r.created_at, created)


def block_reason(session: Session, program: Program, referrer: str, referee: str) -> tuple[str, str] | None:
    """The first blocking rule that applies (same_domain, customer, do_not_contact, competitor), or None."""
    ref_domain = domain_of(referee)
    referrer_domains = {domain_of(referrer)}
    contact = session.scalars(select(m.Contact).where(m.Contact.email == referrer)).first()
    if contact is not None:
        account = session.get(m.Account, contact.account_id)
        if account is not None:
            referrer_domains.add(account.domain)
    if ref_domain in referrer_domains:
        return "same_domain", f"{referee} is at the referrer's own company ({ref_domain})"
    customer = session.scalars(select(m.Account).where(m.Account.domain == ref_domain,
                                                       func.coalesce(m.Account.lifecycle_stage, "") != "churned")).first()
    referee_contact = session.scalars(select(m.Contact).where(m.Contact.email == referee)).first()
    if customer is not None or (referee_contact is not None and not referee_contact.do_not_contact):
        name = customer.name if customer is not None else "an existing customer"
        return "customer", f"{referee} works at {name}, already a customer"
    if referee_contact is not None and referee_contact.do_not_contact:
        return "do_not_contact", f"{referee} is marked do-not-contact"
    if ref_domain in set(program.icp.exclude_domains):
        return "competitor", f"{ref_domain} is on the competitor list"
    return None


def infer_program(session: Session, referrer: str) -> str:
    """customer contact -> customer; vendor team member -> employee; partner contact or partner domain -> partner."""
    if session.scalars(select(m.Contact.email).where(m.Contact.email == referrer)).first():
        return "customer"
    member = session.get(m.TeamMember, referrer)
    if member is not None and member.role in VENDOR_ROLES:
        return "employee"
    if member is not None and member.role == "partner":
        return "partner"
    partner = session.scalars(select(m.Partner).where(
        (m.Partner.contact_email == referrer) | (m.Partner.domain == domain_of(referrer)))).first()
    if partner is not None:
        return "partner"
    return "customer"


def route_owner(session: Session, referee_domain: str) -> str | None:
    """The AE already working the referee's company (an open opportunity's referral owner), else the AE or
    SDR with the fewest open referrals (ties by email), so load spreads evenly."""
    existing = session.scalars(
        select(m.Referral.owner_email).where(m.Referral.referee_domain == referee_domain,
                                             m.Referral.owner_email.is_not(None), m.Referral.status.in_(OPEN))
        .order_by(m.Referral.created_at.desc())).first()
    if existing:
        return existing
    reps = list(session.scalars(select(m.TeamMember.email).where(m.TeamMember.role.in_(("ae", "sdr")))
                                .order_by(m.TeamMember.email)))
    if not reps:
        return None
    load: dict[str | None, int] = {
        owner: int(n) for owner, n in session.execute(
            select(m.Referral.owner_email, func.count()).where(m.Referral.status.in_(OPEN), m.Referral.owner_email.in_(reps))
            .group_by(m.Referral.owner_email))}
    return min(reps, key=lambda e: (load.get(e, 0), e))


def create_referral(store: Store, *, referrer_email: str, referee_email: str, at: datetime,
                    referee_name: str | None = None, referee_company: str | None = None,
                    trigger_type: str | None = None, persona: str | None = None, program_kind: str | None = None,
                    source_tag: str | None = None, status: str = "approved", idempotency_key: str | None = None,
                    actor: str | None = None) -> ReferralView:
    referrer = referrer_email.strip().lower()
    referee = referee_email.strip().lower()
    if "@" not in referrer or "@" not in referee:
        raise WarmintroError("referrer and referee must be email addresses")
    if status not in STATUSES:
        raise WarmintroError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    at = utc(at)
    with store.session(write=True) as s:
        if idempotency_key:
            existing = s.scalars(select(m.Referral).where(m.Referral.idempotency_key == idempotency_key)).first()
            if existing is not None:
                return _view(existing, created=False)
        program = load_program(s)
        blocked = block_reason(s, program, referrer, referee)
        if blocked:
            raise ReferralBlocked(*blocked)
        kind = program_kind or infer_program(s, referrer)
        if kind not in ("customer", "partner", "employee"):
            raise WarmintroError(f"unknown program {kind!r}; one of customer, partner, employee")
        domain = domain_of(referee)
        owner = route_owner(s, domain)
        rid = "R-" + (hashlib.sha1(idempotency_key.encode()).hexdigest()[:10] if idempotency_key else uuid.uuid4().hex[:10])
        referral = m.Referral(
            referral_id=rid, referrer_email=referrer, referee_email=referee, referee_name=referee_name,
            referee_company=referee_company, referee_domain=domain, program=kind, status=status,
            trigger_type=trigger_type, persona=persona, source_tag=source_tag or f"referral:{kind}",
            owner_email=owner, created_at=at, updated_at=at,
            sla_due_at=at + timedelta(hours=program.rules.first_touch_sla_hours) if owner else None,
            idempotency_key=idempotency_key,
        )
        s.add(referral)
        s.add(m.ReferralEvent(referral_id=rid, status=status, at=at, actor=actor, note="created"))
        s.add(m.AuditLog(at=at, actor=actor, action="referral_created", subject=rid,
                         detail={"referrer": referrer, "referee": referee, "program": kind, "owner": owner}))
        s.flush()
        return _view(referral, created=True)


def update_referral(store: Store, referral_id: str, *, status: str, at: datetime, actor: str | None = None,
                    note: str | None = None) -> ReferralView:
    if status not in STATUSES:
        raise WarmintroError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    at = utc(at)
    with store.session(write=True) as s:
        r = s.get(m.Referral, referral_id)
        if r is None:
            raise NotFoundError(f"no referral {referral_id!r}")
        if r.status == status:
            return _view(r, created=False)
        r.status = status
        r.updated_at = at
        if r.first_touch_at is None and status not in ("suggested", "asked", "approved"):
            r.first_touch_at = at
        s.add(m.ReferralEvent(referral_id=referral_id, status=status, at=at, actor=actor, note=note))
        s.add(m.AuditLog(at=at, actor=actor, action="referral_status", subject=referral_id, detail={"status": status}))
        return _view(r, created=False)


def list_referrals(session: Session, *, status: str | None = None, referrer: str | None = None) -> list[m.Referral]:
    q = select(m.Referral).order_by(m.Referral.created_at.desc())
    if status:
        q = q.where(m.Referral.status == status)
    if referrer:
        q = q.where(m.Referral.referrer_email == referrer.strip().lower())
    return list(session.scalars(q))
