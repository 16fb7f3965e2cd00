"""Why (or why not) ask someone at an account: the scan's verdict for each contact there."""

from __future__ import annotations

import json
from contextlib import suppress

from langchain.tools import ToolRuntime
from langchain_core.tools import tool

from agent.context import AgentContext, ToolOutput, escape_mrkdwn
from tools.common import find_account, find_contact, require
from warmintro.engines.timeutil import human_moment
from warmintro.errors import NotFoundError
from warmintro.store.models import Account

NAME = "explain_account"

REASON_TEXT = {
    "do_not_contact": "marked do-not-contact",
    "unhealthy": "account NRR below 100%",
    "churn_risk": "churned or at risk of churn",
    "onboarding": "still onboarding, before first value",
    "negotiation": "in contract negotiation",
    "escalation": "open or recent support escalation (last 14 days)",
    "detractor": "a detractor score (NPS <= 6) in the last 90 days",
    "inactive": "not active every week / no recent usage",
    "decline_cooldown": "declined an ask in the last 180 days",
    "cadence_limit": "already asked 3 times this year",
    "too_soon": "asked less than 90 days ago",
    "window_expired": "the happy moment is more than 48 h old",
}


def run(ctx: AgentContext, account: str) -> ToolOutput:
    from warmintro.engines.eligibility import iter_codes, skip_details
    from warmintro.engines.personas import account_personas
    from warmintro.engines.scan import scan

    require(ctx, "csm", "admin", "revops", "ae", "sdr")
    with ctx.store.session() as s:
        acc = find_account(s, account)
        if acc is None:
            with suppress(NotFoundError):  # neither an account nor a contact: answered below
                acc = s.get(Account, find_contact(s, account).account_id)
        if acc is None:
            return ToolOutput({"error": "unknown_account", "query": account},
                              f"I couldn't find an account matching “{escape_mrkdwn(account)}”.")
        result = scan(s, ctx.now)
        personas = {p.email: p for p in account_personas(s, acc.account_id, ctx.now)}
        asks = [a for a in result.asks if a.account_id == acc.account_id]
        skips = [k for k in result.skipped if k.account_id == acc.account_id]
        details = skip_details(s, iter_codes(skips), ctx.now, moments={
            k.contact_email: (k.trigger.type, k.trigger.occurred_at, k.trigger.score) for k in skips})
    data = {
        "account_id": acc.account_id, "account": acc.name,
        "asks": [a.to_json() for a in asks],
        "skipped": [k.to_json() | (details[k.contact_email].to_json() if k.contact_email in details else {})
                    for k in skips],
        "contacts_without_moment": sorted(set(personas) - {a.contact_email for a in asks} - {k.contact_email for k in skips}),
    }
    lines = [f"*{escape_mrkdwn(acc.name)}*"]
    for a in asks:
        lines.append(f"• Ask *{escape_mrkdwn(a.contact_name)}* ({a.persona.replace('_', ' ')}): {escape_mrkdwn(a.reasons[0])}")
    for k in skips:
        e = details.get(k.contact_email)
        if e is None:
            extra = f" (also: {', '.join(REASON_TEXT.get(r, r) for r in k.also)})" if k.also else ""
            lines.append(f"• Not {escape_mrkdwn(k.contact_email)}: {REASON_TEXT.get(k.reason, k.reason)}{extra}")
            continue
        # the values behind each reason and when they can be asked (warmintro.engines.eligibility)
        # the rule first (REASON_TEXT is ours, not data), then the values that broke it
        why = "; ".join(escape_mrkdwn(r.detail) for r in e.reasons)
        lines.append(f"• Not {escape_mrkdwn(k.contact_email)}: {REASON_TEXT.get(k.reason, k.reason)} ({why}). "
                     f"Can be asked {escape_mrkdwn(e.next_eligible)}.")
    if data["contacts_without_moment"]:
        lines.append(f"• No happy moment in the last 30 days for {len(data['contacts_without_moment'])} other contact(s).")
    if not asks and not skips:
        lines.append("Nobody there has had a positive moment in the last 30 days, so there is no ask to make yet.")
    return ToolOutput(data, "\n".join(lines))


def run_contact(ctx: AgentContext, contact_email: str) -> ToolOutput:
    """One contact's verdict, with the values behind it and when they can next be asked: the JSON of
    `warmintro explain --json` (warmintro.engines.eligibility, the same scan)."""
    from warmintro.engines.eligibility import explain_contact

    require(ctx, "csm", "admin", "revops", "ae", "sdr")
    with ctx.store.session() as s:
        try:
            data = explain_contact(s, contact_email, ctx.now)
        except NotFoundError:
            return ToolOutput({"error": "unknown_contact", "query": contact_email},
                              f"{escape_mrkdwn(contact_email)} is not a customer contact.")
    who = f"*{escape_mrkdwn(data['name'])}* ({escape_mrkdwn(data.get('account_name') or data['account_id'])})"
    if data["status"] == "ask":
        why = escape_mrkdwn(data["why"][0]) if data.get("why") else "a positive moment"
        return ToolOutput(data, f"Ask {who} now: {why}; the window closes {human_moment(data['expires_at'])}.")
    details = "; ".join(escape_mrkdwn(d["detail"]) for d in data.get("details", [])) or "no happy moment lately"
    line = f"Not {who}: {details}."
    if data.get("next_eligible"):
        line += f" They can be asked {escape_mrkdwn(data['next_eligible'])}."
    return ToolOutput(data, line)


@tool(NAME)
def explain_account(account: str, *, runtime: ToolRuntime[AgentContext]) -> str:
    """Explain who to ask (or why not) at a customer account, given its name, domain or id."""
    return json.dumps(run(runtime.context, account).data, default=str)
