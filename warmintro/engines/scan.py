"""The daily scan: which champions to ask today, and why every other happy customer is skipped.

Set-based: a handful of aggregate queries over signals, the usage rollup, meetings and the asks ledger for
the contacts that had a positive moment, never a loop of queries per contact. docs/rules.md fixes the
semantics of every trigger and reason code.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from warmintro.champion_text import ask_question
from warmintro.engines.cadence import cadence_reasons, load_history
from warmintro.engines.personas import USER_PERSONAS, PersonaResult, infer_personas
from warmintro.engines.place import place_for_ask
from warmintro.engines.problem import extract_problem
from warmintro.engines.timeutil import day_of, human_moment, iso, utc
from warmintro.program import Program, load_program
from warmintro.store import models as m

TRIGGER_TYPES = ("nps", "qbr", "go_live", "expansion", "renewal", "public_win", "milestone", "offboarding")
REASONS = (
    "do_not_contact", "unhealthy", "churn_risk", "onboarding", "negotiation", "escalation", "detractor",
    "inactive", "decline_cooldown", "cadence_limit", "too_soon", "window_expired",
)
TRIGGER_STRENGTH = {
    "public_win": 0.95, "expansion": 0.9, "renewal": 0.85, "go_live": 0.85, "qbr": 0.8, "milestone": 0.75,
    "offboarding": 0.7,
}
PERSONA_WEIGHT = {"power_user": 1.0, "economic_buyer": 0.95, "product_user": 0.9, "administrator": 0.85}
TRIGGER_LABEL = {
    "nps": "NPS", "qbr": "positive QBR", "go_live": "go-live", "expansion": "expansion", "renewal": "renewal",
    "public_win": "public win", "milestone": "product milestone", "offboarding": "offboarding (happy user leaving)",
}

SentimentFn = Callable[[list[str]], list[str]]


@dataclass
class Moment:
    signal_id: str
    type: str
    occurred_at: datetime
    account_id: str
    score: float | None
    notes: str | None
    sentiment: str | None
    sentiment_source: str

    def expires_at(self, program: Program) -> datetime:
        return self.occurred_at + timedelta(hours=program.rules.window_hours(self.type))


@dataclass
class Ask:
    contact_email: str
    contact_name: str
    account_id: str
    account_name: str
    csm_email: str | None
    persona: str
    persona_confidence: float
    trigger: Moment
    expires_at: datetime
    priority: float
    reasons: list[str]
    problem_solved: str | None
    dealing_with: str | None
    priority_parts: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "contact_email": self.contact_email,
            "account_id": self.account_id,
            "persona": self.persona,
            "trigger": {"type": self.trigger.type, "occurred_at": iso(self.trigger.occurred_at),
                        "signal_id": self.trigger.signal_id},
            "expires_at": iso(self.expires_at),
            "priority": self.priority,
            "reasons": self.reasons,
            "contact_name": self.contact_name,
            "account_name": self.account_name,
            "csm_email": self.csm_email,
            "persona_confidence": round(self.persona_confidence, 2),
            "problem_solved": self.problem_solved,
            "ask_frame": ask_question(self.dealing_with, capital=True) if self.dealing_with else None,
            "priority_parts": self.priority_parts,
            "place": place_for_ask(self).to_json(),
        }


@dataclass
class Skip:
    contact_email: str
    account_id: str
    reason: str
    also: list[str]
    trigger: Moment

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"contact_email": self.contact_email, "account_id": self.account_id, "reason": self.reason}
        if self.also:
            out["also"] = self.also
        out["trigger"] = {"type": self.trigger.type, "signal_id": self.trigger.signal_id,
                          "occurred_at": iso(self.trigger.occurred_at)}
        return out


@dataclass
class ScanResult:
    as_of: datetime
    asks: list[Ask]
    skipped: list[Skip]

    def to_json(self) -> dict[str, Any]:
        return {"as_of": iso(self.as_of), "asks": [a.to_json() for a in self.asks],
                "skipped": [s.to_json() for s in self.skipped]}


def chunks(items: Sequence[str], n: int = 5000) -> list[Sequence[str]]:
    return [items[i : i + n] for i in range(0, len(items), n)] or [[]]


def contacts_and_accounts(session: Session, emails: Sequence[str]) -> tuple[dict[str, m.Contact], dict[str, m.Account]]:
    """The contacts with these emails and their accounts (set-based, in chunks)."""
    contacts = {c.email: c for chunk in chunks(list(emails))
                for c in session.scalars(select(m.Contact).where(m.Contact.email.in_(chunk)))}
    account_ids = sorted({c.account_id for c in contacts.values()})
    accounts = {a.account_id: a for chunk in chunks(account_ids)
                for a in session.scalars(select(m.Account).where(m.Account.account_id.in_(chunk)))}
    return contacts, accounts


def _default_sentiment(texts: list[str], session: Session | None = None) -> list[str]:
    """Labels from the shipped classifier. With a session, predictions stored in it are used and what had to
    be classified is stored (engines.note_sentiment): a fresh process does not classify every note again."""
    if session is not None:
        from warmintro.engines.note_sentiment import classify_notes

        return [p.label for p in classify_notes(session, texts)]
    from warmintro.engines.sentiment import default_classifier

    return [p.label for p in default_classifier().classify(texts)]


def _touching(session: Session, only: Collection[str]) -> ColumnElement[bool]:
    """The signals that can apply to these contacts: their own, and their accounts' account-level ones."""
    emails = sorted({e.strip().lower() for e in only})
    accounts = sorted({a for chunk in chunks(emails) for a in session.scalars(
        select(m.Contact.account_id).where(m.Contact.email.in_(chunk)))})
    account_level = or_(m.Signal.contact_email.is_(None), m.Signal.contact_email == "")
    return or_(m.Signal.contact_email.in_(emails), and_(account_level, m.Signal.account_id.in_(accounts)))


