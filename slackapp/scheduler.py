"""The background loops every bot process runs (started by bot.py): the scheduler (referral notices, outgoing
webhooks, the daily digest; only the leader of the advisory lock runs it) and the crash-replay of champion
answers (every process)."""

from __future__ import annotations

import logging
import threading

from slackapp.client import send_client
from slackapp.deps import Deps
from slackapp.digest import send_daily_digests
from slackapp.hook_cards import replay_hook_jobs
from slackapp.jobs_runner import replay_champion_jobs
from slackapp.notices import send_due_notices
from warmintro.engines.webhooks import deliver_due
from warmintro.flows.notices import summary
from warmintro.store.leader import Leader

log = logging.getLogger("bot")  # the name these lines have always had


def digest_loop(deps: Deps, hour_utc: int, stop: threading.Event, interval_s: float = 300.0) -> None:
    """The scheduler: referral reminders, escalations and close-the-loop messages, then one round of outgoing
    webhooks (docs/hooks.md), on every run; the daily digest once the hour has come. All are claimed in the
    store, so several processes send each once."""
    leader = Leader(deps.store.engine)  # many replicas: only the holder of the advisory lock runs the scheduler
    wait = 5.0
    while not stop.wait(wait):
        wait = interval_s
        if not leader.try_lead():
            continue
        now = deps.now()
        try:
            notices = send_due_notices(deps, now, send_client(deps, None))
            if notices.sent or notices.failed:
                log.info("referral notices", extra={"fields": summary(notices)})
        except Exception:
            log.exception("referral notices failed")
        try:
            hooks = deliver_due(deps.store, deps.settings, now)
            if hooks["claimed"] or hooks["recovered"]:
                log.info("webhooks", extra={"fields": hooks})
        except Exception:
            log.exception("webhook delivery failed")
        if now.hour < hour_utc:
            continue
        try:
            result = send_daily_digests(deps, now)
            if result.sent or result.failed:
                log.info("digest run", extra={"fields": {"sent": len(result.sent), "failed": len(result.failed)}})
        except Exception:
            log.exception("digest run failed")
    leader.release()


def jobs_loop(deps: Deps, stop: threading.Event, interval_s: float = 2.0) -> None:
    """Every process: finish the clicks a crashed process acknowledged but did not complete (warmintro/flows/jobs.py;
    a lease decides who does each). Runs at start-up, then every few seconds."""
    wait = 0.5
    while not stop.wait(wait):
        wait = interval_s
        try:
            done = replay_champion_jobs(deps, send_client(deps, None))
            if done:
                log.info("replayed unfinished answers", extra={"fields": {"jobs": done}})
        except Exception:
            log.exception("replaying unfinished answers failed")
        try:
            done = replay_hook_jobs(deps)
            if done:
                log.info("replayed unfinished hook evaluations", extra={"fields": {"jobs": done}})
        except Exception:
            log.exception("replaying unfinished hook evaluations failed")
