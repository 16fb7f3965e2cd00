"""Warm paths to a company, domain or person, through customers, employees, investors and partners."""

from __future__ import annotations

import json
import re

from langchain.tools import ToolRuntime
from langchain_core.tools import tool

from agent.context import AgentContext, ToolOutput, escape_mrkdwn
from tools.common import require
from warmintro.engines.whoknows import WarmPath

NAME = "who_knows"
SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def run(ctx: AgentContext, target: str, limit: int = 5) -> ToolOutput:
    from warmintro.engines.whoknows import who_knows as find_paths
    from warmintro.errors import NotFoundError

    require(ctx, "csm", "admin", "revops", "ae", "sdr", "employee")
    try:
        with ctx.store.session() as s:
            result = find_paths(s, target, limit=max(1, min(limit, 20)), as_of=ctx.now)
    except NotFoundError as exc:  # a company nobody in the data works at: say so, as the CLI does
        return ToolOutput({"error": "unknown_target", "target": target, "detail": str(exc)},
                          f"I don't know anyone at {escape_mrkdwn(target)} in our data; try its domain (e.g. acme.com).")
    data = result.to_json()
    if not result.paths:
        return ToolOutput(data, f"I found no warm path to {escape_mrkdwn(target)} in our customers', team's, "
                                f"investors' or partners' networks.")
    lines = [f"*Warm paths to {escape_mrkdwn(target)}* (strongest first):"]
    in_slack = bool(ctx.identity.slack_user_id)
    for i, p in enumerate(result.paths, 1):
        via = f" via {escape_mrkdwn(p.via_name or p.via_email)}" if p.via_email else ""
        lines.append(f"{i}. *{escape_mrkdwn(p.connector_name)}* ({p.pillar}){via} → {escape_mrkdwn(p.target_name)}"
                     f" · {escape_mrkdwn(p.strength_words)}")
        lines.append(f"    Ask {_ask(p, in_slack)}")
    return ToolOutput(data, "\n".join(lines))


def _ask(p: WarmPath, in_slack: bool) -> str:
    """Who to ask: in Slack, the router by @mention when they have a Slack id (a mention we build, never one
    taken from the data); elsewhere, and for anyone without one, in words."""
    if in_slack and p.route_to and p.route_slack_user_id and SLACK_ID.fullmatch(p.route_slack_user_id):
        reason = f", who {escape_mrkdwn(p.route_reason)}" if p.route_reason else ""
        if p.pillar == "employee":
            return f"<@{p.route_slack_user_id}> directly: they are on the team"
        return f"through <@{p.route_slack_user_id}>{reason}"
    return escape_mrkdwn(p.ask)


@tool(NAME)
def who_knows(target: str, limit: int = 5, *, runtime: ToolRuntime[AgentContext]) -> str:
    """Find who (customers, employees, investors, advisors, partners) knows someone at a company, domain or
    person, strongest warm path first, with evidence and who should route the ask."""
    return json.dumps(run(runtime.context, target, limit).data, default=str)
