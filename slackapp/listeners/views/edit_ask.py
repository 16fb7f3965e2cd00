"""The CSM's Edit-the-ask modal submitted: the ask goes out with their words. The modal says "Sending the ask…"
from the ack and then shows the answer (sent, or why not)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.listeners.actions.queue_cards import EDIT_TITLE, edit_submitted
from slackapp.listeners.common import (
    SENDER_ROLES,
    guarded,
    identity_of,
)

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    @guarded("csm_edit_submitted")
    def on_edit(body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        who = identity_of(context)
        if not (who.role in SENDER_ROLES and who.is_vendor and who.email):
            return
        edit_submitted(deps, client, body, who, view)

    def ack_sending(ack: Ack, context: BoltContext) -> None:
        """The modal stays open saying the ask is on its way; the answer replaces it (see `tell`)."""
        who = identity_of(context)
        if who.role in SENDER_ROLES and who.is_vendor and who.email:
            ack(response_action="update", view=b.loading_modal(EDIT_TITLE, "Sending the ask…"))
        else:
            ack()

    app.view(b.EDIT_ASK_MODAL)(ack=ack_sending, lazy=[on_edit])

