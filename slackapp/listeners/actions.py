"""Button clicks. Each is acked at once; the work runs in a lazy listener.

CSM (queue cards): Send ask (the click IS the human approval: the ask is recorded with the cadence enforced
in the write transaction, then the champion gets a DM), Snooze, Not now (with a reason).
Champion (their DM): Approve (a note to forward, with a mailto: link), Not a fit, Not now (a decline:
the cadence cool-down starts). Only the champion the ask went to can answer it, once.
Agent (a reply with a pending action): Approve / Cancel -> `deps.agent.decide`; only the person who asked.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.client import send_client
from slackapp.deps import Deps
from slackapp.home import publish_home
from slackapp.listeners.common import SENDER_ROLES, guarded, identity_of, refusal_for, tell
from slackapp.notices import notify_csm, send_handoff
from warmintro.claims import claim, release
from warmintro.engines.cadence import CadenceViolation, record_ask, record_outcome
from warmintro.engines.timeutil import iso
from warmintro.flows import approval, jobs
from warmintro.flows.queue import SET_ASIDE, SNOOZE_HOURS, SNOOZED, target_emails
from warmintro.program import Program, load_program
from warmintro.store import models as m

log = logging.getLogger(__name__)

ASK_SENT = approval.ASK_SENT  # audit row written with every ask sent from Slack: which names it carried

def explain_cadence(reasons: list[str], program: Program, name: str) -> str:
    r = program.rules
    why = {
        "decline_cooldown": f"declined an ask less than {r.decline_cooldown_days} days ago",
        "cadence_limit": f"has already been asked {r.max_asks_per_year} times in the last 365 days",
        "too_soon": f"was asked less than {r.min_days_between_asks} days ago",
        "do_not_contact": "is marked do-not-contact",
    }
    parts = [why.get(x, x) for x in reasons] or ["cannot be asked right now"]
    return f":no_entry: Not sent: {b.escape(name)} {' and '.join(parts)}. Nothing was recorded."


def _audit(deps: Deps, *, actor: str | None, action: str, subject: str | None, detail: dict[str, Any]) -> None:
    with deps.store.session() as s:
        s.add(m.AuditLog(at=deps.now(), actor=actor, action=action, subject=subject, detail=detail))


def _dm(client: WebClient, slack_user_id: str, text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    channel = client.conversations_open(users=slack_user_id)["channel"]["id"]
    resp = client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    return {"channel": channel, "ts": resp.get("ts")}


# ---------------------------------------------------------------------------------------------------
# CSM: queue cards


@dataclass
class AskContext:
    contact: m.Contact
    program: Program
    dealing_with: str | None
    solved: str | None


def _ask_context(s: Session, email: str, signal_id: str | None) -> AskContext | None:
    from warmintro.engines.problem import extract_problem

    contact = s.scalars(select(m.Contact).where(m.Contact.email == email.lower())).first()
    if contact is None:
        return None
    program = load_program(s)
    signal = s.get(m.Signal, signal_id) if signal_id else None
    problem = extract_problem(signal.notes, program.vendor.one_liner) if signal is not None and signal.notes else None
    s.expunge(contact)
    return AskContext(contact, program, problem.dealing_with if problem else None, problem.solved if problem else None)


def send_ask(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, value: str | None,
             intro: str | None = None) -> None:
    """Record the ask (cadence enforced in the write) and DM it to the champion. `intro`: the CSM's edited
    opening, from the Edit modal."""
    data = b.decode_value(value)
    email = str(data.get("e") or "")
    signal_id = str(data.get("s") or "") or None
    if not email:
        tell(deps, client, body, who, "That card is out of date; open the Home tab again.")
        return
    now = deps.now()
    with deps.store.session() as s:
        ctx = _ask_context(s, email, signal_id)
        if ctx is None:
            tell(deps, client, body, who, "That champion is no longer in the data; nothing was recorded.")
            return
        lines, emails, note = target_emails(s, email, now, deps.target_limit)
    contact = ctx.contact
    if contact.do_not_contact:
        tell(deps, client, body, who, f":no_entry: Not sent: {b.escape(contact.name)} is marked do-not-contact. "
                                      "Nothing was recorded.")
        return
    try:
        ask_id = record_ask(deps.store, ctx.program.rules, contact_email=contact.email, asked_at=now,
                            channel="slack" if contact.slack_user_id else "email", asked_by=who.email,
                            account_id=str(data.get("a") or contact.account_id), trigger_signal_id=signal_id,
                            persona=str(data.get("p") or "") or None)
    except CadenceViolation as exc:
        tell(deps, client, body, who, explain_cadence(exc.reasons, ctx.program, contact.name))
        return
    name = b.escape(contact.name)
    detail: dict[str, Any] = {"ask_id": ask_id, "targets": emails, "signal_id": signal_id, "edited": bool(intro)}
    if not contact.slack_user_id:
        _audit(deps, actor=who.email, action=ASK_SENT, subject=contact.email, detail={**detail, "via": "email"})
        tell(deps, client, body, who, f":white_check_mark: Ask to {name} recorded. They are not on Slack with us: "
                                      "send them their signed approval page (`warmintro link approve "
                                      + b.escape(contact.email) + "`), or the note from `/referrals draft "
                                      + b.escape(contact.email) + "`.")
        return
    blocks = b.champion_ask_blocks(champion_name=contact.name, csm_name=who.name or "Your account team",
                                   vendor=ctx.program.vendor.name, dealing_with=ctx.dealing_with, targets=lines,
                                   targets_note=note, ask_id=ask_id, intro=intro)
    try:
        sent = _dm(client, contact.slack_user_id,
                   b.champion_ask_text(contact.name, who.name or "Your account team", ctx.program.vendor.name), blocks)
    except SlackApiError as exc:
        error = exc.response.get("error")
        _audit(deps, actor=who.email, action="ask_dm_failed", subject=contact.email, detail={**detail, "error": error})
        tell(deps, client, body, who, f":warning: The ask to {name} is recorded, but the DM failed ({b.escape(error)}). "
                                      "Please reach out yourself.")
        return
    _audit(deps, actor=who.email, action=ASK_SENT, subject=contact.email, detail={**detail, "via": "slack_dm", **sent})
    tell(deps, client, body, who, f":white_check_mark: Ask sent to {name} in a DM and recorded in the ledger.")


def snooze(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, value: str | None) -> None:
    data = b.decode_value(value)
    email, signal_id = str(data.get("e") or ""), str(data.get("s") or "")
    if not email:
        tell(deps, client, body, who, "That card is out of date; open the Home tab again.")
        return
    until = deps.now() + timedelta(hours=SNOOZE_HOURS)
    _audit(deps, actor=who.email, action=SNOOZED, subject=email.lower(), detail={"signal_id": signal_id, "until": iso(until)})
    tell(deps, client, body, who, f":zzz: Snoozed for {SNOOZE_HOURS} h.")


def set_aside(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, action: dict[str, Any]) -> None:
    card = b.parse_card_block_id(action.get("block_id"))
    reason = ((action.get("selected_option") or {}).get("value")) or "other"
    if card is None or reason not in dict(b.NOT_NOW_REASONS):
        tell(deps, client, body, who, "That card is out of date; open the Home tab again.")
        return
    signal_id, email = card
    _audit(deps, actor=who.email, action=SET_ASIDE, subject=email.lower(), detail={"signal_id": signal_id, "reason": reason})
    tell(deps, client, body, who, f"Set aside ({dict(b.NOT_NOW_REASONS)[reason].lower()}). It won't come back for this moment.")


# ---------------------------------------------------------------------------------------------------
# Champion: their DM


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


def _update_message(client: WebClient, body: dict[str, Any], text: str, blocks: list[dict[str, Any]]) -> None:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts")
    if channel and ts and not container.get("is_ephemeral"):
        client.chat_update(channel=channel, ts=ts, text=b.truncate(text, 3000), blocks=blocks)
    elif body.get("response_url"):
        WebhookClient(body["response_url"]).send(text=b.truncate(text, 3000), blocks=blocks, replace_original=True)


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


def _champion_ask(deps: Deps, who: Identity, ask_id: object) -> m.Ask | None:
    """The ask, when `who` is the champion it went to; else None."""
    try:
        key = int(ask_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    with deps.store.session() as s:
        ask = s.get(m.Ask, key)
        if ask is not None:
            s.expunge(ask)
    if ask is None or who.role != "champion" or not who.email or who.email.lower() != ask.contact_email:
        return None
    return ask


def use_note(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, value: str | None) -> None:
    """"Use this note" on one name: open a modal at once (trigger_ids last 3 s), then fill in the draft."""
    data = b.decode_value(value)
    ask = _champion_ask(deps, who, data.get("ask"))
    if ask is None:
        tell(deps, client, body, who, refusal_for(who) if who.role != "champion" else "That message is out of date.")
        return
    opened = client.views_open(trigger_id=body["trigger_id"], view=b.loading_modal("Your note"))
    view_id = opened["view"]["id"]
    targets = ask_targets(deps, ask)
    try:
        email = targets[int(data.get("i") or 0)]
    except (IndexError, ValueError, TypeError):
        client.views_update(view_id=view_id, view=b.loading_modal("Your note", "That name is no longer in this ask."))
        return
    with deps.store.session() as s:
        program = load_program(s)
        champion = s.scalars(select(m.Contact).where(m.Contact.email == ask.contact_email)).one()
        csm = s.get(m.TeamMember, ask.asked_by) if ask.asked_by else None
        ctx = _ask_context(s, ask.contact_email, ask.trigger_signal_id)
        [note] = draft_notes(s, champion, [email], program, csm.name if csm else None, ctx.solved if ctx else None,
                             deps=deps)
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    client.views_update(view_id=view_id, view=b.note_modal_view(
        ask_id=ask.id, to_email=note.to_email, to_name=note.to_name, subject=note.subject, body=note.body,
        source=note.source, channel=channel))


def note_submitted(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, view: dict[str, Any]) -> None:
    """The champion approved the intro to one name with their own (edited) note: the ask is accepted (once),
    the referral recorded (once), and the note comes back with a mailto: button and copyable text."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    ask = _champion_ask(deps, who, meta.get("ask"))
    email = str(meta.get("t") or "").lower()
    if ask is None or not email or email not in ask_targets(deps, ask):
        if who.slack_user_id:
            _dm(client, who.slack_user_id, "That note is out of date; nothing was recorded.")
        return
    subject = b.view_input(view, b.NOTE_SUBJECT_BLOCK, b.NOTE_SUBJECT_INPUT).strip()
    text = b.view_input(view, b.NOTE_BODY_BLOCK, b.NOTE_BODY_INPUT).strip()
    key = approval.answer_key(ask.id)
    first_answer = claim(deps.store, key, deps.now())
    try:
        if first_answer:
            with deps.store.session() as s:
                rules = load_program(s).rules
            record_outcome(deps.store, rules, ask.id, "accepted", actor=who.email)
        ids, blocked = record_referrals(deps, who, ask, [email], client)
    except Exception:
        if first_answer:
            release(deps.store, key)
        raise
    _audit(deps, actor=who.email, action="champion_approved_note", subject=ask.contact_email,
           detail={"ask_id": ask.id, "target": email, "referrals": ids, "blocked": blocked, "edited": True})
    with deps.store.session() as s:
        person = s.get(m.Person, email)
        to_name = person.name if person is not None else email
    channel = str(meta.get("c") or "")
    if blocked:
        message, blocks = (f"Thanks! {to_name} can't be referred ({blocked[email].replace('_', ' ')}), so nothing was "
                           "recorded for them.", None)
    else:
        note = b.NoteDraft(email, to_name, subject, text, "champion")
        message, blocks = "Thank you! Here is your note, ready to forward.", b.approved_blocks([note])
    if channel:
        client.chat_postMessage(channel=channel, text=message, blocks=blocks)
    elif who.slack_user_id:
        _dm(client, who.slack_user_id, message, blocks)
    if first_answer and not blocked:
        notify_csm(deps, client, ask.asked_by, f"{b.escape(who.name or ask.contact_email)} approved an intro to "
                                                f"{b.escape(to_name)} (note edited by them).")


