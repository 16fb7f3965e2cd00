"""What the Slack listeners and the job runner share: a DM, replacing the clicked message, an audit row,
the line that explains a cadence refusal, and the context of an ask (champion, account, signal)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.home import publish_home
from warmintro.program import Program, load_program
from warmintro.store import models as m

log = logging.getLogger(__name__)


def explain_cadence(reasons: list[str], program: Program, name: str) -> str:
    r = program.rules
    why = {
        "decline_cooldown": f"declined an ask less than {r.decline_cooldown_days} days ago",
        "cadence_limit": f"has already been asked {r.max_asks_per_year} times in the last 365 days",
        "too_soon": f"was asked less than {r.min_days_between_asks} days ago",
        "do_not_contact": "is marked do-not-contact",
    }
    parts = [why.get(x, x) for x in reasons] or ["cannot be asked right now"]
    return f":no_entry: Not sent: {b.escape(name)} {' and '.join(parts)}. Nothing was recorded."


def audit(deps: Deps, *, actor: str | None, action: str, subject: str | None, detail: dict[str, Any]) -> None:
    with deps.store.session() as s:
        s.add(m.AuditLog(at=deps.now(), actor=actor, action=action, subject=subject, detail=detail))


def dm(client: WebClient, slack_user_id: str, text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    channel = client.conversations_open(users=slack_user_id)["channel"]["id"]
    resp = client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    return {"channel": channel, "ts": resp.get("ts")}


@dataclass
class AskContext:
    contact: m.Contact
    program: Program
    dealing_with: str | None
    solved: str | None


def ask_context(s: Session, email: str, signal_id: str | None) -> AskContext | None:
    from warmintro.engines.problem import extract_problem

    contact = s.scalars(select(m.Contact).where(m.Contact.email == email.lower())).first()
    if contact is None:
        return None
    program = load_program(s)
    signal = s.get(m.Signal, signal_id) if signal_id else None
    problem = extract_problem(signal.notes, program.vendor.one_liner) if signal is not None and signal.notes else None
    s.expunge(contact)
    return AskContext(contact, program, problem.dealing_with if problem else None, problem.solved if problem else None)


def update_message(client: WebClient, body: dict[str, Any], text: str, blocks: list[dict[str, Any]]) -> None:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts")
    if channel and ts and not container.get("is_ephemeral"):
        client.chat_update(channel=channel, ts=ts, text=b.truncate(text, 3000), blocks=blocks)
    elif body.get("response_url"):
        WebhookClient(body["response_url"]).send(text=b.truncate(text, 3000), blocks=blocks, replace_original=True)


def show_in_progress(client: WebClient, body: dict[str, Any], text: str) -> list[dict[str, Any]] | None:
    """The clicked buttons replaced by `text` where they were clicked (the App Home, or the message), while the
    click's work runs; the blocks that were there (to put back), or None when nothing was shown."""
    block_id = ((body.get("actions") or [{}])[0]).get("block_id")
    view = body.get("view") or {}
    if (body.get("container") or {}).get("type") == "view" and view.get("type") == "home":
        blocks = b.in_progress_blocks(view.get("blocks") or [], block_id, text)
        if blocks is None or not view.get("id"):
            return None
        try:  # the hash: never over a Home published since the click (its answer publishes it again anyway)
            client.views_update(view_id=view["id"], hash=view.get("hash"), view={"type": "home", "blocks": blocks})
        except SlackApiError as exc:
            log.warning("progress not shown", extra={"fields": {"error": exc.response.get("error")}})
            return None
        return list(view.get("blocks") or [])
    message = body.get("message") or {}
    blocks = b.in_progress_blocks(message.get("blocks") or [], block_id, text)
    if blocks is None:
        return None
    update_message(client, body, str(message.get("text") or text), blocks)
    return list(message.get("blocks") or [])


def tell(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, text: str) -> None:
    """One line to the person who clicked, where they clicked: the App Home gets a banner; a message
    (including an ephemeral one) gets an ephemeral reply; a submitted modal kept open by its ack shows it."""
    container = body.get("container") or {}
    user_id = (body.get("user") or {}).get("id")
    view = body.get("view") or {}
    if body.get("type") == "view_submission" and view.get("id"):
        title = str((view.get("title") or {}).get("text") or "warmintro")
        client.views_update(view_id=view["id"], view=b.modal_view(title, [b.section(text)]))
        return
    if container.get("type") == "view" and view.get("type") == "home" and user_id:
        publish_home(deps, client, user_id, who, notice=text)
        return
    response_url = body.get("response_url")
    if response_url:
        WebhookClient(response_url).send(text=text, response_type="ephemeral", replace_original=False)
        return
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    if channel and user_id:
        try:
            client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        except SlackApiError as exc:
            log.warning("ephemeral reply failed", extra={"fields": {"error": exc.response.get("error")}})
