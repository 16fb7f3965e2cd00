"""An agent reply's pending action: Approve / Cancel -> `deps.agent.decide`; only the person who asked."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.listeners.common import (
    ack_only,
    guarded,
    identity_of,
    refusal_for,
    tell,
    tell_failure,
)
from slackapp.messaging import show_in_progress, update_message
from warmintro.claims import ClaimKind, claim, release

log = logging.getLogger(__name__)


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
    key = ClaimKind.DECIDE.key(pending_id)
    first = claim(deps.store, key, deps.now())
    if first:  # the buttons give way to what is happening until the decision's result replaces it
        show_in_progress(client, body, "Approving…" if approve else "Cancelling…")
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
    update_message(client, body, b.defang(reply.text), (kept + decision)[-b.MESSAGE_BLOCKS_MAX:])


def register(app: App, deps: Deps) -> None:
    _failed = tell_failure(deps)

    @guarded("agent_decide", _failed)
    def on_decide(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        decide(deps, client, body, identity_of(context), action)

    app.action(re.compile("^(" + re.escape(b.AGENT_APPROVE_PREFIX) + "|" + re.escape(b.AGENT_CANCEL_PREFIX) + ")"))(
        ack=ack_only, lazy=[on_decide])
