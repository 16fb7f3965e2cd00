"""Draft the ask to a champion and their forwardable notes, for the CSM to review: the same drafting code as
`warmintro draft`, the approval page and `/referrals draft` (`warmintro.voice.service.ask_with_notes`).
Read-only: nothing is recorded or sent."""

from __future__ import annotations

import json

from langchain.tools import ToolRuntime
from langchain_core.tools import tool

from agent.context import AgentContext, ToolOutput, escape_mrkdwn
from tools.common import find_contact, require

NAME = "draft_ask"


def render(result: object) -> str:
    """Slack mrkdwn for a CSM: the ask as the champion will read it, then each note with its mailto link."""
    from warmintro.voice.service import AskWithNotes

    assert isinstance(result, AskWithNotes)
    lines = [f"*The ask to {escape_mrkdwn(result.champion_name)}* (review it, then send it from their card):",
             *(f"> {escape_mrkdwn(ln)}" if ln else ">" for ln in result.ask_text.split("\n"))]
    for d in result.notes:
        lines += ["", f"*Their note to {escape_mrkdwn(d.to_email or '')}* — _{escape_mrkdwn(d.subject)}_",
                  *(f"> {escape_mrkdwn(ln)}" if ln else ">" for ln in d.body.split("\n")),
                  f"<{d.mailto}|Open this note in their email>"]
    return "\n".join(lines)


def run(ctx: AgentContext, champion: str, target: str | None = None) -> ToolOutput:
    from warmintro.errors import AmbiguousNameError, NotFoundError
    from warmintro.voice.service import ask_with_notes

    require(ctx, "csm", "admin")
    if target:
        return run_for_target(ctx, champion, target)
    with ctx.store.session() as s:
        try:
            contact = find_contact(s, champion)
        except AmbiguousNameError as exc:
            return ToolOutput({"error": "ambiguous_champion", "champion": champion, "detail": str(exc)},
                              escape_mrkdwn(str(exc)))
        except NotFoundError:
            return ToolOutput({"error": "unknown_champion", "champion": champion},
                              f"I can't find a customer contact called {escape_mrkdwn(champion)}. Try their email.")
        try:
            # the drafter follows the settings: the LLM drafter when a model is configured, else offline
            result = ask_with_notes(s, contact.email, settings=ctx.settings, now=ctx.now)
        except NotFoundError as exc:
            return ToolOutput({"error": "not_found", "detail": str(exc)}, escape_mrkdwn(str(exc)))
    return ToolOutput(result.to_json(), render(result))


def run_for_target(ctx: AgentContext, champion_email: str, target_email: str) -> ToolOutput:
    """The ask and the champion's note to one chosen person: the JSON of `warmintro draft --json`."""
    from warmintro.errors import NotFoundError
    from warmintro.voice.service import draft_for

    require(ctx, "csm", "admin")
    try:
        draft = draft_for(ctx.store, ctx.settings, champion_email.strip().lower(), target_email.strip().lower(),
                          now=ctx.now)
    except NotFoundError as exc:
        return ToolOutput({"error": "not_found", "detail": str(exc)}, f"I can't draft that: {escape_mrkdwn(str(exc))}.")
    text = (f"*The ask:*\n{escape_mrkdwn(draft.ask_text)}\n\n*The note* ({escape_mrkdwn(draft.subject)}):\n"
            f"{escape_mrkdwn(draft.body)}")
    return ToolOutput(draft.to_json(), text)


@tool(NAME)
def draft_ask(champion: str, target: str | None = None, *, runtime: ToolRuntime[AgentContext]) -> str:
    """Draft the referral ask to a champion (name or email) and their forwardable notes to the top suggested
    people, or, with `target` (an email), the note to that one person, for the CSM to review. Nothing is sent
    or recorded."""
    return json.dumps(run(runtime.context, champion, target).data, default=str)
