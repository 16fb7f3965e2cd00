"""The global shortcut ("Referral queue"): a modal with today's queue for a CSM, help for everyone else.

The modal opens at once with a loading line (a trigger_id is valid for 3 s), then is updated with the
queue once it is computed. The cards here are read-only; buttons live in App Home and the digest.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.listeners.common import guarded, identity_of, refusal_for
from warmintro.flows.queue import csm_queue

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    def ack_shortcut(ack: Ack) -> None:
        ack()

    @guarded("shortcut")
    def open_queue(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        who = identity_of(context)
        trigger_id = body.get("trigger_id")
        if not trigger_id:
            return
        if not (who.role in ("csm", "admin") and who.is_vendor and who.email):
            text = refusal_for(who) if who.role in ("unknown", "champion") else b.help_text(who.role)
            client.views_open(trigger_id=trigger_id, view=b.modal_view("warmintro", [b.section(text)]))
            return
        opened = client.views_open(trigger_id=trigger_id, view=b.modal_view(
            "Referral queue", [b.section("Computing today's queue…")]))
        view_id = (opened.get("view") or {}).get("id")
        now = deps.now()
        queue = csm_queue(deps, who.email, now)
        if queue.problem:
            blocks = [b.section(b.escape(queue.problem))]
        else:
            blocks = b.queue_message_blocks(queue.cards, now, title=f"Asks due today ({queue.total})", actions=False)
            blocks.append(b.context("Send, snooze or set aside asks from the app's Home tab."))
        if view_id:
            client.views_update(view_id=view_id, view=b.modal_view("Referral queue", blocks))

    app.shortcut(b.SHORTCUT_CALLBACK)(ack=ack_shortcut, lazy=[open_queue])

    # The modal is read-only; a submission or close needs only an ack.
    app.view(b.SHORTCUT_CALLBACK + "_view")(ack_shortcut)
    app.view_closed(b.SHORTCUT_CALLBACK + "_view")(ack_shortcut)
