"""Today's queue of asks for the calling CSM (everyone's for admins and RevOps)."""

from __future__ import annotations

from langchain.tools import ToolRuntime
from langchain_core.tools import tool

from agent.context import AgentContext, ToolOutput, escape_mrkdwn
from tools.common import require

NAME = "todays_queue"


def run(ctx: AgentContext, limit: int = 10) -> ToolOutput:
    from warmintro.engines.scan import scan

    require(ctx, "csm", "admin", "revops")
    with ctx.store.session() as s:
        result = scan(s, ctx.now)
    asks = result.asks
    if ctx.identity.role == "csm":
        asks = [a for a in asks if a.csm_email == ctx.identity.email]
    asks = asks[: max(1, min(limit, 50))]
    data = {"as_of": result.to_json()["as_of"], "asks": [a.to_json() for a in asks]}
    if not asks:
        return ToolOutput(data, "No asks are due for you right now. I'll tell you when a customer has a happy moment.")
    lines = [f"*{len(asks)} ask(s) due* (most important first):"]
    for i, a in enumerate(asks, 1):
        hours = (a.expires_at - result.as_of).total_seconds() / 3600
        lines.append(
            f"{i}. *{escape_mrkdwn(a.contact_name)}* ({a.persona.replace('_', ' ')}) at {escape_mrkdwn(a.account_name)}"
            f" — {escape_mrkdwn(a.reasons[0])}; window closes in {hours:.0f} h"
        )
        if a.dealing_with:
            lines.append(f"    ask: _who in your network is still dealing with {escape_mrkdwn(a.dealing_with)}?_")
    return ToolOutput(data, "\n".join(lines))


@tool(NAME)
def todays_queue(limit: int = 10, *, runtime: ToolRuntime[AgentContext]) -> str:
    """List today's referral asks due for the current user (CSM), most important first, with reasons."""
    import json

    return json.dumps(run(runtime.context, limit).data, default=str)
