"""Why someone is or is not asked, with the values behind each reason and when they can next be asked.

The scan gives one reason code per skipped contact (docs/rules.md). A CSM needs the facts behind it — "last
product use 2026-08-30, 99 days ago; the rule is 30 days" — and the date the person can be asked again.
`skip_details` adds both to the scan's skipped contacts (set-based: a few queries for all of them);
`explain_contact` answers for one contact, by email or name, also when they had no positive moment.

Next-eligible dates: each reason that lapses by itself gives a date (a detractor score 90 days on, the
end of a decline cool-down, the 90-day gap, the 365-day window's oldest ask, an escalation's quiet
period, a churn-risk signal's 90 days); reasons that need something to happen (new usage, NRR back to
100%, a resolved negotiation, a new positive moment) give a condition instead. The person can be asked
from the latest date, once every condition holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warmintro.engines.cadence import load_history
from warmintro.engines.lookup import find_contact
from warmintro.engines.personas import USER_PERSONAS, infer_personas
from warmintro.engines.scan import (
    TRIGGER_TYPES,
    active_weeks,
    chunks,
    contacts_and_accounts,
    gate_reasons,
    scan,
)
from warmintro.engines.timeutil import day_of, human_day, human_moment, iso, utc
from warmintro.program import Program, load_program
from warmintro.store import models as m

TRIGGER_WORD = {"nps": "NPS", "qbr": "positive QBR", "go_live": "go-live", "expansion": "expansion",
                "renewal": "renewal", "public_win": "public win", "milestone": "product milestone",
                "offboarding": "offboarding"}


@dataclass
class Reason:
    code: str
    detail: str  # the values behind it, in words
    until: datetime | None = None  # when it lapses by itself
    condition: str | None = None  # what must happen instead, when it does not lapse by itself

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "until": iso(self.until), "condition": self.condition}


@dataclass
class Eligibility:
    """The values behind a contact's skip reasons and when they can next be asked."""

    reasons: list[Reason] = field(default_factory=list)

    @property
    def next_eligible_at(self) -> datetime | None:
        """The earliest moment every date-bound reason has lapsed (None when none is date-bound)."""
        dates = [r.until for r in self.reasons if r.until is not None]
        return max(dates) if dates else None

    @property
    def conditions(self) -> list[str]:
        return list(dict.fromkeys(r.condition for r in self.reasons if r.condition))

    @property
    def next_eligible(self) -> str:
        """When they can next be asked, in words."""
        at = self.next_eligible_at
        conds = self.conditions
        if not at and not conds:
            return "now"
        parts = ([f"from {human_day(at)}"] if at else []) + conds
        return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]

    def to_json(self) -> dict[str, Any]:
        return {"details": [r.to_json() for r in self.reasons], "next_eligible_at": iso(self.next_eligible_at),
                "next_eligible": self.next_eligible}


def _days(n: float) -> str:
    return "1 day" if round(n) == 1 else f"{n:.0f} days"


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _ago(at: datetime | date, as_of: datetime) -> str:
    d = at if isinstance(at, date) and not isinstance(at, datetime) else day_of(at)
    n = (day_of(as_of) - d).days
    return "today" if n == 0 else f"{_days(n)} ago"


