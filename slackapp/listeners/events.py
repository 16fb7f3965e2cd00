"""Events API: mentions and DMs go to the agent (ack at once, answer lazily in the thread); App Home; the
agent's own thread view (the Messages tab): suggested prompts per role when a thread starts.

While the agent works, a DM thread shows a status (assistant.threads.setStatus, the first call made); a
channel thread gets a placeholder reply at once, which the answer replaces (chat.update). An answer
a model writes is streamed into the thread as it is written (chat.startStream / appendStream / stopStream); an
offline answer is whole at once and posted at once. Every answer carries feedback buttons. Each of these is
a Web API call through the app's client, so a 429 is retried after its Retry-After like any other."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from agent.identity import Identity
from agent.types import AgentReply
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
    if event.get("channel_type") == "im" or channel.startswith("D"):
        show_status(client, channel, thread_ts, who)
        stream = ReplyStream(client, channel=channel, thread_ts=thread_ts, user_id=event.get("user"),
                             team_id=context.team_id or event.get("team"))
        reply = deps.agent.respond(who, thread_id, event.get("text") or "", stream=stream)
        if stream.finish(reply, thread_id=thread_id, requester=who.slack_user_id, who=who):
            return
        post_reply(client, channel=channel, thread_ts=thread_ts, reply=reply, thread_id=thread_id,
                   requester=who.slack_user_id, who=who, feedback=True)
        return
    # A channel thread has no status line: a placeholder reply at once, replaced by the whole answer (not
    # streamed, so the answer lands in the placeholder's place with its buttons).
    placeholder_ts = str(client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                                 text=b.agent_working_text(who.role))["ts"])
    try:
        reply = deps.agent.respond(who, thread_id, event.get("text") or "")
    except Exception as exc:  # the placeholder says so, rather than "working on it" forever
        log.exception("listener failed", extra={"fields": {"listener": "app_mention", "error": type(exc).__name__}})
        client.chat_update(channel=channel, ts=placeholder_ts, text=b.ERROR_TEXT)
        return
    post_reply(client, channel=channel, thread_ts=thread_ts, reply=reply, thread_id=thread_id,
               requester=who.slack_user_id, who=who, feedback=True, replace_ts=placeholder_ts)


STREAM_BUFFER = 100  # characters per stream call: text appears every sentence or so, within the rate limits


def show_status(client: WebClient, channel: str, thread_ts: str, who: Identity) -> None:
    """The "is looking into it…" line under the thread while the agent works (cleared by the answer)."""
    status, loading = b.agent_status(who.role)
    try:
        client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=status,
                                           loading_messages=loading)
    except SlackApiError as exc:  # a status is a courtesy: the answer comes without it
        log.warning("status not shown", extra={"fields": {"error": exc.response.get("error")}})


class ReplyStream:
    """The agent's `stream` callback: the answer a model is writing, streamed into the thread from its first
    checked sentence (slack_sdk's chat_stream). Nothing is called until there is text, so an offline answer
    never starts a stream. If a stream call fails, the rest is posted as a message instead."""

    def __init__(self, client: WebClient, *, channel: str, thread_ts: str, user_id: str | None,
                 team_id: str | None) -> None:
        self.client, self.channel, self.thread_ts = client, channel, thread_ts
        self.user_id, self.team_id = user_id, team_id
        self._stream: Any = None
        self.broken = False

    def __call__(self, text: str) -> None:
        if self.broken:
            return
        try:
            if self._stream is None:
                self._stream = self.client.chat_stream(
                    channel=self.channel, thread_ts=self.thread_ts, recipient_user_id=self.user_id,
                    recipient_team_id=self.team_id, buffer_size=STREAM_BUFFER)
            self._stream.append(markdown_text=text)
        except SlackApiError as exc:
            self.broken = True
            log.warning("streaming failed; the answer is posted instead", extra={"fields": {
                "error": exc.response.get("error")}})

    def finish(self, reply: AgentReply, *, thread_id: str, requester: str | None, who: Identity) -> bool:
        """Close the stream with the rest of the answer and its buttons; False when nothing was streamed (or
        the stream broke), and the caller posts the answer whole."""
        if self._stream is None or self.broken:
            return False
        pending = reply.pending
        blocks = [*(b.pending_blocks(pending.action_id, pending.summary, thread_id=thread_id, requester=requester)
                    if pending else []), b.feedback_block(reply.mode, reply.intent)]
        try:
            self._stream.stop(markdown_text=reply.unstreamed or None, blocks=blocks)
            return True
        except SlackApiError as exc:
            log.warning("closing the stream failed; the answer is posted instead", extra={"fields": {
                "error": exc.response.get("error")}})
            return False


def suggest_prompts(deps: Deps, client: WebClient, who: Identity, channel: str, thread_ts: str | None) -> None:
    """The suggested prompts for `who` in an agent thread (or the Messages tab when there is no thread)."""
    from agent.suggestions import suggested_prompts

    with deps.store.session() as s:
        title, prompts = suggested_prompts(s, who)
    if prompts:
        client.assistant_threads_setSuggestedPrompts(channel_id=channel, thread_ts=thread_ts, title=title,
                                                     prompts=[p.to_json() for p in prompts])


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
        if not event.get("user"):
            return
        who = identity_of(context)
        if event.get("tab") == "messages":  # the Messages tab without an agent thread: prompts for the DM
            if event.get("channel") and who.role != "unknown":
                suggest_prompts(deps, client, who, str(event["channel"]), None)
            return
        if event.get("tab", "home") != "home":
            return
        publish_home(deps, client, event["user"], who, unknown_text=refusal_for(who, context))

    @guarded("assistant_thread_started")
    def on_thread_started(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        thread = event.get("assistant_thread") or {}
        channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
        if not (isinstance(channel, str) and isinstance(thread_ts, str)):
            return
        who = identity_of(context)
        if who.role == "unknown":  # no prompts for someone we cannot help: say why instead
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=refusal_for(who, context))
            return
        suggest_prompts(deps, client, who, channel, thread_ts)

    app.event("assistant_thread_started")(ack=ack_event, lazy=[on_thread_started])
    # The thread's context (the channel the person is looking at) is not used: the answers depend on who asks.
    app.event("assistant_thread_context_changed")(ack_event)

    app.event("app_home_opened")(ack=ack_event, lazy=[on_home])