def _positive_moments(session: Session, as_of: datetime, program: Program,
                      sentiment: SentimentFn, only: Collection[str] | None = None) -> list[Moment]:
    rules = program.rules
    since = as_of - timedelta(days=rules.trigger_lookback_days)
    S = m.Signal
    # the columns, not ORM objects: building a Signal per row was most of a scan with its notes' sentiment known
    rows = session.execute(
        select(S.signal_id, S.type, S.occurred_at, S.account_id, S.score, S.notes, S.sentiment)
        .where(S.type.in_(TRIGGER_TYPES), S.occurred_at > since, S.occurred_at <= as_of,
               *([_touching(session, only)] if only is not None else []))
    ).all()
    needs = [r for r in rows if not r.sentiment and r.notes and r.notes.strip() and r.type != "nps"]
    inferred = dict(zip([r.signal_id for r in needs], sentiment([r.notes or "" for r in needs]) if needs else [],
                        strict=True))
    moments = []
    for r in rows:
        label = r.sentiment or inferred.get(r.signal_id)
        source = "given" if r.sentiment else ("inferred" if r.signal_id in inferred else "none")
        if r.type == "nps":
            ok = r.score is not None and r.score >= rules.promoter_min
        elif r.type == "qbr":
            ok = label == "positive"
        else:
            ok = label != "negative"
        if ok:
            moments.append(Moment(r.signal_id, r.type, utc(r.occurred_at), r.account_id, r.score, r.notes, label, source))
    return moments