def skip_details(session: Session, codes: dict[str, list[str]], as_of: datetime, *,
                 program: Program | None = None, moments: dict[str, tuple[str, datetime, float | None]] | None = None
                 ) -> dict[str, Eligibility]:
    """For each contact email -> its reason codes (the scan's reason then `also`), the values behind each
    and when it lapses. `moments`: email -> (trigger type, occurred_at, score) for window_expired."""
    as_of = utc(as_of)
    program = program or load_program(session)
    r = program.rules
    emails = sorted(codes)
    contacts, accounts = contacts_and_accounts(session, emails)
    account_ids = sorted(accounts)
    signals: dict[str, list[m.Signal]] = defaultdict(list)
    for chunk in chunks(account_ids):
        for s in session.scalars(select(m.Signal).where(
                m.Signal.account_id.in_(chunk), m.Signal.occurred_at <= as_of,
                m.Signal.type.in_(("churn_risk", "downgrade", "contract_negotiation", "support_escalation", "nps",
                                   "go_live")))):
            signals[s.account_id].append(s)
    last_use: dict[str, tuple[date, str]] = {}
    for chunk in chunks(emails):  # each contact's last day of use, then what they did that day
        last_day: dict[str, date] = {email: day for email, day in session.execute(
            select(m.UsageDaily.contact_email, func.max(m.UsageDaily.day))
            .where(m.UsageDaily.contact_email.in_(chunk), m.UsageDaily.day <= day_of(as_of))
            .group_by(m.UsageDaily.contact_email))}
        if not last_day:
            continue
        for email, day, event in session.execute(
                select(m.UsageDaily.contact_email, m.UsageDaily.day, m.UsageDaily.event)
                .where(m.UsageDaily.contact_email.in_(list(last_day)), m.UsageDaily.day.in_(set(last_day.values())))
                .order_by(m.UsageDaily.event)):
            if last_day.get(email) == day and email not in last_use:
                last_use[email] = (day, event)
    today = day_of(as_of)
    start = today - timedelta(days=7 * r.active_weeks - 1)
    weeks: dict[str, set[int]] = {}
    for chunk in chunks(account_ids):
        weeks.update(active_weeks(session, chunk, start, today))
    personas = infer_personas(session, emails, as_of)
    history = load_history(session, emails, since=as_of - timedelta(days=max(365, r.decline_cooldown_days)))

    out: dict[str, Eligibility] = {}
    for email in emails:
        contact = contacts.get(email)
        if contact is None:
            continue
        account = accounts.get(contact.account_id)
        sigs = sorted(signals.get(contact.account_id, []), key=lambda s: utc(s.occurred_at))
        past = sorted((a for a in history.get(email, []) if utc(a.asked_at) <= as_of), key=lambda a: utc(a.asked_at))
        e = Eligibility()
        for code in codes[email]:
            e.reasons.append(_reason(code, contact, account, sigs, last_use.get(email), weeks.get(contact.account_id, set()),
                                     personas.get(email), past, (moments or {}).get(email), as_of, program))
        out[email] = e
    return out


def _open(s: m.Signal, as_of: datetime) -> bool:
    return s.resolved_at is None or utc(s.resolved_at) > as_of


