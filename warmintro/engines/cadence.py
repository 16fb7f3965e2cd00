"""Ask cadence: at most 3 asks per champion per 365 days, at least 90 days apart, and a 180-day
cool-down after a decline, shared across every CSM, rep and channel.

The same rules serve the scan (why a champion is skipped) and the write path (`record_ask`), where they
are enforced inside a transaction that holds the champion's lock, so two people asking at once cannot
both pass the check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from warmintro.engines.timeutil import utc
from warmintro.errors import WarmintroError
from warmintro.program import Rules
from warmintro.store import models as m
from warmintro.store.db import Store

CADENCE_REASONS = ("decline_cooldown", "cadence_limit", "too_soon")


@dataclass(frozen=True)
class PastAsk:
    asked_at: datetime
    outcome: str | None = None


class CadenceViolation(WarmintroError):
    """Recording this ask would break the cadence rules; nothing was recorded."""

    exit_code = 5

    def __init__(self, contact_email: str, reasons: list[str]) -> None:
        self.contact_email = contact_email
        self.reasons = reasons
        super().__init__(f"not asking {contact_email}: {', '.join(reasons)}")


def cadence_reasons(history: Sequence[PastAsk], as_of: datetime, rules: Rules) -> list[str]:
    """Cadence reasons that apply at `as_of`, in the contract's precedence order (docs/rules.md 9-11)."""
    as_of = utc(as_of)
    past = [a for a in history if utc(a.asked_at) <= as_of]
    out: list[str] = []
    cooldown = as_of - timedelta(days=rules.decline_cooldown_days)
    if any(a.outcome == "declined" and utc(a.asked_at) > cooldown for a in past):
        out.append("decline_cooldown")
    year = as_of - timedelta(days=365)
    if sum(1 for a in past if utc(a.asked_at) > year) >= rules.max_asks_per_year:
        out.append("cadence_limit")
    gap = as_of - timedelta(days=rules.min_days_between_asks)
    if any(utc(a.asked_at) > gap for a in past):
        out.append("too_soon")
    return out


def write_reasons(history: Sequence[PastAsk], at: datetime, rules: Rules, outcome: str | None = None) -> list[str]:
    """Reasons a new ask at `at` (with `outcome`) may not be recorded: the as-of view, plus asks already
    recorded after `at` (a back-dated ask must not squeeze in before a later one, nor a back-dated
    decline put a later ask inside its cool-down)."""
    reasons = cadence_reasons(history, at, rules)
    at = utc(at)
    later = [a for a in history if utc(a.asked_at) > at]
    if later:
        if outcome == "declined" and "decline_cooldown" not in reasons and any(
                utc(a.asked_at) - at < timedelta(days=rules.decline_cooldown_days) for a in later):
            reasons.insert(0, "decline_cooldown")
        if any(utc(a.asked_at) - at < timedelta(days=rules.min_days_between_asks) for a in later) and "too_soon" not in reasons:
            reasons.append("too_soon")
        # the new ask must not push any 365-day window that contains it over the limit
        times = sorted([utc(a.asked_at) for a in history] + [at])
        for i, start in enumerate(times):
            window = [t for t in times[i:] if t - start < timedelta(days=365)]
            if at in window and len(window) > rules.max_asks_per_year and "cadence_limit" not in reasons:
                reasons.append("cadence_limit")
                break
    return reasons


def history_violations(history: Sequence[PastAsk], rules: Rules) -> list[str]:
    """Every way a whole ask history breaks the invariant (used by property tests and the fault suite)."""
    asks = sorted(history, key=lambda a: utc(a.asked_at))
    problems: list[str] = []
    for i, a in enumerate(asks):
        t = utc(a.asked_at)
        if i and t - utc(asks[i - 1].asked_at) < timedelta(days=rules.min_days_between_asks):
            problems.append(f"too_soon at {t.isoformat()}")
        in_year = [b for b in asks[: i + 1] if t - utc(b.asked_at) < timedelta(days=365)]
        if len(in_year) > rules.max_asks_per_year:
            problems.append(f"cadence_limit at {t.isoformat()}")
        if any(b.outcome == "declined" and timedelta(0) < t - utc(b.asked_at) < timedelta(days=rules.decline_cooldown_days)
               for b in asks[:i]):
            problems.append(f"decline_cooldown at {t.isoformat()}")
    return problems


