"""The persona of each contact at an account, with confidence and evidence."""

from __future__ import annotations

import json

from langchain.tools import ToolRuntime
from langchain_core.tools import tool

from agent.context import AgentContext, ToolOutput, escape_mrkdwn
from tools.common import find_account, require

NAME = "account_personas"


def run(ctx: AgentContext, account: str) -> ToolOutput:
    from warmintro.engines.personas import account_personas as infer

    require(ctx, "csm", "admin", "revops", "ae")
    with ctx.store.session() as s:
        acc = find_account(s, account)
        if acc is None:
            return ToolOutput({"error": "unknown_account", "query": account},
                              f"I couldn't find an account matching “{escape_mrkdwn(account)}”.")
        results = infer(s, acc.account_id, ctx.now)
    data = {"account_id": acc.account_id, "contacts": [r.to_json() for r in results]}
    lines = [f"*Personas at {escape_mrkdwn(acc.name)}:*"] + [
        f"• {escape_mrkdwn(r.email)}: {r.persona.replace('_', ' ')} ({r.confidence:.0%}) — {escape_mrkdwn(r.evidence[0])}"
        for r in results
    ]
    return ToolOutput(data, "\n".join(lines))


@tool(NAME)
def account_personas(account: str, *, runtime: ToolRuntime[AgentContext]) -> str:
    """Who is the economic buyer, product user, power user and administrator at an account, with evidence."""
    return json.dumps(run(runtime.context, account).data, default=str)