def _reason(code: str, contact: m.Contact, acc: m.Account | None, sigs: list[m.Signal],
            last: tuple[date, str] | None, weeks: set[int], persona: Any, past: list[Any],
            moment: tuple[str, datetime, float | None] | None, as_of: datetime, program: Program) -> Reason:
    r = program.rules
    if code == "do_not_contact":
        return Reason(code, "marked do-not-contact in the CRM", condition="not while marked do-not-contact")
    if code == "unhealthy":
        nrr = acc.nrr if acc is not None else None
        return Reason(code, f"account NRR {nrr:g}%; the rule is at least {r.nrr_min:g}%" if nrr is not None
                      else "account NRR below the minimum", condition=f"once NRR is back to {r.nrr_min:g}%")
    if code == "churn_risk":
        if acc is not None and acc.lifecycle_stage == "churned":
            return Reason(code, "the account has churned", condition="not while the account is churned")
        risk = [s for s in sigs if s.type in ("churn_risk", "downgrade") and _open(s, as_of)
                and utc(s.occurred_at) > as_of - timedelta(days=r.churn_risk_days)]
        if risk:
            s = risk[-1]
            until = utc(s.occurred_at) + timedelta(days=r.churn_risk_days)
            return Reason(code, f"{s.type.replace('_', ' ')} signal on {human_day(utc(s.occurred_at))} "
                                f"({_ago(s.occurred_at, as_of)}), not resolved; it counts for {r.churn_risk_days} days",
                          until=until)
        return Reason(code, "at risk of churn", condition="once the churn risk is resolved")
    if code == "onboarding":
        return Reason(code, "lifecycle stage onboarding and no go-live yet", condition="after go-live")
    if code == "negotiation":
        neg = [s for s in sigs if s.type == "contract_negotiation" and _open(s, as_of)]
        since = f" since {human_day(utc(neg[-1].occurred_at))}" if neg else ""
        return Reason(code, f"in contract negotiation{since}", condition="once the negotiation is closed")
    if code == "escalation":
        esc = [s for s in sigs if s.type == "support_escalation"]
        if esc:
            s = esc[-1]
            if _open(s, as_of):
                return Reason(code, f"support escalation opened {human_day(utc(s.occurred_at))}, still open",
                              condition=f"{r.escalation_quiet_days} days after the escalation is resolved")
            assert s.resolved_at is not None
            resolved = utc(s.resolved_at)
            return Reason(code, f"support escalation resolved {human_day(resolved)} ({_ago(resolved, as_of)}); "
                                f"the quiet period is {r.escalation_quiet_days} days",
                          until=resolved + timedelta(days=r.escalation_quiet_days))
        return Reason(code, "a recent support escalation", condition="once the escalation quiet period ends")
    if code == "detractor":
        low = [s for s in sigs if s.type == "nps" and s.score is not None and s.score <= r.detractor_max
               and utc(s.occurred_at) > as_of - timedelta(days=r.detractor_days)
               and (s.contact_email in (None, "", contact.email))]
        if low:
            s = low[-1]
            who = "their" if s.contact_email else "an account-level"
            return Reason(code, f"{who} NPS {s.score:g} on {human_day(utc(s.occurred_at))} ({_ago(s.occurred_at, as_of)}); "
                                f"the rule is no score of {r.detractor_max:g} or below in the last {r.detractor_days} days",
                          until=utc(s.occurred_at) + timedelta(days=r.detractor_days))
        return Reason(code, "a detractor score in the last 90 days")
    if code == "inactive":
        parts: list[str] = []
        missing = sorted(set(range(r.active_weeks)) - weeks)
        if r.active_weeks and missing:
            parts.append(f"the account had no usage in {len(missing)} of the last {r.active_weeks} weeks "
                         f"(the rule is every week)")
        p = getattr(persona, "persona", None)
        if p in USER_PERSONAS:
            if last is None:
                parts.append(f"no product use on record; {_a(p.replace('_', ' '))} must have used it in the last "
                             f"{r.persona_active_days} days")
            elif last[0] < day_of(as_of) - timedelta(days=r.persona_active_days):
                parts.append(f"last product use {human_day(last[0])} ({last[1].replace('_', ' ')}), "
                             f"{_ago(last[0], as_of)}; the rule is {r.persona_active_days} days for "
                             f"{_a(p.replace('_', ' '))}")
        cond = ("once they use the product again" if p in USER_PERSONAS and not missing
                else f"once the account is active every week for {r.active_weeks} weeks" if not parts[1:]
                else "once they and their account are active again")
        return Reason(code, "; ".join(parts) or "not active enough", condition=cond)
    if code == "decline_cooldown":
        declined = [a for a in past if a.outcome == "declined"
                    and utc(a.asked_at) > as_of - timedelta(days=r.decline_cooldown_days)]
        if declined:
            at = utc(declined[-1].asked_at)
            return Reason(code, f"declined an ask on {human_day(at)} ({_ago(at, as_of)}); the cool-down is "
                                f"{r.decline_cooldown_days} days", until=at + timedelta(days=r.decline_cooldown_days))
    if code == "cadence_limit":
        year = [utc(a.asked_at) for a in past if utc(a.asked_at) > as_of - timedelta(days=365)]
        if year:
            # one ask must leave the 365-day window for each ask over the limit
            lapse = year[len(year) - r.max_asks_per_year] + timedelta(days=365) if len(year) >= r.max_asks_per_year \
                else None
            dates = ", ".join(human_day(t) for t in year)
            return Reason(code, f"asked {len(year)} times in the last 365 days ({dates}); the limit is "
                                f"{r.max_asks_per_year}", until=lapse)
    if code == "too_soon" and past:
        at = utc(past[-1].asked_at)
        return Reason(code, f"last asked {human_day(at)}, {_ago(at, as_of)}; the rule is {r.min_days_between_asks} days "
                            "between asks", until=at + timedelta(days=r.min_days_between_asks))
    if code == "window_expired" and moment is not None:
        kind, occurred, score = moment
        label = f"NPS {score:g}" if kind == "nps" and score is not None else TRIGGER_WORD.get(kind, kind)
        hours = r.window_hours(kind)
        closed = utc(occurred) + timedelta(hours=hours)
        return Reason(code, f"the {label} on {human_day(utc(occurred))} ({_ago(occurred, as_of)}) opened a "
                            f"{hours:g} h window that closed {human_moment(closed)}",
                      condition="at their next positive moment")
    return Reason(code, code.replace("_", " "))


