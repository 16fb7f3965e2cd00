"""Why (or why not) ask someone at an account: the scan's verdict for each contact there."""

from __future__ import annotations

import json

from langchain.tools import ToolRuntime
from langchain_core.tools import tool

from agent.context import AgentContext, ToolOutput, escape_mrkdwn
from tools.common import find_account, find_contact, require
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
    from warmintro.engines.personas import account_personas
    from warmintro.engines.scan import scan

    require(ctx, "csm", "admin", "revops", "ae", "sdr")
    with ctx.store.session() as s:
        acc = find_account(s, account)
        if acc is None:
            contact = find_contact(s, account)
            if contact is not None:
                acc = s.get(Account, contact.account_id)
        if acc is None:
            return ToolOutput({"error": "unknown_account", "query": account},
                              f"I couldn't find an account matching “{escape_mrkdwn(account)}”.")
        result = scan(s, ctx.now)
        personas = {p.email: p for p in account_personas(s, acc.account_id, ctx.now)}
    asks = [a for a in result.asks if a.account_id == acc.account_id]
    skips = [k for k in result.skipped if k.account_id == acc.account_id]
    data = {
        "account_id": acc.account_id, "account": acc.name,
        "asks": [a.to_json() for a in asks],
        "skipped": [k.to_json() for k in skips],
        "contacts_without_moment": sorted(set(personas) - {a.contact_email for a in asks} - {k.contact_email for k in skips}),
    }
    lines = [f"*{escape_mrkdwn(acc.name)}*"]
    for a in asks:
        lines.append(f"• Ask *{escape_mrkdwn(a.contact_name)}* ({a.persona.replace('_', ' ')}): {escape_mrkdwn(a.reasons[0])}")
    for k in skips:
        extra = f" (also: {', '.join(REASON_TEXT.get(r, r) for r in k.also)})" if k.also else ""
        lines.append(f"• Not {escape_mrkdwn(k.contact_email)}: {REASON_TEXT.get(k.reason, k.reason)}{extra}")
    if data["contacts_without_moment"]:
        lines.append(f"• No happy moment in the last 30 days for {len(data['contacts_without_moment'])} other contact(s).")
    if not asks and not skips:
        lines.append("Nobody there has had a positive moment in the last 30 days, so there is no ask to make yet.")
    return ToolOutput(data, "\n".join(lines))


def run_contact(ctx: AgentContext, contact_email: str) -> ToolOutput:
    """One contact's verdict from the same scan: asked (and until when), or skipped with every reason, and the
    first date the ask cadence allows one (the other reasons lift with the account, not on a date)."""
    from warmintro.engines.cadence import CADENCE_REASONS, load_history, next_allowed_at
    from warmintro.engines.timeutil import iso
    from warmintro.program import load_program

    require(ctx, "csm", "admin", "revops", "ae", "sdr")
    email = contact_email.strip().lower()
    with ctx.store.session() as s:
        contact = find_contact(s, email)
        if contact is None:
            return ToolOutput({"error": "unknown_contact", "query": contact_email},
                              f"{escape_mrkdwn(contact_email)} is not a customer contact.")
        email, name, account_id, dnc = contact.email, contact.name, contact.account_id, contact.do_not_contact
        history = load_history(s, [email]).get(email, [])
        rules = load_program(s).rules
    account = run(ctx, account_id).data
    ask = next((a for a in account.get("asks", []) if a["contact_email"] == email), None)
    skip = next((k for k in account.get("skipped", []) if k["contact_email"] == email), None)
    reasons = [skip["reason"], *skip.get("also", [])] if skip else (["do_not_contact"] if dnc and not ask else [])
    allowed = next_allowed_at(history, ctx.now, rules)
    if ask:
        verdict, when = "ask", ctx.now
    elif reasons and not set(reasons) <= {*CADENCE_REASONS, "window_expired"}:
        verdict, when = ("skipped" if skip else "no_moment"), None  # lifts when the account changes, not on a date
    else:
        verdict, when = ("skipped" if skip else "no_moment"), allowed
    data = {"contact_email": email, "name": name, "account_id": account_id, "account": account.get("account"),
            "verdict": verdict, "reasons": reasons, "ask": ask, "trigger": (ask or skip or {}).get("trigger"),
            "next_ask_at": iso(when) if when else None, "cadence_allows_at": iso(allowed),
            "needs_new_moment": verdict != "ask"}
    who = f"*{escape_mrkdwn(name)}* ({escape_mrkdwn(account.get('account'))})"
    if ask:
        line = f"Ask {who} now: {escape_mrkdwn(ask['reasons'][0] if ask['reasons'] else '')}; the window closes " \
               f"{ask['expires_at']}."
    else:
        why = "; ".join(REASON_TEXT.get(r, r) for r in reasons) or "no happy moment in the last 30 days"
        line = f"Not {who}: {why}."
        if when is not None:
            line += f" The cadence allows an ask from {when:%Y-%m-%d}, at their next happy moment."
        else:
            line += " That has to change before they can be asked."
    return ToolOutput(data, line)


@tool(NAME)
def explain_account(account: str, *, runtime: ToolRuntime[AgentContext]) -> str:
    """Explain who to ask (or why not) at a customer account, given its name, domain or id."""
    return json.dumps(run(runtime.context, account).data, default=str)
