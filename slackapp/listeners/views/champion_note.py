"""The champion's "Use this note" modal submitted: approve one name with their own words."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.listeners.actions.champion import note_submitted
from slackapp.listeners.common import (
    ack_only,
    guarded,
    identity_of,
)

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    @guarded("champion_note_submitted")
    def on_note(body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        note_submitted(deps, client, body, identity_of(context), view)

    app.view(b.NOTE_MODAL)(ack=ack_only, lazy=[on_note])

