"""Listeners, registered per kind (bolt-python-support-agent style): each module has `register(app, deps)`.

Shared helpers live in `slackapp.listeners.common`. Catch-all listeners are registered last, so every other
request Slack sends is acknowledged with a 200 (an unhandled event would otherwise get a 404, and Slack
retries and eventually disables the app).
"""

from __future__ import annotations

import re

from slack_bolt import Ack, App

from slackapp.deps import Deps
from slackapp.listeners import actions, commands, events, feedback, payouts, refer, shortcuts, views

ANY = re.compile(r".*")


def register(app: App, deps: Deps) -> None:
    refer.register(app, deps)  # first: its referrals-channel matcher must see channel messages before events'
    events.register(app, deps)
    commands.register(app, deps)
    actions.register(app, deps)
    feedback.register(app, deps)
    payouts.register(app, deps)
    views.register(app, deps)
    shortcuts.register(app, deps)
    register_catch_alls(app)


def register_catch_alls(app: App) -> None:
    def ack_only(ack: Ack) -> None:
        ack()

    app.event(ANY)(ack_only)
    app.action(ANY)(ack_only)
    app.shortcut(ANY)(ack_only)
    app.view(ANY)(ack_only)
    app.view_closed(ANY)(ack_only)
    app.options(ANY)(lambda ack: ack(options=[]))

    @app.command(ANY)
    def unknown_command(ack: Ack) -> None:
        ack(text="I know `/referrals` and `/refer`. Try `/referrals help`.")
