"""What the agent hands back to a surface (Slack, the terminal)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class PendingAction:
    """A change the agent proposes; it happens only after a human clicks Approve."""

    action_id: str  # stable id for the buttons (idempotent clicks)
    tool: str
    args: dict[str, Any]
    summary: str  # one line a person can approve or reject
    preview: str | None = None  # what will be sent, as its reader will see it (mrkdwn), when there is one


@dataclass
class AgentReply:
    text: str  # Slack mrkdwn-safe text
    blocks: list[dict[str, Any]] | None = None
    pending: PendingAction | None = None
    mode: Literal["model", "offline", "refusal"] = "offline"
    intent: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # what ran, for evals and the audit log
    # When the model's answer was streamed while it was written (AgentService.respond): what was shown, and
    # what the surface must still add so the person has read the whole reply (None: nothing was streamed).
    streamed: str = ""
    unstreamed: str | None = None
