"""The referral ledger: creating referrals (with the blocking rules), moving them through their
lifecycle, and routing them to an owner with a first-touch SLA.

Every transition is timestamped in referral_events and audited. A blocked referral raises
ReferralBlocked and records nothing. `referral_flags` flags referral rings and unusually high conversion per
referrer; `due_notifications` says which SLA reminders, escalations and close-the-loop messages are due.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warmintro.engines.partners import partner_quality, partner_referrals, qualify_lead
from warmintro.engines.referrers import domain_of, infer_program
from warmintro.engines.timeutil import iso, utc
from warmintro.engines.webhooks import enqueue, referral_payload
from warmintro.errors import NotFoundError, WarmintroError
from warmintro.program import Program, load_program
from warmintro.store import models as m
from warmintro.store.db import Store

STATUSES = ("suggested", "asked", "approved", "intro_sent", "meeting", "opportunity", "won", "lost", "declined",
            "no_response", "held")
# "held" (issue 13): a partner's lead below the qualification bar, waiting for review; not routed (no owner,
# no SLA) until someone moves it on (update_referral to approved routes it then).
HELD = "held"
BLOCK_REASONS = ("same_domain", "customer", "do_not_contact", "competitor")
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


def route_owner(session: Session, referee_domain: str, pool: list[str] | None = None) -> str | None:
    """The AE who owns the referee's company (accounts.csv ae_email, e.g. a churned customer coming back),
    else the owner already working it (an open referral's owner), else the AE or SDR with the fewest open
    referrals (ties by email), so load spreads evenly; `pool` ([rules] routing_pool) limits who is picked."""
    account_ae = session.scalars(select(m.Account.ae_email).where(m.Account.domain == referee_domain,
                                                                  m.Account.ae_email.is_not(None))).first()
    if account_ae:
        return account_ae
    existing = session.scalars(
        select(m.Referral.owner_email).where(m.Referral.referee_domain == referee_domain,
                                             m.Referral.owner_email.is_not(None), m.Referral.status.in_(OPEN))
        .order_by(m.Referral.created_at.desc())).first()
    if existing:
        return existing
    reps = list(session.scalars(select(m.TeamMember.email).where(m.TeamMember.role.in_(("ae", "sdr")))
                                .order_by(m.TeamMember.email)))
    if pool:
        wanted = {e.strip().lower() for e in pool}
        reps = [e for e in reps if e in wanted] or reps
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
    try:
        view = _create_referral(store, referrer_email=referrer_email, referee_email=referee_email, at=at,
                                referee_name=referee_name, referee_company=referee_company, trigger_type=trigger_type,
                                persona=persona, program_kind=program_kind, source_tag=source_tag, status=status,
                                idempotency_key=idempotency_key, actor=actor)
        if view.created:  # committed by now: a retry that returned the existing referral is not counted
            from warmintro.metrics import count

            count("referral_created", program=view.program)
        return view
    except IntegrityError:
        # Two writers with the same key at once (PostgreSQL's READ COMMITTED lets both pass the lookup): the
        # other one's referral stands, and this call returns it, as a retry would.
        if not idempotency_key:
            raise
        with store.session() as s:
            existing = s.scalars(select(m.Referral).where(m.Referral.idempotency_key == idempotency_key)).first()
            if existing is None:
                raise
            return _view(existing, created=False)


def _create_referral(store: Store, *, referrer_email: str, referee_email: str, at: datetime,
                     referee_name: str | None, referee_company: str | None, trigger_type: str | None,
                     persona: str | None, program_kind: str | None, source_tag: str | None, status: str,
                     idempotency_key: str | None, actor: str | None) -> ReferralView:
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
        extra: dict[str, Any] = {}
        if kind == "partner" and status == "approved" and program.qualification.enabled:
            check = qualify_lead(s, program, referrer, referee, at)
            extra["qualification"] = check.to_json()
            if check.held:
                status = HELD
        if kind == "customer":
            cust = program.reward_rules.customer
            if cust.double_sided and cust.referee_amount > 0:
                extra["referee_reward"] = {
                    "amount": round(cust.referee_amount, 2), "kind": cust.referee_kind,
                    "condition": "when the referred deal is won" + (
                        "" if cust.referee_enterprise else
                        f" and below the enterprise deal size ({program.rules.enterprise_deal_size:,.0f})")}
        owner = None if status == HELD else route_owner(s, domain, program.rules.routing_pool)
        rid = "R-" + (hashlib.sha1(idempotency_key.encode()).hexdigest()[:10] if idempotency_key else uuid.uuid4().hex[:10])
        referral = m.Referral(
            referral_id=rid, referrer_email=referrer, referee_email=referee, referee_name=referee_name,
            referee_company=referee_company, referee_domain=domain, program=kind, status=status,
            trigger_type=trigger_type, persona=persona, source_tag=source_tag or f"referral:{kind}",
            owner_email=owner, created_at=at, updated_at=at,
            sla_due_at=at + timedelta(hours=program.rules.first_touch_sla_hours) if owner else None,
            idempotency_key=idempotency_key, extra=extra or None,
        )
        s.add(referral)
        held_note = "; ".join(extra.get("qualification", {}).get("reasons", [])) if status == HELD else ""
        s.add(m.ReferralEvent(referral_id=rid, status=status, at=at, actor=actor,
                              note="created" + (f", held for review: {held_note}" if held_note else "")))
        s.add(m.AuditLog(at=at, actor=actor, action="referral_created", subject=rid,
                         detail={"referrer": referrer, "referee": referee, "program": kind, "owner": owner}))
        s.flush()
        enqueue(s, "referral_created", referral_payload(referral), f"referral_created:{rid}", at=at)
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
        released = r.status == HELD and status not in (HELD, "declined", "no_response", "lost")
        previous = r.status
        r.status = status
        r.updated_at = at
        if released and r.owner_email is None:  # a held lead let through: route it now, the SLA starts now
            program = load_program(s)
            r.owner_email = route_owner(s, r.referee_domain or domain_of(r.referee_email), program.rules.routing_pool)
            if r.owner_email:
                r.sla_due_at = at + timedelta(hours=program.rules.first_touch_sla_hours)
        if r.first_touch_at is None and status not in ("suggested", "asked", "approved", HELD):
            r.first_touch_at = at
        s.add(m.ReferralEvent(referral_id=referral_id, status=status, at=at, actor=actor, note=note))
        s.add(m.AuditLog(at=at, actor=actor, action="referral_status", subject=referral_id, detail={"status": status}))
        enqueue(s, "referral_stage_changed", referral_payload(r) | {"previous_status": previous, "at": iso(at),
                                                                     "actor": actor, "note": note}, at=at)
        return _view(r, created=False)


def list_referrals(session: Session, *, status: str | None = None, referrer: str | None = None) -> list[m.Referral]:
    q = select(m.Referral).order_by(m.Referral.created_at.desc())
    if status:
        q = q.where(m.Referral.status == status)
    if referrer:
        q = q.where(m.Referral.referrer_email == referrer.strip().lower())
    return list(session.scalars(q))


# --- fraud flags -------------------------------------------------------------------------------------------

FUNNEL_RANK = {s: i for i, s in enumerate(("suggested", "asked", "approved", "intro_sent", "meeting", "opportunity", "won"))}


@dataclass(frozen=True)
class Flag:
    referral_id: str
    flag: str  # referral_ring, high_conversion
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"referral_id": self.referral_id, "flag": self.flag, "detail": self.detail}


def referral_flags(session: Session, as_of: datetime | None = None) -> dict[str, list[Flag]]:
    """Flags per referral id, for review (they block nothing):
    - referral_ring: two companies referring each other, the two referrals at most `ring_window_days`
      (default: the attribution window) apart;
    - high_conversion: a referrer with at least `fraud_min_referrals` referrals of which a share of at least
      `fraud_conversion_min`, and at least `fraud_conversion_multiple` times the program's share, reached an
      opportunity;
    - partner_quality (issue 13): a partner whose matured leads fall below the `[qualification]` bar
      (share reaching a meeting or an opportunity); every referral of that partner carries the flag."""
    rules = load_program(session).rules
    refs = [r for r in session.scalars(select(m.Referral).order_by(m.Referral.created_at, m.Referral.referral_id))
            if as_of is None or utc(r.created_at) <= utc(as_of)]
    flags: dict[str, list[Flag]] = {}
    if not refs:
        return flags
    account_domain = {e: d.lower() for e, d in session.execute(
        select(m.Contact.email, m.Account.domain).join(m.Account, m.Account.account_id == m.Contact.account_id))}

    def org(email: str) -> str:
        return account_domain.get(email, domain_of(email))

    window = timedelta(days=rules.ring_window_days or rules.attribution_days)
    by_pair: dict[tuple[str, str], list[m.Referral]] = {}
    for r in refs:
        by_pair.setdefault((org(r.referrer_email), (r.referee_domain or domain_of(r.referee_email)).lower()), []).append(r)
    for (a, b), forward in by_pair.items():
        if a >= b or a == b:
            continue
        for r1 in forward:
            for r2 in by_pair.get((b, a), []):
                if abs(utc(r1.created_at) - utc(r2.created_at)) <= window:
                    for x, y in ((r1, r2), (r2, r1)):
                        f = Flag(x.referral_id, "referral_ring", f"{org(x.referrer_email)} and {org(y.referrer_email)} "
                                 f"referred each other ({x.referral_id}, {y.referral_id})")
                        if f not in flags.setdefault(x.referral_id, []):
                            flags[x.referral_id].append(f)

    reached: dict[str, int] = {r.referral_id: FUNNEL_RANK.get(r.status, 0) for r in refs}
    for rid, status in session.execute(select(m.ReferralEvent.referral_id, m.ReferralEvent.status)
                                       .where(m.ReferralEvent.referral_id.in_(list(reached)))):
        reached[rid] = max(reached[rid], FUNNEL_RANK.get(status, 0))
    converted = {rid: rank >= FUNNEL_RANK["opportunity"] for rid, rank in reached.items()}
    program_share = sum(converted.values()) / len(converted)
    by_referrer: dict[str, list[str]] = {}
    for r in refs:
        by_referrer.setdefault(r.referrer_email, []).append(r.referral_id)
    for referrer, rids in by_referrer.items():
        n = len(rids)
        share = sum(converted[x] for x in rids) / n
        if (n >= rules.fraud_min_referrals and share >= rules.fraud_conversion_min
                and share >= rules.fraud_conversion_multiple * program_share):
            for rid in rids:
                flags.setdefault(rid, []).append(Flag(
                    rid, "high_conversion", f"{referrer}: {sum(converted[x] for x in rids)} of {n} referrals reached "
                    f"an opportunity ({share:.0%}; program {program_share:.0%})"))
    if any(r.program == "partner" for r in refs):
        qual_rules = load_program(session).qualification
        when = utc(as_of) if as_of is not None else max(utc(r.created_at) for r in refs)
        wanted = {r.referral_id for r in refs}
        for partner in session.scalars(select(m.Partner).order_by(m.Partner.partner_id)):
            q = partner_quality(session, partner, when, qual_rules)
            if q.below_bar:
                for r in partner_referrals(session, partner):
                    if r.referral_id in wanted:
                        flags.setdefault(r.referral_id, []).append(Flag(r.referral_id, "partner_quality",
                                                                        "; ".join(q.reasons)))
    return flags


# --- SLA reminders, escalations and closing the loop ----------------------------------------------------

CLOSE_LOOP_STAGES = ("meeting", "opportunity", "won")
# An employee hears about every stage of their referral (issue 13): the submitter's DM per stage reached.
EMPLOYEE_STAGES = ("routed", "first_touch", "meeting", "opportunity", "won", "lost")


@dataclass(frozen=True)
class Notification:
    """Something the Slack side should send. `key` is stable: send each key once (e.g. insert it into a
    table with a unique constraint before sending), and several processes never send it twice."""

    key: str
    kind: str  # first_touch_reminder, first_touch_escalation, close_the_loop, employee_stage
    referral_id: str
    to_email: str | None  # the owner (reminder), the referrer's CSM (escalation), the referrer (close the loop)
    due_at: datetime
    status: str  # the referral's status the message reports
    referrer_email: str
    referee_email: str
    owner_email: str | None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "referral_id": self.referral_id, "to_email": self.to_email,
                "due_at": iso(self.due_at), "status": self.status, "referrer_email": self.referrer_email,
                "referee_email": self.referee_email, "owner_email": self.owner_email}


def due_notifications(session: Session, now: datetime, *, sent: set[str] | frozenset[str] = frozenset()
                      ) -> list[Notification]:
    """Every notification due by `now` that still applies, oldest first, minus the keys in `sent`:
    - first_touch_reminder to the owner at `first_touch_reminder_hours` (20 h) without a first touch;
    - first_touch_escalation to the referrer's CSM at the SLA (24 h) without a first touch;
    - close_the_loop to the referrer when the referral reaches meeting, opportunity or won (one per stage),
      and at `close_loop_days` (30) after the referral when none of those happened by then;
    - employee_stage (issue 13) to an employee referrer at every stage: routed (an owner was assigned),
      first touch, meeting, opportunity, won, lost (key `{id}:employee:{stage}`, `status` the stage); an
      employee's referral gets these instead of close_the_loop."""
    now = utc(now)
    rules = load_program(session).rules
    csm_of = {e: c for e, c in session.execute(
        select(m.Contact.email, m.Account.csm_email).join(m.Account, m.Account.account_id == m.Contact.account_id))}
    events: dict[str, list[m.ReferralEvent]] = {}
    for ev in session.scalars(select(m.ReferralEvent).order_by(m.ReferralEvent.at, m.ReferralEvent.id)):
        events.setdefault(ev.referral_id, []).append(ev)
    out: list[Notification] = []
    for r in session.scalars(select(m.Referral).where(m.Referral.created_at <= now)):
        created = utc(r.created_at)
        evs = events.get(r.referral_id, [])
        statuses = {e.status for e in evs} | {r.status}
        if not statuses & {"approved", "intro_sent", "meeting", "opportunity", "won", "lost"}:
            continue  # no introduction was made (suggested, asked, declined, no response)

        def note(kind: str, key: str, to: str | None, due: datetime, status: str, r: m.Referral = r) -> None:
            if due <= now and key not in sent:
                out.append(Notification(key, kind, r.referral_id, to, due, status, r.referrer_email,
                                        r.referee_email, r.owner_email))

        if r.program == "employee":
            for stage, at in employee_stages(r, evs):
                note("employee_stage", f"{r.referral_id}:employee:{stage}", r.referrer_email, at, stage)
        touched = r.first_touch_at is not None and utc(r.first_touch_at) <= now
        if r.owner_email and not touched and r.status in OPEN:
            sla_due = utc(r.sla_due_at) if r.sla_due_at else created + timedelta(hours=rules.first_touch_sla_hours)
            reminder = min(created + timedelta(hours=rules.first_touch_reminder_hours), sla_due)
            note("first_touch_reminder", f"{r.referral_id}:reminder", r.owner_email, reminder, r.status)
            note("first_touch_escalation", f"{r.referral_id}:escalation", csm_of.get(r.referrer_email), sla_due, r.status)
        if r.program == "employee":
            continue  # the employee_stage messages above close the loop
        reached = [(e.status, utc(e.at)) for e in evs if e.status in CLOSE_LOOP_STAGES]
        if r.status in CLOSE_LOOP_STAGES and r.status not in {s for s, _ in reached}:
            reached.append((r.status, utc(r.updated_at or r.created_at)))
        seen: set[str] = set()
        for status, at in reached:
            if status not in seen:
                seen.add(status)
                note("close_the_loop", f"{r.referral_id}:loop:{status}", r.referrer_email, at, status)
        loop_due = created + timedelta(days=rules.close_loop_days)
        if not any(at <= loop_due for _, at in reached):
            note("close_the_loop", f"{r.referral_id}:loop:{rules.close_loop_days}d", r.referrer_email, loop_due,
                 r.status)
    return sorted(out, key=lambda n: (n.due_at, n.key))


def employee_stages(r: m.Referral, evs: list[m.ReferralEvent]) -> list[tuple[str, datetime]]:
    """The employee stages (EMPLOYEE_STAGES) a referral reached, each with when it first did."""
    out: dict[str, datetime] = {}
    if r.owner_email:
        routed = [utc(e.at) for e in evs if e.status not in (HELD, "suggested", "asked", "declined", "no_response")]
        out["routed"] = min(routed) if routed else utc(r.created_at)
    engaged = {e.status for e in evs} | {r.status}
    if r.first_touch_at is not None and engaged & {"intro_sent", "meeting", "opportunity", "won"}:
        out["first_touch"] = utc(r.first_touch_at)  # (straight to lost is news of its own, not a first touch)
    for e in evs:
        if e.status in ("meeting", "opportunity", "won", "lost") and e.status not in out:
            out[e.status] = utc(e.at)
    if r.status in ("meeting", "opportunity", "won", "lost") and r.status not in out:
        out[r.status] = utc(r.updated_at or r.created_at)
    return sorted(out.items(), key=lambda kv: (kv[1], EMPLOYEE_STAGES.index(kv[0])))
