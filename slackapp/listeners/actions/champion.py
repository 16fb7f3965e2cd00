"""A champion's answer in their DM: Approve (a note to forward, with a mailto: link), Not a fit, Not now (a decline:
the cadence cool-down starts), Use this note. Only the champion the ask went to can answer it, once: the ack
claims the answer and writes its job (slackapp/jobs_runner.py runs it) before Slack gets its 200."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import select

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.jobs_runner import ask_targets, draft_notes, record_referrals, run_champion_job
from slackapp.listeners.common import (
    ack_only,
    guarded,
    identity_of,
    refusal_for,
    tell,
    tell_failure,
)
from slackapp.messaging import ask_context, audit, dm, show_in_progress
from slackapp.notices import notify_csm
from warmintro.claims import claim, release
from warmintro.engines.cadence import record_outcome
from warmintro.flows import approval, jobs
from warmintro.program import load_program
from warmintro.store import models as m

log = logging.getLogger(__name__)


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
        ctx = ask_context(s, ask.contact_email, ask.trigger_signal_id)
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
            dm(client, who.slack_user_id, "That note is out of date; nothing was recorded.")
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
    audit(deps, actor=who.email, action="champion_approved_note", subject=ask.contact_email,
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
        dm(client, who.slack_user_id, message, blocks)
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
            and jobs.start(deps.store, key, kind, _job_payload(body, who, kind, ask), deps.now()) != "answered"):
        # The old job was given back (tried too often), maybe while this click waited: the claim was free
        # again, so this click is a fresh answer rather than one more that nobody will do. "pending": a fresh
        # job was written first by another click or by this click's own ack (bolt runs the ack beside this
        # lazy half, so it can land right after the give-back): this click runs it, or waits for its holder.
        fresh = jobs.pending_for(deps.store, key)
        job = jobs.lease_or_wait(deps.store, fresh, deps.now) if fresh else None
    if job is not None:
        if kind == "approve":  # drafting the notes takes a moment: the buttons give way to that, then to the notes
            show_in_progress(client, body, "Drafting your note…")
        run_champion_job(deps, client, job)
    elif jobs.status(deps.store, job_id) == "done":
        # Another click's answer was still being finished when this one came (a second button, or a double
        # click): it is recorded now, and this click says so rather than nothing.
        tell(deps, client, body, who, "You already answered this one. Thank you!")


def register(app: App, deps: Deps) -> None:
    _failed = tell_failure(deps)

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
    app.action("champion_open_mailto")(ack_only)  # a URL button: Slack opens the link, we just ack

    @guarded("champion_use_note", _failed)
    def on_use_note(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        use_note(deps, client, body, identity_of(context), action.get("value"))

    app.action(b.CHAMPION_USE_NOTE)(ack=ack_only, lazy=[on_use_note])

