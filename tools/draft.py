"""The ask to a champion and their forwardable note to one target, in the champion's own voice (read only: it
drafts, it sends and records nothing). The same drafting code as `warmintro draft` and the approval page."""

from __future__ import annotations

import json

from langchain.tools import ToolRuntime
from langchain_core.tools import tool

from agent.context import AgentContext, ToolOutput, escape_mrkdwn
from tools.common import require

NAME = "draft_note"


def run(ctx: AgentContext, champion_email: str, target_email: str) -> ToolOutput:
    from warmintro.errors import NotFoundError
    from warmintro.voice.service import draft_for

    require(ctx, "csm", "admin")
    try:
        draft = draft_for(ctx.store, ctx.settings, champion_email.strip().lower(), target_email.strip().lower(),
                          now=ctx.now)
    except NotFoundError as exc:
        return ToolOutput({"error": "not_found", "detail": str(exc)}, f"I can't draft that: {escape_mrkdwn(str(exc))}.")
    data = draft.to_json()
    text = (f"*The ask:*\n{escape_mrkdwn(draft.ask_text)}\n\n*The note* ({escape_mrkdwn(draft.subject)}):\n"
            f"{escape_mrkdwn(draft.body)}")
    return ToolOutput(data, text)


@tool(NAME)
def draft_note(champion_email: str, target_email: str, *, runtime: ToolRuntime[AgentContext]) -> str:
    """Draft the ask to a champion and the note they can forward to one target, in the champion's own voice.
    Nothing is sent or recorded."""
    return json.dumps(run(runtime.context, champion_email, target_email).data, default=str)
