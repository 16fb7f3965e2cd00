"""The MCP tools: the contract's names and arguments, each answered by the agent tool in `tools/` (the one
the agent and Slack use, with its own role check), and which of them each caller gets.

A role gets the MCP tool of every agent tool the agent gives it, except the writes (nothing here sends,
records or approves). A champion gets only what concerns their own ask: the names pre-loaded for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.context import AgentContext, ToolOutput
from agent.identity import Identity
from tools import WRITE_TOOLS
from tools import tool_names_for as agent_tool_names


@dataclass(frozen=True)
class CatalogEntry:
    name: str  # the MCP tool name (contract: "MCP server")
    agent_tool: str  # the tools/ tool whose engine call answers it
    title: str
    description: str
    answer: Callable[..., ToolOutput]  # (AgentContext, **contract arguments) -> ToolOutput


def _asks_due(ctx: AgentContext) -> ToolOutput:
    from tools import queue

    return queue.run(ctx, limit=50)


def _explain(ctx: AgentContext, contact_email: str) -> ToolOutput:
    from tools import why

    return why.run_contact(ctx, contact_email)


def _personas(ctx: AgentContext, account: str) -> ToolOutput:
    from tools import personas

    return personas.run(ctx, account)


def _targets(ctx: AgentContext, champion_email: str, limit: int = 5) -> ToolOutput:
    from tools import targets

    return targets.run(ctx, champion_email, limit)


def _who_knows(ctx: AgentContext, company: str, limit: int = 10) -> ToolOutput:
    from tools import who_knows

    return who_knows.run(ctx, company, limit)


def _draft(ctx: AgentContext, champion_email: str, target_email: str) -> ToolOutput:
    from tools import draft_ask

    return draft_ask.run_for_target(ctx, champion_email, target_email)


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("asks_due", "todays_queue", "Asks due today",
                 "Today's referral asks for you (a CSM: your accounts), most important first, each with its "
                 "trigger, reasons, the window's end and where to make it. Same JSON as `warmintro scan --json`.",
                 _asks_due),
    CatalogEntry("explain", "explain_account", "Why (not) ask someone",
                 "Why a customer contact is or is not asked for a referral now, every reason that applies, and "
                 "the first date the ask cadence allows one (`next_ask_at`).", _explain),
    CatalogEntry("personas", "account_personas", "Personas at an account",
                 "The persona of each contact at an account (economic buyer, product user, power user, "
                 "administrator) with confidence and evidence; `account` is an account id or name. Same JSON "
                 "as `warmintro personas --json`.", _personas),
    CatalogEntry("targets", "champion_targets", "People a champion could introduce",
                 "The people in a champion's own network worth an introduction (ICP fit, tie strength), with "
                 "reasons. Same JSON as `warmintro targets --json`.", _targets),
    CatalogEntry("who_knows", "who_knows", "Warm paths to a company",
                 "Who (customers, employees, investors, advisors, partners) knows someone at a company, by "
                 "name or domain, strongest path first, with evidence. Same JSON as `warmintro who-knows "
                 "--json`.", _who_knows),
    CatalogEntry("draft", "draft_ask", "Draft the ask and the note",
                 "The ask to a champion and the note they can forward to one target, in the champion's own "
                 "voice. Nothing is sent or recorded. Same JSON as `warmintro draft --json`.", _draft),
)
BY_NAME = {e.name: e for e in CATALOG}
CHAMPION_TOOLS = ("targets",)  # for their own email only (tools/targets.py refuses anyone else's)


def tool_names_for(who: Identity) -> tuple[str, ...]:
    """The MCP tools this caller may list and call (none for an unknown caller)."""
    if who.role == "unknown":
        return ()
    if who.is_champion:
        return CHAMPION_TOOLS
    granted = set(agent_tool_names(who.role, external=who.external)) - WRITE_TOOLS
    return tuple(e.name for e in CATALOG if e.agent_tool in granted)
