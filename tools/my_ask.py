"""A champion's own open ask: who asked, the people suggested, and what to do next. Nothing else."""

from __future__ import annotations

import json
from datetime import timedelta

from langchain.tools import ToolRuntime
from langchain_core.tools import tool

from agent.context import AgentContext, ToolOutput, escape_mrkdwn
from tools.common import require

NAME = "my_open_ask"


def run(ctx: AgentContext) -> ToolOutput:
    from sqlalchemy import select

    from warmintro.champion_text import human_reason
    from warmintro.engines.targets import find_targets
    from warmintro.store import models as m

    require(ctx, "champion")
    email = ctx.identity.email or ""
    with ctx.store.session() as s:
        ask = s.scalars(select(m.Ask).where(m.Ask.contact_email == email, m.Ask.source == "product",
                                            m.Ask.asked_at > ctx.now - timedelta(days=30))
                        .order_by(m.Ask.asked_at.desc())).first()
        if ask is None:
            return ToolOutput({"open_ask": None}, "You have no open introduction request from us. Thanks for checking!")
        targets = find_targets(s, email, limit=5, as_of=ctx.now)
    # a champion reads why a name fits in human terms, never counts of their own mail
    why = {t.email: human_reason(t.evidence, ctx.now) or "" for t in targets.targets}
    names = [{"name": t.name, "company": t.company, "title": t.title, "why": why[t.email]} for t in targets.targets]
    data = {"open_ask": {"asked_at": ask.asked_at, "outcome": ask.outcome, "asked_by": ask.asked_by}, "suggestions": names}
    lines = ["Here is the introduction we asked you about. Pick just one person, if any fits:"]
    for i, t in enumerate(targets.targets, 1):
        lines.append(f"{i}. *{escape_mrkdwn(t.name or t.email)}* ({escape_mrkdwn(t.company or '')}) — {escape_mrkdwn(why[t.email])}")
    return ToolOutput(data, "\n".join(lines))


@tool(NAME)
def my_open_ask(*, runtime: ToolRuntime[AgentContext]) -> str:
    """Show the calling champion their own open introduction request and the people suggested."""
    return json.dumps(run(runtime.context).data, default=str)