def load_history(session: Session, emails: Sequence[str], since: datetime | None = None) -> dict[str, list[PastAsk]]:
    out: dict[str, list[PastAsk]] = {}
    emails = list(dict.fromkeys(e.lower() for e in emails))
    for i in range(0, len(emails), 5000):
        q = select(m.Ask.contact_email, m.Ask.asked_at, m.Ask.outcome).where(m.Ask.contact_email.in_(emails[i : i + 5000]))
        if since is not None:
            q = q.where(m.Ask.asked_at > since)
        for email, at, outcome in session.execute(q):
            out.setdefault(email, []).append(PastAsk(at, outcome))
    return out


def _lock_champion(session: Session, email: str) -> None:
    """Serialise writers per champion. PostgreSQL: a row lock; SQLite: the write transaction (BEGIN
    IMMEDIATE, see Store.session(write=True)) already excludes every other writer."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(m.CadenceLock).values(contact_email=email, version=0).on_conflict_do_nothing())
    if dialect == "postgresql":
        session.execute(select(m.CadenceLock).where(m.CadenceLock.contact_email == email).with_for_update())


def record_ask(store: Store, rules: Rules, *, contact_email: str, asked_at: datetime, channel: str | None = None,
               asked_by: str | None = None, outcome: str | None = "pending", account_id: str | None = None,
               trigger_signal_id: str | None = None, persona: str | None = None) -> int:
    """Record an ask the product made, or raise CadenceViolation and record nothing. A contact marked
    do_not_contact is never asked, whoever clicks (reason "do_not_contact")."""
    email = contact_email.strip().lower()
    with store.session(write=True) as s:
        _lock_champion(s, email)
        if s.scalars(select(m.Contact.do_not_contact).where(m.Contact.email == email)).first():
            raise CadenceViolation(email, ["do_not_contact"])
        history = load_history(s, [email]).get(email, [])
        reasons = write_reasons(history, asked_at, rules, outcome)
        if reasons:
            raise CadenceViolation(email, reasons)
        ask = m.Ask(contact_email=email, asked_at=utc(asked_at), outcome=outcome, channel=channel, asked_by=asked_by,
                    source="product", account_id=account_id, trigger_signal_id=trigger_signal_id, persona=persona)
        s.add(ask)
        s.execute(update(m.CadenceLock).where(m.CadenceLock.contact_email == email)
                  .values(version=m.CadenceLock.version + 1))
        s.add(m.AuditLog(at=utc(asked_at), actor=asked_by, action="ask_recorded", subject=email,
                         detail={"channel": channel, "trigger_signal_id": trigger_signal_id}))
        s.flush()
        ask_id = ask.id
    from warmintro.metrics import count

    count("ask_opened", channel=channel or "none")  # after the commit: a refused or failed ask is not counted
    return ask_id


def record_outcome(store: Store, rules: Rules, ask_id: int, outcome: str, actor: str | None = None) -> None:
    """Set an ask's outcome. A decline is refused when a later ask already sits inside its cool-down
    (the ledger would then break the invariant); the message says which."""
    if outcome not in ("accepted", "declined", "no_response", "pending"):
        raise WarmintroError(f"unknown ask outcome {outcome!r}")
    with store.session(write=True) as s:
        ask = s.get(m.Ask, ask_id)
        if ask is None:
            raise WarmintroError(f"no ask with id {ask_id}")
        _lock_champion(s, ask.contact_email)
        if outcome == "declined":
            others = [a for a in load_history(s, [ask.contact_email]).get(ask.contact_email, [])
                      if utc(a.asked_at) != utc(ask.asked_at)]
            if "decline_cooldown" in write_reasons(others, ask.asked_at, rules, "declined"):
                raise CadenceViolation(ask.contact_email, ["decline_cooldown"])
        ask.outcome = outcome
        s.add(m.AuditLog(at=ask.asked_at, actor=actor, action="ask_outcome", subject=ask.contact_email,
                         detail={"ask_id": ask_id, "outcome": outcome}))