def _assign(session: Session, moments: list[Moment]) -> dict[str, list[Moment]]:
    """Which contacts each moment applies to (docs/rules.md, "Who a moment applies to")."""
    by_contact: dict[str, list[Moment]] = defaultdict(list)
    if not moments:
        return by_contact
    sig_contact: dict[str, str | None] = {}
    for chunk in chunks([x.signal_id for x in moments]):
        for signal_id, contact_email in session.execute(
            select(m.Signal.signal_id, m.Signal.contact_email).where(m.Signal.signal_id.in_(chunk))
        ):
            sig_contact[signal_id] = contact_email
    account_ids = sorted({x.account_id for x in moments})
    contacts_by_account: dict[str, list[str]] = defaultdict(list)
    known: set[str] = set()
    for chunk in chunks(account_ids):
        for acc, email in session.execute(select(m.Contact.account_id, m.Contact.email).where(m.Contact.account_id.in_(chunk))):
            contacts_by_account[acc].append(email)
            known.add(email)
    qbr_days = {(x.account_id, day_of(x.occurred_at)) for x in moments if x.type == "qbr" and not sig_contact.get(x.signal_id)}
    attendees: dict[tuple[str, date], set[str]] = defaultdict(set)
    if qbr_days:
        lo = min(d for _, d in qbr_days)
        for meeting_account, at, email in session.execute(
            select(m.Meeting.account_id, m.Meeting.occurred_at, m.MeetingAttendee.email)
            .join(m.MeetingAttendee, m.MeetingAttendee.meeting_id == m.Meeting.meeting_id)
            .where(m.Meeting.kind == "qbr", m.Meeting.account_id.in_(sorted({a for a, _ in qbr_days})),
                   m.Meeting.occurred_at >= datetime.combine(lo, datetime.min.time(), tzinfo=UTC))
        ):
            if meeting_account:
                attendees[(meeting_account, day_of(at))].add(email)
    for x in moments:
        contact: str | None = sig_contact.get(x.signal_id)
        if contact:
            if contact in known:
                by_contact[contact].append(x)
        elif x.type == "qbr":
            for email in contacts_by_account.get(x.account_id, []):
                if email in attendees.get((x.account_id, day_of(x.occurred_at)), set()):
                    by_contact[email].append(x)
        else:
            for email in contacts_by_account.get(x.account_id, []):
                by_contact[email].append(x)
    return by_contact


@dataclass
class _AccountFacts:
    churn_risk: set[str] = field(default_factory=set)
    went_live: set[str] = field(default_factory=set)
    negotiating: set[str] = field(default_factory=set)
    escalated: set[str] = field(default_factory=set)
    account_detractor: set[str] = field(default_factory=set)
    contact_detractor: set[str] = field(default_factory=set)
    inactive_accounts: set[str] = field(default_factory=set)
    last_usage: dict[str, date] = field(default_factory=dict)
    network_size: dict[str, int] = field(default_factory=dict)


