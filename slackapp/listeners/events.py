"""Events API: mentions and DMs go to the agent (ack at once, answer lazily in the thread); App Home."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.home import publish_home
from slackapp.listeners.common import guarded, identity_of, post_reply, refusal_for, thread_id_for

log = logging.getLogger(__name__)


def _is_human_message(event: dict[str, Any]) -> bool:
    return not event.get("subtype") and not event.get("bot_id") and bool(event.get("user"))


def answer(deps: Deps, client: WebClient, who: Identity, event: dict[str, Any], context: BoltContext) -> None:
    """Route one human message to the agent and post its reply in the thread."""
    channel = event["channel"]
    thread_ts = event.get("thread_ts") or event["ts"]
    thread_id = thread_id_for(channel, thread_ts)
    if who.role == "unknown":
        text = refusal_for(who, context)
        if event.get("channel_type") == "im" or channel.startswith("D"):
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
        else:  # in a channel, only the person who asked sees the refusal
            client.chat_postEphemeral(channel=channel, user=event["user"], thread_ts=thread_ts, text=text)
        return
    reply = deps.agent.respond(who, thread_id, event.get("text") or "")
    post_reply(client, channel=channel, thread_ts=thread_ts, reply=reply, thread_id=thread_id,
               requester=who.slack_user_id, who=who)


def _tell_failure(event: dict[str, Any], client: WebClient, **_: Any) -> None:
    client.chat_postMessage(channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"],
                            text=b.ERROR_TEXT)


def register(app: App, deps: Deps) -> None:
    def ack_event(ack: Ack) -> None:
        ack()

    @guarded("app_mention", _tell_failure)
    def on_mention(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if not _is_human_message(event):
            return
        answer(deps, client, identity_of(context), event, context)

    @guarded("message.im", _tell_failure)
    def on_dm(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("channel_type") != "im" or not _is_human_message(event):
            return
        answer(deps, client, identity_of(context), event, context)

    app.event("app_mention")(ack=ack_event, lazy=[on_mention])
    # Only plain messages (no subtype: edits, joins, bot messages and file shares are left alone).
    app.event({"type": "message", "subtype": None})(ack=ack_event, lazy=[on_dm])
    app.event("message")(ack_event)

    @guarded("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        who = identity_of(context)
        publish_home(deps, client, event["user"], who, unknown_text=refusal_for(who, context))

    app.event("app_home_opened")(ack=ack_event, lazy=[on_home])
