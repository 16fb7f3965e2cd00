"""A CSM's queue cards (App Home, the digest): Send ask (the click IS the human approval: the ask is recorded
with the cadence enforced in the write transaction, then the champion gets a DM), Edit, Snooze, Not now (with
a reason), and Refresh."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.home import publish_home
from slackapp.listeners.common import (
    ack_only,
    csm_only,
    guarded,
    identity_of,
    tell,
)
from slackapp.messaging import AskContext, ask_context, audit, dm, explain_cadence
from warmintro.champion_text import ask_question
from warmintro.engines.cadence import CadenceViolation, record_ask
from warmintro.engines.timeutil import iso
from warmintro.flows import approval
from warmintro.flows.queue import SET_ASIDE, SNOOZE_HOURS, SNOOZED, target_emails

log = logging.getLogger(__name__)


EDIT_TITLE = "Edit the ask"
ASK_SENT = approval.ASK_SENT  # audit row written with every ask sent from Slack: which names it carried


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
        ctx = ask_context(s, email, signal_id)
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
        audit(deps, actor=who.email, action=ASK_SENT, subject=contact.email, detail={**detail, "via": "email"})
        tell(deps, client, body, who, f":white_check_mark: Ask to {name} recorded. They are not on Slack with us: "
                                      "send them their signed approval page (`warmintro link approve "
                                      + b.escape(contact.email) + "`), or the note from `/referrals draft "
                                      + b.escape(contact.email) + "`.")
        return
    blocks = b.champion_ask_blocks(champion_name=contact.name, csm_name=who.name or "Your account team",
                                   vendor=ctx.program.vendor.name, dealing_with=ctx.dealing_with, targets=lines,
                                   targets_note=note, ask_id=ask_id, intro=intro)
    try:
        sent = dm(client, contact.slack_user_id,
                   b.champion_ask_text(contact.name, who.name or "Your account team", ctx.program.vendor.name), blocks)
    except SlackApiError as exc:
        error = exc.response.get("error")
        audit(deps, actor=who.email, action="ask_dm_failed", subject=contact.email, detail={**detail, "error": error})
        tell(deps, client, body, who, f":warning: The ask to {name} is recorded, but the DM failed ({b.escape(error)}). "
                                      "Please reach out yourself.")
        return
    audit(deps, actor=who.email, action=ASK_SENT, subject=contact.email, detail={**detail, "via": "slack_dm", **sent})
    tell(deps, client, body, who, f":white_check_mark: Ask sent to {name} in a DM and recorded in the ledger.")


def snooze(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, value: str | None) -> None:
    data = b.decode_value(value)
    email, signal_id = str(data.get("e") or ""), str(data.get("s") or "")
    if not email:
        tell(deps, client, body, who, "That card is out of date; open the Home tab again.")
        return
    until = deps.now() + timedelta(hours=SNOOZE_HOURS)
    audit(deps, actor=who.email, action=SNOOZED, subject=email.lower(), detail={"signal_id": signal_id, "until": iso(until)})
    tell(deps, client, body, who, f":zzz: Snoozed for {SNOOZE_HOURS} h.")


def set_aside(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, action: dict[str, Any]) -> None:
    card = b.parse_card_block_id(action.get("block_id"))
    reason = ((action.get("selected_option") or {}).get("value")) or "other"
    if card is None or reason not in dict(b.NOT_NOW_REASONS):
        tell(deps, client, body, who, "That card is out of date; open the Home tab again.")
        return
    signal_id, email = card
    audit(deps, actor=who.email, action=SET_ASIDE, subject=email.lower(), detail={"signal_id": signal_id, "reason": reason})
    tell(deps, client, body, who, f"Set aside ({dict(b.NOT_NOW_REASONS)[reason].lower()}). It won't come back for this moment.")


def edit_ask(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, value: str | None) -> None:
    """Open the Edit modal at once, then fill it with the drafted ask (the champion's voice drafter's ask text)."""
    data = b.decode_value(value)
    email = str(data.get("e") or "")
    if not email:
        tell(deps, client, body, who, "That card is out of date; open the Home tab again.")
        return
    opened = client.views_open(trigger_id=body["trigger_id"], view=b.loading_modal(EDIT_TITLE))
    view_id = opened["view"]["id"]
    with deps.store.session() as s:
        ctx = ask_context(s, email, str(data.get("s") or "") or None)
        if ctx is None:
            client.views_update(view_id=view_id, view=b.loading_modal(EDIT_TITLE, "That champion is no longer in the data."))
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
    question = ask_question(ctx.dealing_with, ctx.program.vendor.name)
    return f"Hi {first}, {who.name or 'your account team'} from {ctx.program.vendor.name} here. A quick one: {question}"


def edit_submitted(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, view: dict[str, Any]) -> None:
    text = b.view_input(view, b.ASK_TEXT_BLOCK, b.ASK_TEXT_INPUT).strip()
    send_ask(deps, client, body, who, view.get("private_metadata"), intro=text or None)


def register(app: App, deps: Deps) -> None:
    # The card shows what is happening until the answer (the App Home republished, or a line under the message);
    # Edit opens its modal at once instead.
    app.action(b.SEND_ASK)(ack=ack_only, lazy=[csm_only(deps, send_ask, "value", "Sending the ask…")])
    app.action(b.EDIT_ASK)(ack=ack_only, lazy=[csm_only(deps, edit_ask, "value")])
    app.action(b.SNOOZE)(ack=ack_only, lazy=[csm_only(deps, snooze, "value", "Snoozing…")])
    app.action(b.NOT_NOW)(ack=ack_only, lazy=[csm_only(deps, set_aside, "action", "Setting it aside…")])

    @guarded("home_refresh")
    def refresh(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        user_id = (body.get("user") or {}).get("id")
        if user_id:
            publish_home(deps, client, user_id, identity_of(context))

    app.action(b.HOME_REFRESH)(ack=ack_only, lazy=[refresh])