def _champion_ask_for(deps: Deps, who: Identity, value: str | None) -> m.Ask | None:
    """The ask a champion's button is about, when `who` is the champion it went to."""
    return _champion_ask(deps, who, b.decode_value(value).get("ask"))


def start_champion_answer(deps: Deps, body: dict[str, Any], who: Identity, kind: str, value: str | None) -> str | None:
    """Called in the ack, before Slack hears 200: the answer's claim and its job are written together, so a
    crash after the ack loses nothing (warmintro/flows/jobs.py). None when the click is not a valid answer."""
    ask = _champion_ask_for(deps, who, value)
    if ask is None:
        return None
    return jobs.start(deps.store, approval.answer_key(ask.id), kind, _job_payload(body, who, kind, ask), deps.now())


def _job_payload(body: dict[str, Any], who: Identity, kind: str, ask: m.Ask) -> dict[str, Any]:
    return {"kind": kind, "ask_id": ask.id,
            "who": {"role": who.role, "slack_user_id": who.slack_user_id, "email": who.email, "name": who.name,
                    "account_id": who.account_id, "external": who.external},
            "body": {k: body.get(k) for k in ("container", "channel", "response_url", "user", "team") if body.get(k)}}


def champion_answer(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, kind: str,
                    value: str | None) -> None:
    """The lazy half of a champion's click: run the job the ack wrote (or say why there is none)."""
    ask = _champion_ask_for(deps, who, value)
    if ask is None:
        tell(deps, client, body, who, refusal_for(who) if who.role != "champion" or b.decode_value(value).get("ask")
             else "That message is out of date.")
        return
    job_id = jobs.wait_for_job(deps.store, approval.answer_key(ask.id))
    if job_id is None:
        tell(deps, client, body, who, "You already answered this one. Thank you!")
        return
    # Another process holds the job (a double click, or a process that died mid-answer): wait for it to finish,
    # or for its lease to lapse and take it over, so this click always ends with the answer recorded.
    job = jobs.lease_or_wait(deps.store, job_id, deps.now)
    if job is not None and jobs.exhausted(job):
        jobs.give_back(deps.store, job, deps.now())
        job = None
    key = approval.answer_key(ask.id)
    if (job is None and jobs.status(deps.store, job_id) == "failed"
            and jobs.start(deps.store, key, kind, _job_payload(body, who, kind, ask), deps.now()) == "new"):
        # The old job was given back (tried too often), maybe while this click waited: the claim was free
        # again, so this click is a fresh answer rather than one more that nobody will do.
        fresh = jobs.pending_for(deps.store, key)
        job = jobs.lease(deps.store, fresh, deps.now()) if fresh else None
    if job is not None:
        run_champion_job(deps, client, job)


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
    notice_key = f"notify:{job.job_id}"
    with jobs.held(deps.store, job.job_id, deps.now):
        _run_champion_answer(deps, client, job, who, body, kind, ask, first, notice_key)


