"""Feedback buttons under the agent's answers: each click is recorded (who, which answer, up or down) and
thanked privately. The answer is identified by its message ("channel:ts"); the button says how it was made."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.listeners.common import guarded, identity_of

log = logging.getLogger(__name__)

THANKS = {"up": "Thanks, glad that helped.", "down": "Thanks for telling me; the team will look at this answer."}


def record_click(deps: Deps, client: WebClient, body: dict[str, Any], action: dict[str, Any],
                 context: BoltContext) -> None:
    from warmintro.feedback import record_feedback

    parsed = b.parse_feedback(action.get("value"))
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message_ts = container.get("message_ts") or message.get("ts")
    who = identity_of(context)
    if parsed is None or not channel or not message_ts or who.role == "unknown" or not who.slack_user_id:
        return
    vote, mode, intent = parsed
    thread_ts = container.get("thread_ts") or message.get("thread_ts")
    outcome = record_feedback(deps.store, answer_id=f"{channel}:{message_ts}", user_id=who.slack_user_id,
                              email=who.email, role=who.role, vote=vote, mode=mode, intent=intent, at=deps.now(),
                              thread_id=f"{channel}:{thread_ts}" if thread_ts else None)
    if outcome == "same":
        return
    try:
        client.chat_postEphemeral(channel=channel, user=who.slack_user_id, thread_ts=thread_ts, text=THANKS[vote])
    except SlackApiError as exc:
        log.warning("feedback thanks not shown", extra={"fields": {"error": exc.response.get("error")}})


def register(app: App, deps: Deps) -> None:
    def ack_click(ack: Ack) -> None:
        ack()

    @guarded(b.AGENT_FEEDBACK)
    def on_feedback(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        record_click(deps, client, body, action, context)

    app.action(b.AGENT_FEEDBACK)(ack=ack_click, lazy=[on_feedback])
