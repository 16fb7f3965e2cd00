"""Button clicks, one concern per module (as bolt's samples lay them out). Each is acked at once; the work runs in
a lazy listener."""

from __future__ import annotations

from slack_bolt import App

from slackapp.deps import Deps
from slackapp.listeners.actions import agent_decision, champion, queue_cards, request_intro


def register(app: App, deps: Deps) -> None:
    queue_cards.register(app, deps)
    champion.register(app, deps)
    request_intro.register(app, deps)
    agent_decision.register(app, deps)
