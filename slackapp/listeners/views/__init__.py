"""Modal submissions, one per module. The modal closes at the ack; the work runs in a lazy listener."""

from __future__ import annotations

from slack_bolt import App

from slackapp.deps import Deps
from slackapp.listeners.views import champion_note, edit_ask


def register(app: App, deps: Deps) -> None:
    champion_note.register(app, deps)
    edit_ask.register(app, deps)