# --- one contact ----------------------------------------------------------------------------------------

def explain_contact(session: Session, query: str, as_of: datetime, *, program: Program | None = None,
                    sentiment: Any = None) -> dict[str, Any]:
    """Why a contact is or is not asked at `as_of`, with the values behind it and when they can next be asked.
    The scan decides; for a contact without a positive moment the gates are still checked, so the answer
    says what would stop an ask at their next one."""
    as_of = utc(as_of)
    program = program or load_program(session)
    contact = find_contact(session, query)
    account = session.get(m.Account, contact.account_id)
    result = scan(session, as_of, program=program, sentiment=sentiment)
    base: dict[str, Any] = {"contact_email": contact.email, "name": contact.name, "account_id": contact.account_id,
                            "account_name": account.name if account else None,
                            "csm_email": account.csm_email if account else None, "as_of": iso(as_of)}
    ask = next((a for a in result.asks if a.contact_email == contact.email), None)
    if ask is not None:
        return base | {"status": "ask", "reason": None, "persona": ask.persona, "why": ask.reasons,
                       "trigger": ask.to_json()["trigger"], "expires_at": iso(ask.expires_at), "details": [],
                       "next_eligible_at": iso(as_of), "next_eligible": "now"}
    skip = next((s for s in result.skipped if s.contact_email == contact.email), None)
    if skip is not None:
        codes = [skip.reason, *skip.also]
        moment = {contact.email: (skip.trigger.type, skip.trigger.occurred_at, skip.trigger.score)}
        e = skip_details(session, {contact.email: codes}, as_of, program=program, moments=moment)[contact.email]
        return base | {"status": "skipped", "reason": skip.reason, "also": skip.also,
                       "trigger": skip.to_json()["trigger"]} | e.to_json()
    codes = gate_reasons(session, [contact.email], as_of, program).get(contact.email, [])
    e = skip_details(session, {contact.email: codes}, as_of, program=program)[contact.email]
    e.reasons.append(Reason("no_moment", f"no positive moment in the last {program.rules.trigger_lookback_days} days"
                            + _latest_moment(session, contact, as_of, program.rules.promoter_min,
                                           program.rules.trigger_lookback_days), condition="at their next positive moment"))
    return base | {"status": "no_moment", "reason": "no_moment", "also": codes} | e.to_json()


def _latest_moment(session: Session, contact: m.Contact, as_of: datetime, promoter_min: float, lookback: int) -> str:
    s = session.scalars(select(m.Signal).where(
        m.Signal.account_id == contact.account_id, m.Signal.type.in_(TRIGGER_TYPES), m.Signal.occurred_at <= as_of,
        (m.Signal.contact_email == contact.email) | m.Signal.contact_email.is_(None),
        (m.Signal.type != "nps") | (m.Signal.score >= promoter_min))
        .order_by(m.Signal.occurred_at.desc())).first()
    if s is None:
        return " (none on record)"
    label = f"NPS {s.score:g}" if s.type == "nps" and s.score is not None else s.type.replace("_", " ")
    if s.type == "qbr":
        label = "QBR"
    # an account-level QBR counts only for who attended, and a QBR or milestone only when it read as positive
    return (f" (the account's latest such signal: {label} on {human_day(utc(s.occurred_at))}, {_ago(s.occurred_at, as_of)},"
            " did not count for them)" if utc(s.occurred_at) > as_of - timedelta(days=lookback)
            else f" (the latest: {label} on {human_day(utc(s.occurred_at))}, {_ago(s.occurred_at, as_of)})")


def iter_codes(skipped: Iterable[Any]) -> dict[str, list[str]]:
    """email -> [reason, *also] for the scan's skipped contacts."""
    return {s.contact_email: [s.reason, *s.also] for s in skipped}
