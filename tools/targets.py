"""The 3-5 people in a champion's own network worth an introduction (ICP fit, tie strength, persona)."""

from __future__ import annotations

import json

from langchain.tools import ToolRuntime
from langchain_core.tools import tool

from agent.context import AgentContext, ToolDenied, ToolOutput, escape_mrkdwn
from tools.common import require

NAME = "champion_targets"


def run(ctx: AgentContext, champion_email: str, limit: int = 5) -> ToolOutput:
    from warmintro.engines.targets import find_targets

    require(ctx, "csm", "admin", "revops", "ae", "sdr", "champion")
    email = champion_email.strip().lower()
    if ctx.identity.is_champion and email != (ctx.identity.email or ""):
        raise ToolDenied("champions can only see their own suggestions")
    with ctx.store.session() as s:
        result = find_targets(s, email, limit=max(1, min(limit, 10)), as_of=ctx.now)
    data = result.to_json()
    if ctx.identity.role in ("ae", "sdr", "champion"):
        # reps get names and reasons, not the champion's exclusion list; a champion never sees who else is a
        # customer (the list names other customers' contacts)
        data.pop("excluded", None)
    if not result.targets:
        return ToolOutput(data, f"No one in {escape_mrkdwn(email)}'s known network fits the ideal customer profile yet.")
    lines = [f"*People {escape_mrkdwn(email)} could introduce:*"]
    for i, t in enumerate(result.targets, 1):
        who = ", ".join(x for x in (t.title, t.company) if x)
        lines.append(f"{i}. *{escape_mrkdwn(t.name or t.email)}* ({escape_mrkdwn(who)}) — {escape_mrkdwn('; '.join(t.reasons[:2]))}")
    return ToolOutput(data, "\n".join(lines))


@tool(NAME)
def champion_targets(champion_email: str, limit: int = 5, *, runtime: ToolRuntime[AgentContext]) -> str:
    """Rank 3-5 people from a champion's own network who fit the ideal customer profile, with reasons."""
    return json.dumps(run(runtime.context, champion_email, limit).data, default=str)
