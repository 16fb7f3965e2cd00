"""`warmintro chat --as EMAIL`: talk to the agent in the terminal, as a given team member or champion."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from warmintro.commands.common import err, out, use_context


def register(app: typer.Typer) -> None:
    @app.command()
    def chat(
        ctx: typer.Context,
        as_email: Annotated[str, typer.Option("--as", help="Talk as this team member or champion (email).")],
        message: Annotated[str | None, typer.Option("--message", "-m", help="Ask one question and exit.")] = None,
        yes: Annotated[bool, typer.Option("--yes", help="Approve proposed changes without asking.")] = False,
    ) -> None:
        """Talk to the agent in the terminal (offline router when no model is configured)."""
        from agent.checkpoint import open_checkpointer
        from agent.identity import resolve_identity
        from agent.models import make_chat_model
        from agent.service import AgentService
        from warmintro.commands.mrkdwn import to_terminal
        from warmintro.errors import WarmintroError

        c = use_context(ctx)
        with c.store.session() as s:
            who = resolve_identity(s, email=as_email)
        if who.role == "unknown":
            raise WarmintroError(f"{as_email} is neither a team member nor a customer contact in the store")
        model = make_chat_model(c.settings)
        service = AgentService(c.settings, c.store, model=model,
                               checkpointer=open_checkpointer(c.settings) if model is not None else None)
        thread = f"cli:{as_email}:{uuid.uuid4().hex[:8]}"
        err.print(f"[dim]{who.label} ({who.role}); {'model ' + c.settings.model if model else 'offline mode'}. "
                  "Ctrl-D to leave.[/]")
        while True:
            text = message
            if text is None:
                try:
                    text = input("> ")
                except (EOFError, KeyboardInterrupt):
                    break
            if not text.strip():
                continue
            reply = service.respond(who, thread, text)
            out.print(to_terminal(reply.text))
            if reply.pending is not None:
                approve = yes or (message is None and input("Approve? [y/N] ").strip().lower() in ("y", "yes"))
                done = service.decide(who, thread, reply.pending.action_id, approve)
                out.print(to_terminal(done.text))
            if message is not None:
                break
