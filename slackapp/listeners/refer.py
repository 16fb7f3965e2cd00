"""The employee program in Slack (issue 13): `/refer name, email, company, context`, `/refer suggest`, and
the referrals channel (program.toml `[employees] referrals_channel`, a channel id) where a message in the
same form is picked up.

Only the vendor's own team may refer here; the referral goes on the ledger as program `employee` (routing,
the blocking rules and attribution are the ledger's). The owner gets the handoff, and the submitter hears
about every stage from then on (the `employee_stage` notices, the first one, "routed", at once).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.listeners.common import guarded, identity_of, refusal_for
from slackapp.notices import send_due_notices, send_handoff

log = logging.getLogger(__name__)

COMMAND = "/refer"
USAGE = ("`/refer name, email, company, context`, e.g. `/refer Jo Park, jo@acme.com, Acme Freight, met at a "
         "conference; runs dispatch for 40 trucks`. `/refer suggest` lists former colleagues you could refer.")
_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<(?:https?://)?([^|>]+)\|([^>]*)>")
_EMAIL = re.compile(r"^[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+$")


@dataclass(frozen=True)
class Submission:
    name: str
    email: str
    company: str | None
    context: str | None


def parse_submission(text: str) -> Submission | None:
    """"name, email, company, context" (company and context optional; the context may hold commas).
    Slack's mailto and link markup is undone first. None when there is no name and valid email."""
    clean = _MAILTO.sub(lambda mm: mm.group(1), text or "")
    clean = _LINK.sub(lambda mm: mm.group(2) or mm.group(1), clean).strip()
    parts = [p.strip() for p in clean.split(",", 3)]
    if len(parts) < 2:
        return None
    name, email = parts[0], parts[1].lower()
    if not name or not _EMAIL.match(email):
        return None
    company = parts[2] if len(parts) > 2 and parts[2] else None
    context = parts[3] if len(parts) > 3 and parts[3] else None
    return Submission(name, email, company, context)


def can_refer(who: Identity) -> bool:
    from warmintro.engines.referrers import VENDOR_ROLES

    return who.is_vendor and bool(who.email) and who.role in VENDOR_ROLES


def submit(deps: Deps, client: WebClient, who: Identity, sub: Submission, key: str) -> str:
    """Log the referral and start its notices; the line to tell the submitter."""
    from warmintro.engines.ledger import ReferralBlocked, create_referral

    assert who.email
    key = "refer:" + hashlib.sha1(key.encode()).hexdigest()
    try:
        view = create_referral(deps.store, referrer_email=who.email, referee_email=sub.email, at=deps.now(),
                               referee_name=sub.name, referee_company=sub.company, program_kind="employee",
                               source_tag="referral:employee:slack", idempotency_key=key, actor=who.email)
    except ReferralBlocked as exc:
        return f"I can't log that one ({exc.reason}): {b.escape(str(exc).split(': ', 1)[-1])}."
    if not view.created:
        return f"You already referred {b.escape(sub.name)} ({view.referral_id}); I'll keep you posted."
    if sub.context:
        with deps.store.session(write=True) as s:
            from warmintro.store import models as m

            r = s.get(m.Referral, view.referral_id)
            if r is not None:
                r.extra = {**(r.extra or {}), "context": sub.context[:2000]}
    send_handoff(deps, client, view.referral_id)
    send_due_notices(deps, deps.now(), client, only=view.referral_id)
    owner = view.owner_email or "the team"
    return (f":white_check_mark: Thanks! {b.escape(sub.name)} ({b.escape(sub.email)}) is logged as {view.referral_id} "
            f"and routed to {b.escape(owner)}. You'll get a DM at every stage.")


def suggestions_text(deps: Deps, who: Identity) -> str:
    from warmintro.engines.programs import employee_suggestions

    assert who.email
    with deps.store.session() as s:
        got = employee_suggestions(s, who.email, deps.now(), limit=5)
    if not got["suggestions"]:
        return ("I found no former colleagues at companies that fit our ICP in your employment history. "
                "You can still refer anyone: " + USAGE)
    lines = ["*Former colleagues you could refer* (reply with `/refer name, email, company, context`):"]
    for x in got["suggestions"]:
        lines.append(f"• {b.escape(x['name'])}, {b.escape(x['title'] or '')} at {b.escape(x['company'])} "
                     f"({b.escape(x['email'])}): {b.escape('; '.join(x['reasons']))}")
    return "\n".join(lines)


def referrals_channel(deps: Deps) -> str | None:
    from warmintro.program import load_program

    with deps.store.session() as s:
        return load_program(s).employees.referrals_channel


def register(app: App, deps: Deps) -> None:
    def ack_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        who = identity_of(context)
        text = (command.get("text") or "").strip()
        if who.role == "unknown":
            ack(text=refusal_for(who, context))
        elif not can_refer(who):
            ack(text="`/refer` is for our own team's referrals. " + b.REFUSAL_NOT_ALLOWED)
        elif not text or text.lower() == "help":
            ack(text=USAGE)
        elif text.lower() == "suggest":
            ack()
        elif parse_submission(text) is None:
            ack(text="I need at least a name and an email. " + USAGE)
        else:
            ack(text="Logging your referral…")

    def _failed(respond: Respond, **_: Any) -> None:
        respond(text=b.ERROR_TEXT, response_type="ephemeral")

    @guarded("/refer", _failed)
    def run_command(command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
        who = identity_of(context)
        text = (command.get("text") or "").strip()
        if not can_refer(who) or not text or text.lower() == "help":
            return  # answered in the ack
        if text.lower() == "suggest":
            respond(text=suggestions_text(deps, who), response_type="ephemeral")
            return
        sub = parse_submission(text)
        if sub is None:
            return
        line = submit(deps, client, who, sub, f"refer:{who.email}:{sub.email}")
        respond(text=line, response_type="ephemeral")

    app.command(COMMAND)(ack=ack_command, lazy=[run_command])

    def in_referrals_channel(event: dict[str, Any]) -> bool:
        if event.get("channel_type") == "im" or event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return False
        if event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
            return False  # replies in a thread are conversation, not submissions
        try:
            channel = referrals_channel(deps)
        except Exception:
            log.exception("could not read the referrals channel")
            return False
        return bool(channel) and event.get("channel") == channel

    def ack_event(ack: Ack) -> None:
        ack()

    def _tell_failure(event: dict[str, Any], client: WebClient, **_: Any) -> None:
        client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text=b.ERROR_TEXT)

    @guarded("referrals channel", _tell_failure)
    def on_channel_message(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        who = identity_of(context)
        sub = parse_submission(event.get("text") or "")
        if sub is None:
            return  # chatter in the channel is left alone
        if not can_refer(who):
            client.chat_postEphemeral(channel=event["channel"], user=event["user"],
                                      text="Only our own team's referrals are picked up here.")
            return
        line = submit(deps, client, who, sub, f"refer:{who.email}:{sub.email}")
        client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text=line)

    # Registered before the events module's message listener: bolt runs the first listener that matches.
    app.event({"type": "message", "subtype": None}, matchers=[in_referrals_channel])(
        ack=ack_event, lazy=[on_channel_message])
