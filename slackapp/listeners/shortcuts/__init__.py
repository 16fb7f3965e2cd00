"""Global shortcuts, one per module."""

from __future__ import annotations

from slack_bolt import App

from slackapp.deps import Deps
from slackapp.listeners.shortcuts import queue


def register(app: App, deps: Deps) -> None:
    queue.register(app, deps)
