"""The champion's answer as a durable job (warmintro/flows/jobs.py): running one (approve, not now, not a fit; the
same records as the web page, warmintro/flows/approval.py), and the crash-replay: every process finishes the
answers a crashed process acknowledged but did not complete (slackapp/scheduler.py runs it every few seconds)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.client import send_client
from slackapp.deps import Deps
from slackapp.messaging import tell, update_message
from slackapp.notices import notify_csm, send_handoff
from warmintro.claims import ClaimKind, claim
from warmintro.engines.cadence import CadenceViolation
from warmintro.flows import approval, jobs
from warmintro.program import Program
from warmintro.store import models as m

log = logging.getLogger(__name__)


def draft_notes(s: Session, champion: m.Contact, target_emails: list[str], program: Program,
                csm_name: str | None, solved: str | None, *, deps: Deps) -> list[b.NoteDraft]:
    """A forwardable note per target in the champion's voice (warmintro.flows.approval.draft_notes)."""
    return approval.draft_notes(s, champion, target_emails, program, csm_name, solved, settings=deps.settings,
                                now=deps.now())


def record_referrals(deps: Deps, who: Identity, ask: m.Ask, target_emails: list[str],
                     client: WebClient | None = None) -> tuple[list[str], dict[str, str]]:
    """One referral per approved name (warmintro.flows.approval.record_referrals); the owner gets the handoff DM."""
    on_created = (lambda rid: send_handoff(deps, client, rid)) if client is not None else None  # noqa: E731
    return approval.record_referrals(deps.store, ask, target_emails, actor=who.email, now=deps.now(),
                                     source_tag="slack", on_created=on_created)


def on_champion_approved(deps: Deps, who: Identity, ask: m.Ask, client: WebClient | None = None) -> list[b.NoteDraft]:
    """Champion said yes: outcome accepted, a referral per name in the ledger (its owner gets the handoff
    DM), an audit row, and a note per name to forward (warmintro.flows.approval.approve, as on the web page)."""
    on_created = (lambda rid: send_handoff(deps, client, rid)) if client is not None else None  # noqa: E731
    result = approval.approve(deps.store, deps.settings, ask, ask_targets(deps, ask), actor=who.email, now=deps.now(),
                              source_tag="slack", via="slack", on_created=on_created)
    return result.notes


def ask_targets(deps: Deps, ask: m.Ask) -> list[str]:
    """The names this ask carried (recorded when it was sent), else today's targets for the champion."""
    return approval.ask_targets(deps.store, ask, deps.now(), deps.target_limit)


def champion_job_given_up(deps: Deps, client: WebClient, job: m.SlackJob) -> None:
    """An answer tried too often was given back: the champion hears it was not recorded (and can click again)."""
    tell(deps, client, dict(job.payload.get("body") or {}), _job_identity(job),
         "Sorry, I couldn't record that answer. Please click the button again.")


def _job_identity(job: m.SlackJob) -> Identity:
    w = job.payload.get("who") or {}
    return Identity(role=w.get("role") or "champion", slack_user_id=w.get("slack_user_id"), email=w.get("email"),
                    name=w.get("name"), account_id=w.get("account_id"), external=bool(w.get("external")))


def run_champion_job(deps: Deps, client: WebClient, job: m.SlackJob) -> None:
    """Do a champion's answer (leased job): every step is idempotent, so a replay after a crash finishes what
    the dead process started and repeats nothing the champion or the CSM would see twice."""
    who, body, kind = _job_identity(job), dict(job.payload.get("body") or {}), str(job.payload.get("kind"))
    with deps.store.session() as s:
        ask = s.get(m.Ask, int(job.payload["ask_id"]))
        if ask is not None:
            s.expunge(ask)
    if ask is None:
        jobs.give_back(deps.store, job, deps.now())
        return
    first = (who.name or "").split(" ")[0] or "The champion"
    notice_key = ClaimKind.NOTIFY.key(job.job_id)
    with jobs.held(deps.store, job.job_id, deps.now):
        _run_champion_answer(deps, client, job, who, body, kind, ask, first, notice_key)


def _run_champion_answer(deps: Deps, client: WebClient, job: m.SlackJob, who: Identity, body: dict[str, Any],
                         kind: str, ask: m.Ask, first: str, notice_key: str) -> None:
    try:
        if kind == "approve":
            notes = on_champion_approved(deps, who, ask, client)
            update_message(client, body, "Thank you! Here is a note you can forward.", b.approved_blocks(notes))
            text = (f"{b.escape(who.name or ask.contact_email)} approved your referral ask "
                    f"({len(notes)} note{'s' if len(notes) != 1 else ''} drafted).")
        elif kind == "not_now":
            approval.decline(deps.store, ask, actor=who.email, now=deps.now())
            update_message(client, body, "No problem at all.", b.answered_blocks(
                f"No problem at all, {first}. We won't ask again for a good while. Thank you!"))
            text = (f"{b.escape(who.name or ask.contact_email)} said not now "
                    "(recorded as declined; the cool-down has started).")
        else:
            approval.not_a_fit(deps.store, ask, actor=who.email, now=deps.now())
            update_message(client, body, "Thanks, noted.", b.answered_blocks(
                f"Thanks {first}, noted: those names aren't a fit. Your account team may come back with better ones."))
            text = f"{b.escape(who.name or ask.contact_email)} said the suggested names are not a fit."
        if claim(deps.store, notice_key, deps.now()):  # the CSM hears once, however often the job is replayed
            notify_csm(deps, client, ask.asked_by, text)
        jobs.finish(deps.store, job.job_id, deps.now())
    except CadenceViolation as exc:
        jobs.give_back(deps.store, job, deps.now())
        log.warning("champion answer refused by cadence", extra={"fields": {"reasons": exc.reasons}})
        tell(deps, client, body, who, "I couldn't record that answer; your account team has been told.")
    except Exception:
        jobs.unlease(deps.store, job.job_id)
        raise


def replay_champion_jobs(deps: Deps, client: WebClient) -> int:
    """Finish the answers a crashed process acknowledged but did not complete (bot.py runs this at start-up
    and every few seconds)."""
    return jobs.replay(deps.store, deps.now, lambda job: run_champion_job(deps, _job_client(deps, client, job), job),
                       gave_up=lambda job: champion_job_given_up(deps, _job_client(deps, client, job), job),
                       skip_kinds=("hook_eval",))  # signal hooks' evaluations: slackapp.hook_cards.replay_hook_jobs


def _job_client(deps: Deps, client: WebClient, job: m.SlackJob) -> WebClient:
    """The replay answers in the workspace the click came from (`send_client` gives that workspace's own bot
    token when the OAuth install flow is on, the process's client otherwise)."""
    team_id = ((job.payload.get("body") or {}).get("team") or {}).get("id")
    return send_client(deps, None, team_id) if team_id else client
