"""Record a referral ask to a champion. A write: the agent may only propose it; a human's click runs it."""

from __future__ import annotations

import json

from langchain.tools import ToolRuntime
from langchain_core.tools import tool

from agent.context import AgentContext, ToolOutput, escape_mrkdwn
from tools.common import require

NAME = "send_ask"


def run(ctx: AgentContext, champion_email: str, channel: str = "slack") -> ToolOutput:
    from sqlalchemy import select

    from warmintro.engines.cadence import CadenceViolation, record_ask
    from warmintro.engines.scan import scan
    from warmintro.program import load_program
    from warmintro.store import models as m

    require(ctx, "csm", "admin")
    email = champion_email.strip().lower()
    with ctx.store.session() as s:
        contact = s.scalars(select(m.Contact).where(m.Contact.email == email)).first()
        program = load_program(s)
        due = next((a for a in scan(s, ctx.now, program=program).asks if a.contact_email == email), None)
    if contact is None:
        return ToolOutput({"error": "unknown_contact", "email": email}, f"{escape_mrkdwn(email)} is not a customer contact.")
    try:
        ask_id = record_ask(ctx.store, program.rules, contact_email=email, asked_at=ctx.now, channel=channel,
                            asked_by=ctx.identity.email, outcome="pending", account_id=contact.account_id,
                            trigger_signal_id=due.trigger.signal_id if due else None,
                            persona=due.persona if due else None)
    except CadenceViolation as exc:
        if exc.reasons == ["do_not_contact"]:
            return ToolOutput({"error": "do_not_contact", "champion": email},
                              f"Not sent: *{escape_mrkdwn(contact.name)}* is marked do-not-contact. Nothing was recorded.")
        return ToolOutput({"error": "cadence", "reasons": exc.reasons},
                          f"Not sent: asking {escape_mrkdwn(contact.name)} now would break the ask cadence ({', '.join(exc.reasons)}).")
    return ToolOutput({"ask_id": ask_id, "champion": email, "status": "recorded"},
                      f"Recorded the ask to *{escape_mrkdwn(contact.name)}*.")


@tool(NAME)
def send_ask(champion_email: str, channel: str = "slack", *, runtime: ToolRuntime[AgentContext]) -> str:
    """Send (record) the referral ask to a champion. Requires a human's approval before it runs."""
    return json.dumps(run(runtime.context, champion_email, channel).data, default=str)