def _run_champion_answer(deps: Deps, client: WebClient, job: m.SlackJob, who: Identity, body: dict[str, Any],
                         kind: str, ask: m.Ask, first: str, notice_key: str) -> None:
    try:
        if kind == "approve":
            notes = on_champion_approved(deps, who, ask, client)
            _update_message(client, body, "Thank you! Here is a note you can forward.", b.approved_blocks(notes))
            text = (f"{b.escape(who.name or ask.contact_email)} approved your referral ask "
                    f"({len(notes)} note{'s' if len(notes) != 1 else ''} drafted).")
        elif kind == "not_now":
            approval.decline(deps.store, ask, actor=who.email, now=deps.now())
            _update_message(client, body, "No problem at all.", b.answered_blocks(
                f"No problem at all, {first}. We won't ask again for a good while. Thank you!"))
            text = (f"{b.escape(who.name or ask.contact_email)} said not now "
                    "(recorded as declined; the cool-down has started).")
        else:
            approval.not_a_fit(deps.store, ask, actor=who.email, now=deps.now())
            _update_message(client, body, "Thanks, noted.", b.answered_blocks(
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
                       gave_up=lambda job: champion_job_given_up(deps, _job_client(deps, client, job), job))


def _job_client(deps: Deps, client: WebClient, job: m.SlackJob) -> WebClient:
    """The replay answers in the workspace the click came from (`send_client` gives that workspace's own bot
    token when the OAuth install flow is on, the process's client otherwise)."""
    team_id = ((job.payload.get("body") or {}).get("team") or {}).get("id")
    return send_client(deps, None, team_id) if team_id else client


# ---------------------------------------------------------------------------------------------------
# CSM: edit the ask before sending it


def edit_ask(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, value: str | None) -> None:
    """Open the Edit modal at once, then fill it with the drafted ask (the champion's voice drafter's ask text)."""
    data = b.decode_value(value)
    email = str(data.get("e") or "")
    if not email:
        tell(deps, client, body, who, "That card is out of date; open the Home tab again.")
        return
    opened = client.views_open(trigger_id=body["trigger_id"], view=b.loading_modal("Edit the ask"))
    view_id = opened["view"]["id"]
    with deps.store.session() as s:
        ctx = _ask_context(s, email, str(data.get("s") or "") or None)
        if ctx is None:
            client.views_update(view_id=view_id, view=b.loading_modal("Edit the ask", "That champion is no longer in the data."))
            return
        _lines, emails, _note = target_emails(s, email, deps.now(), deps.target_limit)
        text = _drafted_ask_text(deps, s, ctx, emails, who)
    client.views_update(view_id=view_id, view=b.edit_ask_modal_view(value=value or "", champion_name=ctx.contact.name,
                                                                    text=text))


def _drafted_ask_text(deps: Deps, s: Session, ctx: AskContext, emails: list[str], who: Identity) -> str:
    first = (ctx.contact.name or "there").split()[0]
    if emails:
        from warmintro.voice.service import draft_in_session

        try:
            with s.begin_nested():
                return draft_in_session(s, ctx.contact.email, emails[0], settings=deps.settings, now=deps.now()).ask_text
        except Exception as exc:
            log.warning("ask draft failed; using the plain opener", extra={"fields": {"error": type(exc).__name__}})
    question = (f"who in your network is still dealing with {ctx.dealing_with}?" if ctx.dealing_with
                else f"would you introduce us to someone who could use {ctx.program.vendor.name} too?")
    return f"Hi {first}, {who.name or 'your account team'} from {ctx.program.vendor.name} here. A quick one: {question}"


def edit_submitted(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, view: dict[str, Any]) -> None:
    text = b.view_input(view, b.ASK_TEXT_BLOCK, b.ASK_TEXT_INPUT).strip()
    send_ask(deps, client, body, who, view.get("private_metadata"), intro=text or None)


# ---------------------------------------------------------------------------------------------------
# Reps: "Request intro" on a warm path


def request_intro(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, value: str | None) -> None:
    """Route the rep's request to whoever owns the connector's relationship (the customer's CSM, the
    investor's owner...). A customer connector is asked only within cadence: the request is refused, with
    the reason, when the champion could not be asked now. Each request is routed once."""
    from warmintro.engines.cadence import load_history, write_reasons

    data = b.decode_value(value)
    connector, target = str(data.get("c") or "").lower(), str(data.get("t") or "").lower()
    pillar, owner = str(data.get("p") or ""), str(data.get("r") or "").lower()
    if not connector or not target:
        tell(deps, client, body, who, "That button is out of date; ask again.")
        return
    now = deps.now()
    with deps.store.session() as s:
        program = load_program(s)
        names: dict[str, str] = {}
        for e in (connector, target):
            person = s.get(m.Person, e)
            names[e] = person.name if person is not None and person.name else e
        contact = s.scalars(select(m.Contact).where(m.Contact.email == connector)).first()
        if contact is not None:
            names[connector] = contact.name
        reasons: list[str] = []
        if pillar == "customer" and contact is not None:
            if contact.do_not_contact:
                reasons = ["do_not_contact"]
            else:
                reasons = write_reasons(load_history(s, [connector]).get(connector, []), now, program.rules)
        member = s.get(m.TeamMember, owner) if owner else None
        owner_slack = member.slack_user_id if member is not None else None
        owner_name = member.name if member is not None else owner
    if reasons:
        tell(deps, client, body, who, explain_cadence(reasons, program, names[connector]))
        return
    if not owner_slack:
        tell(deps, client, body, who, f"No one on our team owns {b.escape(names[connector])}'s relationship in Slack "
                                      f"yet; reach out to {b.escape(owner_name or 'the account team')} directly.")
        return
    if not claim(deps.store, f"intro:{who.email}:{connector}:{target}", now):
        tell(deps, client, body, who, f"Already requested: {b.escape(owner_name)} has it.")
        return
    _dm(client, owner_slack, f":handshake: {b.escape(who.name or who.email or 'A rep')} ({b.escape(who.role)}) asks for an "
                             f"intro to *{b.escape(names[target])}* through *{b.escape(names[connector])}* ({b.escape(pillar)}). "
                             "If the moment is right, ask them from your queue.")
    _audit(deps, actor=who.email, action="intro_requested", subject=connector,
           detail={"target": target, "pillar": pillar, "routed_to": owner})
    tell(deps, client, body, who, f":white_check_mark: Asked {b.escape(owner_name)} to arrange the intro to "
                                  f"{b.escape(names[target])} through {b.escape(names[connector])}.")


# ---------------------------------------------------------------------------------------------------
# Agent pending actions


def decide(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, action: dict[str, Any]) -> None:
    action_id = str(action.get("action_id") or "")
    approve = action_id.startswith(b.AGENT_APPROVE_PREFIX)
    pending_id = action_id.split(":", 1)[1] if ":" in action_id else ""
    data = b.decode_value(action.get("value"))
    thread_id, requester = str(data.get("t") or ""), str(data.get("u") or "")
    if not pending_id or not thread_id:
        tell(deps, client, body, who, "That button is out of date.")
        return
    if who.role == "unknown" or (requester and who.slack_user_id != requester):
        tell(deps, client, body, who, "Only the person who asked can approve or cancel this." if who.role != "unknown"
             else refusal_for(who))
        return
    key = f"decide:{pending_id}"
    first = claim(deps.store, key, deps.now())
    try:
        reply = deps.agent.decide(who, thread_id, pending_id, approve)
    except Exception:
        if first:
            release(deps.store, key)
        raise
    if not first:
        # a second click (or a click in another window): the service found it decided; say so, leave the message
        tell(deps, client, body, who, b.defang(reply.text))
        return
    message = body.get("message") or {}
    # keep the reply (and the "Needs your OK" line as history); drop the buttons; add who decided and the result
    kept = [blk for blk in message.get("blocks") or [] if not str(blk.get("block_id") or "").startswith("pending_actions|")]
    decision = b.decided_blocks("Approved" if approve else "Cancelled", who.slack_user_id, reply.text)
    _update_message(client, body, b.defang(reply.text), (kept + decision)[-b.MESSAGE_BLOCKS_MAX:])


# ---------------------------------------------------------------------------------------------------


def register(app: App, deps: Deps) -> None:
    def ack_action(ack: Ack) -> None:
        ack()

    def _failed(body: dict[str, Any], client: WebClient, context: BoltContext, **_: Any) -> None:
        tell(deps, client, body, identity_of(context), b.ERROR_TEXT)

    def csm_only(fn: Callable[[Deps, WebClient, dict[str, Any], Identity, Any], None], field: str) -> Callable[..., None]:
        @guarded(fn.__name__, _failed)
        def run(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
            who = identity_of(context)
            if not (who.role in SENDER_ROLES and who.is_vendor and who.email):
                tell(deps, client, body, who, refusal_for(who))
                return
            fn(deps, client, body, who, action.get("value") if field == "value" else action)

        run.__name__ = f"lazy_{fn.__name__}"
        return run

    app.action(b.SEND_ASK)(ack=ack_action, lazy=[csm_only(send_ask, "value")])
    app.action(b.EDIT_ASK)(ack=ack_action, lazy=[csm_only(edit_ask, "value")])
    app.action(b.SNOOZE)(ack=ack_action, lazy=[csm_only(snooze, "value")])
    app.action(b.NOT_NOW)(ack=ack_action, lazy=[csm_only(set_aside, "action")])

    @guarded("home_refresh")
    def refresh(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        user_id = (body.get("user") or {}).get("id")
        if user_id:
            publish_home(deps, client, user_id, identity_of(context))

    app.action(b.HOME_REFRESH)(ack=ack_action, lazy=[refresh])

    def champion(kind: str) -> Callable[..., None]:
        @guarded(f"champion_{kind}", _failed)
        def run(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
            champion_answer(deps, client, body, identity_of(context), kind, action.get("value"))

        run.__name__ = f"lazy_champion_{kind}"
        return run

    def champion_ack(kind: str) -> Callable[..., None]:
        def ack_answer(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            # The job is written before the 200: a crash from here on is replayed, not lost. If the store cannot
            # take it, the click fails visibly (Slack shows an error) rather than being acknowledged and dropped.
            start_champion_answer(deps, body, identity_of(context), kind, action.get("value"))
            ack()

        return ack_answer

    app.action(b.CHAMPION_APPROVE)(ack=champion_ack("approve"), lazy=[champion("approve")])
    app.action(b.CHAMPION_NOT_A_FIT)(ack=champion_ack("not_a_fit"), lazy=[champion("not_a_fit")])
    app.action(b.CHAMPION_NOT_NOW)(ack=champion_ack("not_now"), lazy=[champion("not_now")])
    app.action("champion_open_mailto")(ack_action)  # a URL button: Slack opens the link, we just ack

    @guarded("champion_use_note", _failed)
    def on_use_note(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        use_note(deps, client, body, identity_of(context), action.get("value"))

    app.action(b.CHAMPION_USE_NOTE)(ack=ack_action, lazy=[on_use_note])

    def ack_view(ack: Ack) -> None:
        ack()  # closes the modal; the work runs lazily

    @guarded("champion_note_submitted")
    def on_note(body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        note_submitted(deps, client, body, identity_of(context), view)

    app.view(b.NOTE_MODAL)(ack=ack_view, lazy=[on_note])

    @guarded("csm_edit_submitted")
    def on_edit(body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        who = identity_of(context)
        if not (who.role in SENDER_ROLES and who.is_vendor and who.email):
            return
        edit_submitted(deps, client, body, who, view)

    app.view(b.EDIT_ASK_MODAL)(ack=ack_view, lazy=[on_edit])

    @guarded("rep_request_intro", _failed)
    def on_request_intro(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        who = identity_of(context)
        if not (who.is_vendor and who.email and who.role != "unknown"):
            tell(deps, client, body, who, refusal_for(who))
            return
        request_intro(deps, client, body, who, action.get("value"))

    app.action(re.compile("^" + re.escape(b.REQUEST_INTRO) + ":"))(ack=ack_action, lazy=[on_request_intro])

    @guarded("agent_decide", _failed)
    def on_decide(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        decide(deps, client, body, identity_of(context), action)

    app.action(re.compile("^(" + re.escape(b.AGENT_APPROVE_PREFIX) + "|" + re.escape(b.AGENT_CANCEL_PREFIX) + ")"))(
        ack=ack_action, lazy=[on_decide])
