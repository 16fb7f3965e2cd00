"""`/referrals`: `today`, `report` and `help` are rendered here; everything else goes to the agent.

Slash commands must be acknowledged within 3 s, so the ack carries at most a line, and the answer comes
lazily through the command's response_url (`respond()`), visible only to the person who typed it.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, cast

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.listeners.common import guarded, identity_of, refusal_for, reply_blocks
from slackapp.listeners.payouts import show_due
from tools.common import find_contact
from warmintro.flows.queue import csm_queue

log = logging.getLogger(__name__)

COMMAND = "/referrals"
# subcommand -> how the text is handed to the agent (its offline router reads these keywords)
AGENT_SUBCOMMANDS = {
    "who-knows": "who knows {arg}",
    "draft": "draft the ask for {arg}",
    "why": "why {arg}",
    "report": "report",
}
NEEDS_ARG = {"who-knows": "a company or domain", "draft": "a champion's email", "why": "an account"}


def parse(text: str) -> tuple[str, str]:
    """("today" | "help" | a key of AGENT_SUBCOMMANDS | "unknown", argument)."""
    words = (text or "").strip().split(None, 1)
    if not words:
        return "help", ""
    sub = words[0].lower()
    arg = words[1].strip() if len(words) > 1 else ""
    if sub in ("who_knows", "whoknows"):
        sub = "who-knows"
    if sub in ("today", "help", "payouts") or sub in AGENT_SUBCOMMANDS:
        return sub, arg
    return "unknown", text.strip()


def _today(deps: Deps, who: Identity, respond: Respond) -> None:
    if not (who.role in ("csm", "admin") and who.is_vendor and who.email):
        respond(text="`/referrals today` is the CSM's queue. " + b.help_text(who.role), response_type="ephemeral")
        return
    now = deps.now()
    queue = csm_queue(deps, who.email, now)
    if queue.problem:
        respond(text=queue.problem, response_type="ephemeral")
        return
    title = f"Referral asks due today ({queue.total})"
    respond(text=b.queue_text(queue.cards, now), blocks=b.queue_message_blocks(queue.cards, now, title=title),
            response_type="ephemeral")


REPORT_ROLES = ("csm", "admin", "revops", "ae", "sdr")  # the vendor's team; never champions or partners


def report_summary(report: dict[str, Any]) -> str:
    """The program report in a few lines of mrkdwn (numbers only, from the ledger)."""
    def pct(x: float | None) -> str:
        return "–" if x is None else f"{x * 100:.1f}%"

    rate, pipe, won, sla = (report.get(k) or {} for k in ("referral_rate", "pipeline", "won_revenue", "sla"))
    def money(x: float | None) -> str:
        return "–" if x is None else f"{report.get('currency') or 'USD'} {x:,.0f}"

    funnel = " → ".join(f"{f.get('label') or f['stage'].replace('_', ' ')} {f['count']}" for f in report.get("funnel") or [])
    title = report.get("title") or f"Referral program as of {str(report.get('as_of', ''))[:10]}"
    lines = [f"*{b.escape(title)}*",
             f"• Referral rate: {pct(rate.get('rate'))} of {rate.get('customer_accounts', 0)} customers referred",
             f"• Funnel: {funnel}" if funnel else "• Funnel: no referrals yet",
             f"• Referral share of pipeline {pct(pipe.get('share'))} ({money(pipe.get('referral'))} of "
             f"{money(pipe.get('total'))}), of won revenue {pct(won.get('share'))} ({money(won.get('referral'))} of "
             f"{money(won.get('total'))})"]
    if sla:
        lines.append(f"• First-touch SLA met: {pct(sla.get('compliance'))}")
    flags = report.get("flags") or []
    if flags:
        lines.append(f"• {len(flags)} referral{'s' if len(flags) != 1 else ''} flagged for review (rings, unusual conversion)")
    return "\n".join(lines)


def _draft(deps: Deps, who: Identity, arg: str, respond: Respond) -> None:
    """`/referrals draft EMAIL` (CSM): the ask and the forwardable notes, privately; the same drafting code as
    the approval page and `warmintro draft` (`warmintro.voice.service.ask_with_notes`)."""
    from warmintro.errors import AmbiguousNameError, NotFoundError
    from warmintro.voice.service import ask_with_notes

    if not (who.role in ("csm", "admin") and who.is_vendor):
        respond(text=refusal_for(who), response_type="ephemeral")
        return
    with deps.store.session() as s:
        try:
            contact = find_contact(s, arg)
        except AmbiguousNameError as exc:
            respond(text=b.escape(str(exc)), response_type="ephemeral")
            return
        except NotFoundError:
            respond(text=f"I can't find a customer contact {b.escape(arg)}. Use their email, e.g. "
                         "`/referrals draft priya@northwind.com`.", response_type="ephemeral")
            return
        try:
            result = ask_with_notes(s, contact.email, settings=deps.settings, now=deps.now(),
                                    limit=deps.target_limit)
        except NotFoundError as exc:
            respond(text=b.escape(str(exc)), response_type="ephemeral")
            return
    notes = [(d.to_email or "", d.subject, d.body, d.mailto) for d in result.notes]
    respond(text=b.draft_review_text(result.champion_name, result.ask_text), response_type="ephemeral",
            blocks=b.draft_review_blocks(champion_name=result.champion_name, ask_text=result.ask_text, notes=notes))


def _report(deps: Deps, who: Identity, respond: Respond, client: Any) -> None:
    """`/referrals report`: the summary privately, and the charts (PNG) in the person's DM with the app."""
    import tempfile
    from pathlib import Path

    from warmintro.engines.report import program_report, render_png

    if not (who.role in REPORT_ROLES and who.is_vendor):
        respond(text=refusal_for(who), response_type="ephemeral")
        return
    with deps.store.session() as s:
        report = program_report(s, deps.now())
    text = report_summary(report)
    respond(text=text, response_type="ephemeral")
    if not who.slack_user_id:
        return
    with tempfile.TemporaryDirectory(prefix="warmintro-report-") as tmp:
        png = render_png(report, Path(tmp) / "referral-report.png")
        channel = client.conversations_open(users=who.slack_user_id)["channel"]["id"]
        client.files_upload_v2(channel=channel, file=str(png), filename="referral-report.png",
                               title="Referral program report", initial_comment=text)


