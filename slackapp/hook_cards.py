"""The CSM's queue card for an ask a signal hook opened, by DM, once across processes; and the hook's durable
evaluation job that finds those asks (warmintro.flows.signal_intake) and sends the cards."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from slackapp import blocks as b
from slackapp.client import send_client
from slackapp.deps import Deps
from warmintro.claims import claim, release
from warmintro.flows import jobs
from warmintro.flows.queue import card_for_ask, target_lines
from warmintro.flows.signal_intake import JOB_KIND, card_key, evaluate
from warmintro.store import models as m

log = logging.getLogger(__name__)


def deliver_cards(deps: Deps, asks: Sequence[Any], now: datetime) -> list[str]:
    """DM each ask's CSM (accounts.csm_email -> team.csv slack_user_id) its queue card, once across
    processes. Returns the claim keys this call sent."""
    sent: list[str] = []
    for ask in asks:
        email = (ask.csm_email or "").lower()
        with deps.store.session() as s:
            member = s.scalars(select(m.TeamMember).where(m.TeamMember.email == email)).first() if email else None
            slack_user = member.slack_user_id if member is not None else None
        if not slack_user:
            log.info("hook ask has no CSM on Slack", extra={"fields": {"signal_id": ask.trigger.signal_id,
                                                                       "csm_email": email or None}})
            continue
        key = card_key(ask)
        if not claim(deps.store, key, now):
            continue  # another process (or an earlier delivery) has it
        try:
            with deps.store.session() as s:
                lines, note = target_lines(s, ask.contact_email, now, deps.target_limit)
            card = card_for_ask(ask, lines, note)
            web = send_client(deps, None)
            channel = web.conversations_open(users=slack_user)["channel"]["id"]
            title = f"New referral ask: {ask.contact_name} at {ask.account_name}, just now"
            web.chat_postMessage(channel=channel, text=title + "\n" + b.queue_text([card], now),
                                 blocks=b.queue_message_blocks([card], now, title=title))
            with deps.store.session() as s:
                s.add(m.AuditLog(at=now, actor="hooks", action="hook_card", subject=ask.contact_email,
                                 detail={"signal_id": ask.trigger.signal_id, "csm_email": email}))
            sent.append(key)
        except Exception as exc:
            release(deps.store, key)  # the digest (or a re-post) may still deliver it
            log.warning("hook card DM failed", extra={"fields": {"key": key, "error": type(exc).__name__}})
    return sent


def run_job(deps: Deps, job: m.SlackJob, evaluated: Callable[[list[Any]], None] | None = None) -> list[Any]:
    """Evaluate a leased hook job's signals, enqueue their `ask_opened` webhooks (then tell `evaluated`, so the
    hook can answer before the DMs go), DM the cards, and finish the job. Every step is idempotent (webhook
    keys, card claims), so a replay after a crash repeats nothing visible."""
    now = datetime.fromisoformat(job.payload["now"])
    with jobs.held(deps.store, job.job_id, deps.now):
        asks = evaluate(deps.store, job.payload["signal_ids"], now)
        if asks:
            from warmintro.engines.webhooks import enqueue_ask_opened

            with deps.store.session() as s:  # the asks are computed, not stored: their events go here
                for ask in asks:
                    enqueue_ask_opened(s, ask, now)
        if evaluated is not None:
            evaluated(asks)
        if asks:
            deliver_cards(deps, asks, now)
    jobs.finish(deps.store, job.job_id, deps.now())
    return asks


def replay_hook_jobs(deps: Deps) -> int:
    """Finish the evaluations a process accepted but did not complete (the jobs loop, every process)."""
    return jobs.replay(deps.store, deps.now, lambda job: run_job(deps, job), kinds=(JOB_KIND,))
