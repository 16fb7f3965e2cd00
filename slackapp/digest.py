"""The daily digest: every CSM's queue (`warmintro.flows.queue`) by DM, once per UTC day.

`send_daily_digests(deps, now)` DMs every CSM their queue once per UTC day, even when several processes
run it: each (CSM, day) is claimed in `slack_events` under `digest:{email}:{date}` (a primary key), so only
the first process to insert the row sends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from slackapp import blocks as b
from slackapp.client import send_client
from slackapp.deps import Deps
from warmintro.claims import ClaimKind, claim, prune_events, release
from warmintro.flows.queue import csm_queue, run_scan
from warmintro.store import models as m

log = logging.getLogger(__name__)


@dataclass
class DigestResult:
    sent: list[str] = field(default_factory=list)  # CSM emails DMed by this call
    skipped: list[str] = field(default_factory=list)  # already sent today (by anyone), or nothing due
    failed: list[str] = field(default_factory=list)


def digest_key(csm_email: str, now: datetime) -> str:
    return ClaimKind.DIGEST.key(csm_email.lower(), now.date().isoformat())


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
    web = send_client(deps, client)
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
