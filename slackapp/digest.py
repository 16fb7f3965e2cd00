"""Today's queue as the Slack app shows it (App Home, `/referrals today`, the digest), and the daily digest.

The queue is `warmintro.engines.scan` filtered to one CSM's accounts, minus the cards that CSM snoozed or
set aside ("Not now"), each with its pre-loaded names from the targets engine when that engine is present.

`send_daily_digests(deps, now)` DMs every CSM their queue once per UTC day, even when several processes
run it: each (CSM, day) is claimed in `slack_events` under `digest:{email}:{date}` (a primary key), so only
the first process to insert the row sends.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.middleware import claim, prune_events, release
from warmintro.store import models as m

log = logging.getLogger(__name__)

SNOOZED = "queue_snoozed"
SET_ASIDE = "queue_not_now"
SNOOZE_HOURS = 24


@dataclass
class Queue:
    cards: list[b.Card]
    total: int
    problem: str | None = None  # one line when the queue could not be computed


# ---------------------------------------------------------------------------------------------------
# Targets (engine written elsewhere: imported lazily, degrade to a clear note)


def target_lines(session: Session, champion_email: str, now: datetime, limit: int) -> tuple[list[b.TargetLine], str | None]:
    lines, _emails, note = target_emails(session, champion_email, now, limit)
    return lines, note


def target_emails(session: Session, champion_email: str, now: datetime, limit: int) -> tuple[list[b.TargetLine], list[str], str | None]:
    """Like target_lines, plus the targets' emails (recorded with an ask so Approve drafts for them)."""
    try:
        from warmintro.engines.targets import find_targets
    except ImportError:
        return [], [], b.TARGETS_NOT_AVAILABLE
    try:
        result = find_targets(session, champion_email, limit=limit, as_of=now)
    except Exception as exc:
        if type(exc).__name__ == "NotFoundError":
            return [], [], "no one from their network is in the data yet"
        log.exception("targets engine failed")
        return [], [], "targets unavailable right now"
    lines: list[b.TargetLine] = []
    emails: list[str] = []
    for t in result.targets[:limit]:
        detail = " at ".join(x for x in (t.title, t.company) if x)
        lines.append(b.TargetLine(name=t.name or t.email, detail=detail, reason=t.reasons[0] if t.reasons else ""))
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


def _card(ask: Any, targets: Sequence[b.TargetLine], note: str | None) -> b.Card:
    return b.Card(
        contact_email=ask.contact_email, contact_name=ask.contact_name, account_id=ask.account_id,
        account_name=ask.account_name, persona=ask.persona, trigger_type=ask.trigger.type,
        signal_id=ask.trigger.signal_id, occurred_at=ask.trigger.occurred_at, expires_at=ask.expires_at,
        reasons=list(ask.reasons), priority=float(ask.priority), dealing_with=ask.dealing_with,
        targets=tuple(targets), targets_note=note,
    )


def run_scan(session: Session, now: datetime) -> Any:
    from warmintro.engines.scan import scan

    return scan(session, now)


def csm_queue(deps: Deps, csm_email: str, now: datetime, *, limit: int | None = None,
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
                cards.append(_card(ask, lines, note))
            return Queue(cards, len(asks))
    except Exception:
        log.exception("queue could not be computed")
        return Queue([], 0, "Today's queue could not be computed right now; the team has been told (see logs).")


# ---------------------------------------------------------------------------------------------------
# The digest


@dataclass
class DigestResult:
    sent: list[str] = field(default_factory=list)  # CSM emails DMed by this call
    skipped: list[str] = field(default_factory=list)  # already sent today (by anyone), or nothing due
    failed: list[str] = field(default_factory=list)


def digest_key(csm_email: str, now: datetime) -> str:
    return f"digest:{csm_email.lower()}:{now.date().isoformat()}"


def _client(deps: Deps, client: WebClient | None, team_id: str | None = None) -> WebClient:
    """The client for a send outside a request: `client` when given; single-token mode: `deps.client`
    (SLACK_BOT_TOKEN). With the OAuth install flow on: the named workspace's installed bot token (on
    `deps.client`'s base URL), or with none named a router that sends each call with its recipient's
    workspace token (oauth.WorkspaceRouter)."""
    if client is not None:
        return client
    from slackapp import oauth

    if deps.client is None:
        from slackapp.app import build_slack_client

        deps.client = build_slack_client(deps.settings, require_token=not oauth.configured(deps))
    if not oauth.configured(deps):
        return deps.client
    if team_id is None:
        # No workspace named (a digest, a notice): each call goes by its recipient's workspace.
        return oauth.WorkspaceRouter(deps, deps.client)  # type: ignore[return-value]  # WebClient's API
    installed: WebClient | None = oauth.client_for(deps, team_id)
    if installed is None:
        from warmintro.errors import ConfigError

        raise ConfigError(f"Slack workspace {team_id} has not installed the app")
    return installed


def send_daily_digests(deps: Deps, now: datetime, client: WebClient | None = None) -> DigestResult:
    """DM each CSM (team.csv role csm with a Slack user id) their queue, once per UTC day across processes.

    Cheap when there is nothing left to do today (one query). Otherwise the scan runs once for all CSMs;
    each CSM is then claimed (`digest:{email}:{date}` in slack_events) before the DM, and only the process
    whose insert wins sends. A failed DM gives the claim back for the next run. A CSM with nothing due is
    claimed without a DM (no "nothing today" noise)."""
    out = DigestResult()
    with deps.store.session() as s:
        csms = [(t.email, t.name, t.slack_user_id) for t in s.scalars(
            select(m.TeamMember).where(m.TeamMember.role == "csm", m.TeamMember.slack_user_id.is_not(None))
            .order_by(m.TeamMember.email))]
        done = {row for row in s.scalars(select(m.SlackEvent.event_id).where(
            m.SlackEvent.event_id.in_([digest_key(e, now) for e, _, _ in csms])))} if csms else set()
    todo = [c for c in csms if digest_key(c[0], now) not in done]
    out.skipped.extend(c[0] for c in csms if digest_key(c[0], now) in done)
    if not todo:
        return out
    web = _client(deps, client)
    try:
        with deps.store.session() as s:
            result = run_scan(s, now)
    except Exception:
        log.exception("digest: scan failed")
        out.failed.extend(c[0] for c in todo)
        return out
    for email, name, slack_user_id in todo:
        queue = csm_queue(deps, email, now, scan_result=result)
        if queue.problem:
            out.failed.append(email)
            continue
        key = digest_key(email, now)
        if not claim(deps.store, key, now):
            out.skipped.append(email)  # another process got there first
            continue
        if not queue.cards:
            out.skipped.append(email)
            continue
        try:
            channel = web.conversations_open(users=slack_user_id)["channel"]["id"]
            first = (name or "").split(" ")[0]
            title = f"Good morning {first}: {queue.total} referral ask{'s' if queue.total != 1 else ''} due"
            web.chat_postMessage(channel=channel, text=b.queue_text(queue.cards, now),
                                 blocks=b.queue_message_blocks(queue.cards, now, title=title))
            out.sent.append(email)
        except SlackApiError as exc:
            release(deps.store, key)  # let the next run (or another process) try again
            log.warning("digest DM failed", extra={"fields": {"error": exc.response.get("error")}})
            out.failed.append(email)
        except Exception:
            release(deps.store, key)
            log.exception("digest DM failed")
            out.failed.append(email)
    try:
        prune_events(deps.store, now - timedelta(days=3))
    except Exception:
        log.exception("pruning slack_events failed")
    return out
