"""Helpers every listener shares: who is acting, thread ids, posting an agent reply, and telling the clicking
user one line wherever they clicked (App Home, a message, an ephemeral message)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from agent.identity import Identity
from agent.types import AgentReply
from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.messaging import show_in_progress, tell, update_message

log = logging.getLogger("slackapp.listeners")  # the name these lines have always had

SENDER_ROLES = ("csm", "admin")  # who may send an ask from a queue card


def identity_of(context: BoltContext) -> Identity:
    who = context.get("identity")
    return who if isinstance(who, Identity) else Identity("unknown", context.user_id)


def thread_id_for(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def guarded(name: str, on_error: Callable[..., None] | None = None) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Wrap a lazy listener: any exception is logged (type and where, never message text) and the user
    gets one line via `on_error(**kwargs)` when given."""

    def wrap(fn: Callable[..., None]) -> Callable[..., None]:
        # bolt injects arguments by the names it finds through inspect.unwrap(): functools.wraps sets
        # __wrapped__, so bolt sees fn's parameters and calls inner with exactly those.
        @functools.wraps(fn)
        def inner(**kwargs: Any) -> None:
            try:
                fn(**kwargs)
            except Exception as exc:
                log.exception("listener failed", extra={"fields": {"listener": name, "error": type(exc).__name__}})
                if on_error is not None:
                    try:
                        on_error(**kwargs)
                    except Exception:
                        log.exception("could not tell the user about a failure",
                                      extra={"fields": {"listener": name}})
        return inner

    return wrap


def intro_paths(reply: AgentReply) -> list[b.IntroPath]:
    """The warm paths a who_knows tool call returned in this reply (for "Request intro" buttons)."""
    out: list[b.IntroPath] = []
    for call in reply.tool_calls:
        result = call.get("result")
        if call.get("tool") != "who_knows" or not isinstance(result, dict):
            continue
        for p in result.get("paths") or []:
            if isinstance(p, dict) and p.get("connector_email") and p.get("target_email"):
                out.append(b.IntroPath(
                    connector_email=str(p["connector_email"]), connector_name=str(p.get("connector_name") or p["connector_email"]),
                    pillar=str(p.get("pillar") or ""), target_email=str(p["target_email"]),
                    target_name=str(p.get("target_name") or p["target_email"]), route_to=p.get("route_to"),
                    route_slack_user_id=p.get("route_slack_user_id") or None, ask=str(p.get("ask") or "")))
    return out


def reply_blocks(reply: AgentReply, who: Identity) -> list[dict[str, Any]] | None:
    """The reply's own blocks, plus "Request intro" buttons under warm paths for the vendor's team."""
    extra = b.request_intro_blocks(intro_paths(reply)) if who.is_vendor else []
    if not extra:
        return reply.blocks
    own = reply.blocks or [b.section(b.defang(chunk)) for chunk in b.split_text(reply.text) if chunk.strip()]
    return [*own, *extra]


def post_reply(client: WebClient, *, channel: str, thread_ts: str, reply: AgentReply, thread_id: str,
               requester: str | None, who: Identity | None = None, feedback: bool = False,
               replace_ts: str | None = None) -> None:
    """The agent's reply in the thread; `feedback`: with thumbs up / down under it (not under refusals);
    `replace_ts`: the placeholder it replaces (chat.update) instead of a new message."""
    pending = reply.pending
    blocks = b.agent_reply_blocks(
        reply.text, blocks=reply_blocks(reply, who) if who is not None else reply.blocks, thread_id=thread_id,
        requester=requester,
        pending_action_id=pending.action_id if pending else None, pending_summary=pending.summary if pending else None,
    )
    if feedback and reply.mode != "refusal":
        blocks = [*blocks[: b.MESSAGE_BLOCKS_MAX - 1], b.feedback_block(reply.mode, reply.intent)]
    text = b.truncate(b.defang(reply.text), 3000)
    if replace_ts:
        client.chat_update(channel=channel, ts=replace_ts, text=text, blocks=blocks)
        return
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)


def refusal_for(who: Identity, context: BoltContext | None = None) -> str:
    if who.role == "unknown" and context is not None and context.get("identity_error"):
        return b.REFUSAL_LOOKUP_FAILED
    return b.REFUSAL_UNKNOWN if who.role == "unknown" else b.REFUSAL_NOT_ALLOWED


def ack_only(ack: Ack) -> None:
    """The ack of a click or a submission whose work runs in a lazy listener."""
    ack()


def tell_failure(deps: Deps) -> Callable[..., None]:
    """`guarded`'s on_error for clicks: the person who clicked gets the one-line error where they clicked."""

    def failed(body: dict[str, Any], client: WebClient, context: BoltContext, **_: Any) -> None:
        tell(deps, client, body, identity_of(context), b.ERROR_TEXT)

    return failed


def csm_only(deps: Deps, fn: Callable[[Deps, WebClient, dict[str, Any], Identity, Any], None],
             field: str, progress: str | None = None) -> Callable[..., None]:
    """A lazy listener that runs `fn` for a CSM or admin of the vendor (others are told no): the action's value
    (`field` "value") or the whole action. `progress`: shown in place of the card's buttons while `fn` runs
    (the answer republishes the App Home; a message gets its buttons back, with the answer under it)."""

    @guarded(fn.__name__, tell_failure(deps))
    def run(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        who = identity_of(context)
        if not (who.role in SENDER_ROLES and who.is_vendor and who.email):
            tell(deps, client, body, who, refusal_for(who))
            return
        shown = show_in_progress(client, body, progress) if progress else None
        try:
            fn(deps, client, body, who, action.get("value") if field == "value" else action)
        finally:
            if shown is not None and (body.get("container") or {}).get("type") != "view":
                message = body.get("message") or {}
                update_message(client, body, str(message.get("text") or progress), shown)

    run.__name__ = f"lazy_{fn.__name__}"
    return run
