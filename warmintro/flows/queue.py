"""Today's queue of a CSM (the Slack app shows it in App Home, `/referrals today` and the daily digest).

The queue is `warmintro.engines.scan` filtered to one CSM's accounts, minus the cards that CSM snoozed or
set aside ("Not now"), each with its pre-loaded names from the targets engine when that engine is present.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.champion_text import human_reason
from warmintro.errors import NotFoundError
from warmintro.store import models as m
from warmintro.store.db import Store

log = logging.getLogger(__name__)

TARGETS_NOT_AVAILABLE = "targets not available yet"
SNOOZED = "queue_snoozed"
SET_ASIDE = "queue_not_now"
SNOOZE_HOURS = 24


@dataclass(frozen=True)
class TargetLine:
    name: str
    detail: str  # "VP Operations at Acme"
    reason: str  # one line: why this person (for the team: the engine's evidence, counts included)
    champion_reason: str = ""  # the same in human terms, the only reason a champion surface may show


@dataclass(frozen=True)
class Card:
    """One ask in a CSM's queue (built from `warmintro.engines.scan.Ask`)."""

    contact_email: str
    contact_name: str
    account_id: str
    account_name: str
    persona: str
    trigger_type: str
    signal_id: str
    occurred_at: datetime
    expires_at: datetime
    reasons: Sequence[str]
    priority: float = 0.0
    dealing_with: str | None = None
    targets: Sequence[TargetLine] = field(default_factory=tuple)
    targets_note: str | None = None  # shown instead of names: "targets not available yet", "no names yet"


class QueueDeps(Protocol):
    """What the queue needs of the app's dependencies."""

    store: Store
    target_limit: int


@dataclass
class Queue:
    cards: list[Card]
    total: int
    problem: str | None = None  # one line when the queue could not be computed


# ---------------------------------------------------------------------------------------------------
# Targets (engine written elsewhere: imported lazily, degrade to a clear note)


def target_lines(session: Session, champion_email: str, now: datetime, limit: int) -> tuple[list[TargetLine], str | None]:
    lines, _emails, note = target_emails(session, champion_email, now, limit)
    return lines, note


def target_emails(session: Session, champion_email: str, now: datetime, limit: int) -> tuple[list[TargetLine], list[str], str | None]:
    """Like target_lines, plus the targets' emails (recorded with an ask so Approve drafts for them)."""
    try:
        from warmintro.engines.targets import find_targets
    except ImportError:
        return [], [], TARGETS_NOT_AVAILABLE
    try:
        result = find_targets(session, champion_email, limit=limit, as_of=now)
    except NotFoundError:
        return [], [], "no one from their network is in the data yet"
    except Exception:
        log.exception("targets engine failed")
        return [], [], "targets unavailable right now"
    lines: list[TargetLine] = []
    emails: list[str] = []
    for t in result.targets[:limit]:
        detail = " at ".join(x for x in (t.title, t.company) if x)
        lines.append(TargetLine(name=t.name or t.email, detail=detail, reason=t.reasons[0] if t.reasons else "",
                                champion_reason=human_reason(t.evidence, now) or ""))
        emails.append(t.email)
    return lines, emails, (None if lines else "no one in their network fits the ICP yet")


# ---------------------------------------------------------------------------------------------------
# The queue


def hidden_cards(session: Session, csm_email: str, now: datetime) -> set[tuple[str, str]]:
    """(signal_id, contact_email) of cards this CSM snoozed (until later) or set aside."""
    rows = session.scalars(
        select(m.AuditLog).where(m.AuditLog.actor == csm_email, m.AuditLog.action.in_((SNOOZED, SET_ASIDE)),
                                 m.AuditLog.at >= now - timedelta(days=31))
    )
    hidden: set[tuple[str, str]] = set()
    for row in rows:
        detail = row.detail or {}
        key = (str(detail.get("signal_id") or ""), row.subject or "")
        if row.action == SET_ASIDE:
            hidden.add(key)
            continue
        until = detail.get("until")
        try:
            if until and datetime.fromisoformat(str(until).replace("Z", "+00:00")) > now:
                hidden.add(key)
        except ValueError:
            continue
    return hidden


def card_for_ask(ask: Any, targets: Sequence[TargetLine], note: str | None) -> Card:
    return Card(
        contact_email=ask.contact_email, contact_name=ask.contact_name, account_id=ask.account_id,
        account_name=ask.account_name, persona=ask.persona, trigger_type=ask.trigger.type,
        signal_id=ask.trigger.signal_id, occurred_at=ask.trigger.occurred_at, expires_at=ask.expires_at,
        reasons=list(ask.reasons), priority=float(ask.priority), dealing_with=ask.dealing_with,
        targets=tuple(targets), targets_note=note,
    )


def run_scan(session: Session, now: datetime) -> Any:
    from warmintro.engines.scan import scan

    return scan(session, now)


def csm_queue(deps: QueueDeps, csm_email: str, now: datetime, *, limit: int | None = None,
              with_targets: bool = True, scan_result: Any = None) -> Queue:
    """The CSM's asks due now, highest priority first, without the ones they snoozed or set aside.
    `scan_result` reuses one scan for several CSMs (the digest)."""
    csm_email = csm_email.lower()
    try:
        with deps.store.session() as s:
            result = scan_result if scan_result is not None else run_scan(s, now)
            hidden = hidden_cards(s, csm_email, now)
            asks = [a for a in result.asks if (a.csm_email or "").lower() == csm_email
                    and (a.trigger.signal_id, a.contact_email) not in hidden]
            cards = []
            for i, ask in enumerate(asks):
                if limit is not None and i >= limit:
                    break
                lines, note = (target_lines(s, ask.contact_email, now, deps.target_limit) if with_targets
                               else ([], None))
                cards.append(card_for_ask(ask, lines, note))
            return Queue(cards, len(asks))
    except Exception:
        log.exception("queue could not be computed")
        return Queue([], 0, "Today's queue could not be computed right now; the team has been told (see logs).")
