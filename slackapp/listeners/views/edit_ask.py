"""The CSM's Edit-the-ask modal submitted: the ask goes out with their words."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.listeners.actions.queue_cards import edit_submitted
from slackapp.listeners.common import (
    SENDER_ROLES,
    ack_only,
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

    app.view(b.EDIT_ASK_MODAL)(ack=ack_only, lazy=[on_edit])

