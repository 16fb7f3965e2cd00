"""The offline router: with no model configured, the common intents are answered straight from the engines.

It understands the questions people actually type ("who knows someone at stripe.com?", "why not Acme?",
"who should I ask today?", "send the ask to priya@northwind.com") and says plainly what needs a model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.context import AgentContext, ToolDenied, ToolOutput
from tools import WRITE_TOOLS, tool_names_for
from tools.common import EMAIL_RE


@dataclass(frozen=True)
class Intent:
    tool: str
    args: dict[str, object]


_CLEAN = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")  # Slack user mentions (the bot itself)
_MAILTO = re.compile(r"<mailto:([^|>]+)\|[^>]*>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")

_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Intent]]] = [
    (re.compile(r"\b(?:send|make|record)\s+(?:the\s+|an?\s+)?ask\s+(?:to\s+)?(?P<e>\S+@\S+)", re.I),
     lambda m: Intent("send_ask", {"champion_email": m.group("e").strip(".,?!")})),
    (re.compile(r"\bwho\s+(?:knows|can\s+intro(?:duce)?\s+(?:me|us)\s+to)\s+(?:anyone|someone|somebody|people|folks)?\s*"
                r"(?:at|from|in|over\s+at)?\s*(?P<t>.+?)\s*\??$", re.I),
     lambda m: Intent("who_knows", {"target": m.group("t")})),
    (re.compile(r"\b(?:warm\s+paths?|intros?|introductions?)\s+(?:to|into|at)\s+(?P<t>.+?)\s*\??$", re.I),
     lambda m: Intent("who_knows", {"target": m.group("t")})),
    (re.compile(r"\b(?:targets?|names|who\s+(?:could|can|might)\s+\S+\s+introduce|suggestions?)\b.*?(?P<e>[\w.+'-]+@[\w.-]+\w)", re.I),
     lambda m: Intent("champion_targets", {"champion_email": m.group("e")})),
    (re.compile(r"\bpersonas?\s+(?:at|for|of)\s+(?P<t>.+?)\s*\??$", re.I),
     lambda m: Intent("account_personas", {"account": m.group("t")})),
    (re.compile(r"\b(?:why(?:\s+not)?|who\s+(?:should\s+(?:i|we)\s+ask|to\s+ask)\s+at|explain)\s+(?:ask(?:ing)?\s+)?(?:at\s+)?(?P<t>[^?]+?)\s*\??$", re.I),
     lambda m: Intent("explain_account", {"account": m.group("t")})),
    (re.compile(r"\b(queue|today|due|who\s+should\s+(?:i|we)\s+ask)\b", re.I),
     lambda m: Intent("todays_queue", {})),
    (re.compile(r"\b(?:my\s+)?(?:ask|request|introduction|intro)\b", re.I), lambda m: Intent("my_open_ask", {})),
]

HELP = (
    "Here is what I can do without a model:\n"
    "• *who should I ask today?* — your queue of asks, with reasons\n"
    "• *why not Acme?* / *who should I ask at Northwind?* — the verdict for each contact there\n"
    "• *who knows someone at stripe.com?* — warm paths through customers, team, investors and partners\n"
    "• *targets for priya@northwind.com* — the people a champion could introduce\n"
    "• *personas at Northwind* — buyer, users and admins, with evidence\n"
    "• *send the ask to priya@northwind.com* — proposes the ask; it is recorded only when you click Approve\n"
    "Free-form questions and fluent drafting need a model (set OPENAI_API_KEY or OPENAI_BASE_URL)."
)


def normalise(text: str) -> str:
    text = _CLEAN.sub(" ", text)
    text = _MAILTO.sub(r"\1", text)
    text = _LINK.sub(r"\2", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    return " ".join(text.split())


def route(text: str, role: str, *, external: bool = False) -> Intent | None:
    """The first intent the text matches that the role may use, or None."""
    allowed = set(tool_names_for(role, external=external))
    clean = normalise(text)
    if role == "champion" and "my_open_ask" in allowed:
        return Intent("my_open_ask", {})
    for pattern, build in _PATTERNS:
        m = pattern.search(clean)
        if m:
            intent = build(m)
            if intent.tool in allowed:
                if intent.tool in ("who_knows",):
                    intent.args["target"] = str(intent.args["target"]).strip(" ?.!'\"")
                return intent
            return Intent("denied", {"tool": intent.tool})
    return None


def run_intent(ctx: AgentContext, intent: Intent) -> ToolOutput:
    runners = _runners()
    if intent.tool in WRITE_TOOLS:
        raise ValueError("write tools are run through a pending action, never directly")
    try:
        return runners[intent.tool](ctx, **intent.args)
    except ToolDenied as exc:
        return ToolOutput({"error": "denied"}, f"Sorry, you can't do that here ({exc}).")


def run_write(ctx: AgentContext, tool: str, args: dict[str, object]) -> ToolOutput:
    if tool not in WRITE_TOOLS:
        raise ValueError(f"{tool} is not a write tool")
    return _runners()[tool](ctx, **args)


def _runners() -> dict[str, Callable[..., ToolOutput]]:
    from tools import draft, my_ask, personas, queue, send_ask, targets, who_knows, why

    return {
        "todays_queue": queue.run, "explain_account": why.run, "account_personas": personas.run,
        "champion_targets": targets.run, "who_knows": who_knows.run, "send_ask": send_ask.run,
        "my_open_ask": my_ask.run, "draft_note": draft.run,
    }


def find_email(text: str) -> str | None:
    m = EMAIL_RE.search(normalise(text))
    return m.group(0).lower() if m else None