def register(app: App, deps: Deps) -> None:
    def ack_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        sub, arg = parse(command.get("text") or "")
        who = identity_of(context)
        if who.role == "unknown":
            ack(text=refusal_for(who, context))
        elif sub == "help":
            ack(text=b.help_text(who.role))
        elif sub == "unknown":
            ack(text="I don't know that one. " + b.help_text(who.role))
        elif sub in NEEDS_ARG and not arg:
            ack(text=f"`/referrals {sub}` needs {NEEDS_ARG[sub]}, e.g. `/referrals {sub} …`.")
        else:
            ack(text=b.WORKING_TEXT)  # something useful at once; the answer replaces it (replace_original)

    def _failed(respond: Respond, **_: Any) -> None:
        respond(text=b.ERROR_TEXT, response_type="ephemeral")

    @guarded("/referrals", _failed)
    def run_command(command: dict[str, Any], respond: Respond, context: BoltContext, client: WebClient) -> None:
        who = identity_of(context)
        sub, arg = parse(command.get("text") or "")
        if who.role == "unknown" or sub in ("help", "unknown") or (sub in NEEDS_ARG and not arg):
            return  # answered in the ack
        respond = cast(Respond, functools.partial(respond, replace_original=True))  # the answer replaces "Working on it…"
        if sub == "today":
            _today(deps, who, respond)
            return
        if sub == "report":
            _report(deps, who, respond, client)
            return
        if sub == "draft":
            _draft(deps, who, arg, respond)
            return
        if sub == "payouts":
            show_due(deps, who, respond)
            return
        text = AGENT_SUBCOMMANDS[sub].format(arg=arg)
        channel = command.get("channel_id") or "slash"
        thread_id = f"{channel}:cmd:{command.get('user_id') or who.slack_user_id}"
        reply = deps.agent.respond(who, thread_id, text)
        pending = reply.pending
        respond(text=b.truncate(b.defang(reply.text), 3000), response_type="ephemeral",
                blocks=b.agent_reply_blocks(
                    reply.text, blocks=reply_blocks(reply, who), thread_id=thread_id, requester=who.slack_user_id,
                    pending_action_id=pending.action_id if pending else None,
                    pending_summary=pending.summary if pending else None))

    app.command(COMMAND)(ack=ack_command, lazy=[run_command])