def active_weeks(session: Session, account_ids: Sequence[str], start: date, today: date) -> dict[str, set[int]]:
    """The weeks back from `today` (0 = the last seven days) in which each account had any usage since `start`."""
    weeks: dict[str, set[int]] = defaultdict(set)
    A = m.UsageAccountDay
    for acc, day in session.execute(
        select(A.account_id, A.day).where(A.account_id.in_(account_ids), A.day >= start, A.day <= today)
    ):
        weeks[acc].add((today - day).days // 7)
    return weeks


def _facts(session: Session, account_ids: list[str], emails: list[str], as_of: datetime, program: Program) -> _AccountFacts:
    r = program.rules
    f = _AccountFacts()
    S = m.Signal
    for chunk in chunks(account_ids):
        for acc, typ, occurred, resolved, contact, score in session.execute(
            select(S.account_id, S.type, S.occurred_at, S.resolved_at, S.contact_email, S.score).where(
                S.account_id.in_(chunk), S.occurred_at <= as_of,
                S.type.in_(("churn_risk", "downgrade", "go_live", "contract_negotiation", "support_escalation", "nps")),
            )
        ):
            occurred = utc(occurred)
            open_at_t = resolved is None or utc(resolved) > as_of
            if typ in ("churn_risk", "downgrade"):
                if occurred > as_of - timedelta(days=r.churn_risk_days) and open_at_t:
                    f.churn_risk.add(acc)
            elif typ == "go_live":
                f.went_live.add(acc)
            elif typ == "contract_negotiation":
                if open_at_t:
                    f.negotiating.add(acc)
            elif typ == "support_escalation":
                if resolved is None or utc(resolved) > as_of - timedelta(days=r.escalation_quiet_days):
                    f.escalated.add(acc)
            elif typ == "nps" and score is not None and score <= r.detractor_max \
                    and occurred > as_of - timedelta(days=r.detractor_days):
                if contact:
                    f.contact_detractor.add(contact)
                else:
                    f.account_detractor.add(acc)
        # Weekly activity: distinct active days per account over the last active_weeks weeks.
        today = day_of(as_of)
        start = today - timedelta(days=7 * r.active_weeks - 1)
        weeks = active_weeks(session, chunk, start, today)
        need = set(range(r.active_weeks))
        for acc in chunk:
            if r.active_weeks and not need <= weeks.get(acc, set()):
                f.inactive_accounts.add(acc)
    for chunk in chunks(emails):
        for email, last in session.execute(
            select(m.UsageDaily.contact_email, func.max(m.UsageDaily.day))
            .where(m.UsageDaily.contact_email.in_(chunk), m.UsageDaily.day <= day_of(as_of))
            .group_by(m.UsageDaily.contact_email)
        ):
            f.last_usage[email] = last
        for col in (m.Relationship.a_email, m.Relationship.b_email):
            for email, n in session.execute(select(col, func.count()).where(col.in_(chunk)).group_by(col)):
                f.network_size[email] = f.network_size.get(email, 0) + int(n)
    return f


def _reasons(contact: m.Contact, account: m.Account, persona: PersonaResult, moment: Moment, facts: _AccountFacts,
             history: list[Any], as_of: datetime, program: Program) -> list[str]:
    r = program.rules
    acc = account.account_id
    out: list[str] = []
    if contact.do_not_contact:
        out.append("do_not_contact")
    if account.nrr is not None and account.nrr < r.nrr_min:
        out.append("unhealthy")
    if account.lifecycle_stage == "churned" or acc in facts.churn_risk:
        out.append("churn_risk")
    if account.lifecycle_stage == "onboarding" and acc not in facts.went_live:
        out.append("onboarding")
    if acc in facts.negotiating:
        out.append("negotiation")
    if acc in facts.escalated:
        out.append("escalation")
    if contact.email in facts.contact_detractor or acc in facts.account_detractor:
        out.append("detractor")
    last = facts.last_usage.get(contact.email)
    persona_idle = persona.persona in USER_PERSONAS and (
        last is None or last < day_of(as_of) - timedelta(days=r.persona_active_days))
    if acc in facts.inactive_accounts or persona_idle:
        out.append("inactive")
    out.extend(cadence_reasons(history, as_of, r))
    if as_of > moment.expires_at(program):
        out.append("window_expired")
    return out


def _priority(moment: Moment, persona: PersonaResult, account: m.Account, network: int, hours_left: float,
              window_hours: float) -> tuple[float, dict[str, float]]:
    if moment.type == "nps":
        trigger = 1.0 if (moment.score or 0) >= 10 else 0.85
    else:
        trigger = TRIGGER_STRENGTH.get(moment.type, 0.7)
    persona_w = PERSONA_WEIGHT.get(persona.persona, 0.85)
    health = (account.health_score / 100) if account.health_score is not None else 0.7
    if account.nrr is not None:
        health = min(1.0, health * 0.8 + min(account.nrr, 150) / 150 * 0.2 + 0.05)
    net = min(1.0, math.log1p(network) / math.log1p(50))
    urgency = 1 - max(0.0, min(1.0, hours_left / window_hours)) if window_hours else 0.0
    parts = {"trigger": round(trigger, 3), "persona": round(persona_w, 3), "health": round(health, 3),
             "network": round(net, 3), "urgency": round(urgency, 3)}
    score = 100 * (0.4 * trigger + 0.15 * persona_w + 0.2 * health + 0.15 * net + 0.1 * urgency)
    return round(score, 1), parts


def _describe_trigger(moment: Moment, as_of: datetime) -> str:
    hours = (as_of - moment.occurred_at).total_seconds() / 3600
    age = f"{hours:.0f} h ago" if hours < 48 else f"{hours / 24:.0f} days ago"
    label = TRIGGER_LABEL.get(moment.type, moment.type)
    if moment.type == "nps":
        label = f"NPS {moment.score:g}"
    text = f"{label}, {age}"
    if moment.notes:
        note = " ".join(moment.notes.split())
        text += f': "{note[:140]}{"…" if len(note) > 140 else ""}"'
    if moment.sentiment_source == "inferred":
        text += " (read as positive from the notes)"
    return text


def scan(session: Session, as_of: datetime, *, program: Program | None = None,
         sentiment: SentimentFn | None = None, only: Collection[str] | None = None) -> ScanResult:
    """Today's asks and skips. `only` limits the scan to those contacts (emails): their decisions are the
    ones the full scan makes for them, at the cost of their own signals and accounts (signal hooks)."""
    as_of = utc(as_of)
    program = program or load_program(session)
    if sentiment is None:
        sentiment = functools.partial(_default_sentiment, session=session)
    moments = _positive_moments(session, as_of, program, sentiment, only)
    by_contact = _assign(session, moments)
    if only is not None:
        wanted = {e.strip().lower() for e in only}
        by_contact = defaultdict(list, {e: ms for e, ms in by_contact.items() if e in wanted})
    emails = sorted(by_contact)
    contacts, accounts = contacts_and_accounts(session, emails)
    account_ids = sorted(accounts)
    facts = _facts(session, account_ids, emails, as_of, program)
    personas = infer_personas(session, emails, as_of)
    histories = load_history(session, emails, since=as_of - timedelta(days=max(365, program.rules.decline_cooldown_days)))
    asks: list[Ask] = []
    skipped: list[Skip] = []
    for email in emails:
        contact = contacts[email]
        account = accounts[contact.account_id]
        persona = personas[email]
        ms = sorted(by_contact[email], key=lambda x: x.occurred_at, reverse=True)
        open_ms = [x for x in ms if as_of <= x.expires_at(program)]
        moment = (open_ms or ms)[0]
        reasons = _reasons(contact, account, persona, moment, facts, histories.get(email, []), as_of, program)
        if reasons:
            skipped.append(Skip(email, account.account_id, reasons[0], reasons[1:], moment))
            continue
        expires = moment.expires_at(program)
        hours_left = (expires - as_of).total_seconds() / 3600
        window = program.rules.window_hours(moment.type)
        network = facts.network_size.get(email, 0)
        priority, parts = _priority(moment, persona, account, network, hours_left, window)
        problem = extract_problem(moment.notes, program.vendor.one_liner)
        why = [
            _describe_trigger(moment, as_of),
            f"{persona.persona.replace('_', ' ')} (confidence {persona.confidence:.2f}): {'; '.join(persona.evidence[:2])}",
            "healthy account: " + ", ".join(
                x for x in (f"NRR {account.nrr:g}%" if account.nrr is not None else "",
                            f"health {account.health_score:g}" if account.health_score is not None else "",
                            "active every week, no escalation, not in negotiation") if x),
            f"{network} known ties in their network" if network else "no ties recorded yet: targets may be thin",
            f"window closes in {hours_left:.0f} h ({human_moment(expires)})",
        ]
        if problem and problem.source == "trigger_text":
            why.append(f"problem solved, in their words: {problem.solved}")
        asks.append(Ask(email, contact.name, account.account_id, account.name, account.csm_email, persona.persona,
                        persona.confidence, moment, expires, priority, why,
                        problem.solved if problem else None, problem.dealing_with if problem else None, parts))
    asks.sort(key=lambda a: (-a.priority, a.expires_at, a.contact_email))
    skipped.sort(key=lambda s: (REASONS.index(s.reason), s.contact_email))
    return ScanResult(as_of, asks, skipped)



def gate_reasons(session: Session, emails: Sequence[str], as_of: datetime, program: Program | None = None
                 ) -> dict[str, list[str]]:
    """The skip reasons that would apply to these contacts if they had a positive moment now (every gate and
    the cadence; not the window): what stops an ask at their next moment (warmintro.engines.eligibility)."""
    as_of = utc(as_of)
    program = program or load_program(session)
    contacts, accounts = contacts_and_accounts(session, emails)
    facts = _facts(session, sorted(accounts), sorted(contacts), as_of, program)
    personas = infer_personas(session, sorted(contacts), as_of)
    histories = load_history(session, sorted(contacts), since=as_of - timedelta(days=max(365, program.rules.decline_cooldown_days)))
    now = Moment("", "now", as_of, "", None, None, None, "none")  # opened now: its window is open
    return {email: _reasons(c, accounts[c.account_id], personas[email], now, facts, histories.get(email, []), as_of,
                            program)
            for email, c in contacts.items() if c.account_id in accounts}
