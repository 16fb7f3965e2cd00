"""The agent's tools: one per file, each a thin adapter over an engine, each checking the caller's role.

`tools_for(role)` is the role-scoped set the agent gets; WRITE_TOOLS change something and therefore run
only after a human's click (human-in-the-loop), never on the model's word alone.
"""

from __future__ import annotations

from typing import Any

WRITE_TOOLS = frozenset({"send_ask"})

_BY_ROLE: dict[str, tuple[str, ...]] = {
    "csm": ("todays_queue", "explain_account", "account_personas", "champion_targets", "who_knows", "draft_note",
            "send_ask"),
    "admin": ("todays_queue", "explain_account", "account_personas", "champion_targets", "who_knows", "draft_note",
              "send_ask"),
    "revops": ("todays_queue", "explain_account", "account_personas", "champion_targets", "who_knows"),
    "ae": ("who_knows", "explain_account", "account_personas", "champion_targets"),
    "sdr": ("who_knows", "explain_account", "champion_targets"),
    "employee": ("who_knows",),
    "champion": ("my_open_ask",),
}


def tool_names_for(role: str, *, external: bool = False) -> tuple[str, ...]:
    if external:
        return _BY_ROLE["champion"] if role == "champion" else ()
    return _BY_ROLE.get(role, ())


def all_tools() -> dict[str, Any]:
    from tools.draft import draft_note
    from tools.my_ask import my_open_ask
    from tools.personas import account_personas
    from tools.queue import todays_queue
    from tools.send_ask import send_ask
    from tools.targets import champion_targets
    from tools.who_knows import who_knows
    from tools.why import explain_account

    return {t.name: t for t in (todays_queue, explain_account, account_personas, champion_targets, who_knows,
                                draft_note, send_ask, my_open_ask)}


def tools_for(role: str, *, external: bool = False) -> list[Any]:
    registry = all_tools()
    return [registry[n] for n in tool_names_for(role, external=external)]
