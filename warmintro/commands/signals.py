"""`warmintro scan` and `warmintro personas`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from warmintro.commands.common import Steps, emit_json, out, parse_when, progress_wanted, use_context


def register(app: typer.Typer) -> None:
    @app.command()
    def scan(
        ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        show_skipped: Annotated[bool, typer.Option("--skipped", help="Also list skipped contacts.")] = False,
    ) -> None:
        """Today's queue: who to ask, when, and why; and why everyone else is skipped."""
        from warmintro.engines.scan import scan as run_scan

        c = use_context(ctx)
        when = parse_when(as_of)
        with Steps(progress_wanted(as_json)) as steps, c.store.session() as s:
            steps.step("Scanning signals, usage and the asks ledger")
            result = run_scan(s, when)
        if as_json:
            emit_json(result.to_json())
            return
        print_queue(result, show_skipped=show_skipped)

    @app.command()
    def personas(
        ctx: typer.Context,
        account_id: Annotated[str, typer.Argument(help="The account's account_id.")],
        as_of: Annotated[str | None, typer.Option("--as-of")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """The persona of each contact at an account, with confidence and evidence."""
        from warmintro.engines.personas import account_personas

        c = use_context(ctx)
        with c.store.session() as s:
            results = account_personas(s, account_id, parse_when(as_of))
        if as_json:
            emit_json({"account_id": account_id, "contacts": [r.to_json() for r in results]})
            return
        table = Table("email", "persona", "confidence", "evidence", title=f"Personas at {account_id}")
        for r in results:
            table.add_row(r.email, r.persona, f"{r.confidence:.2f}", "; ".join(r.evidence))
        out.print(table)


def print_queue(result: object, *, show_skipped: bool = False) -> None:
    from warmintro.engines.scan import ScanResult

    assert isinstance(result, ScanResult)
    table = Table("#", "champion", "account", "persona", "trigger", "closes", "priority", "why",
                  title=f"Asks due {result.as_of:%Y-%m-%d %H:%M} UTC ({len(result.asks)})", show_lines=True)
    for i, a in enumerate(result.asks, 1):
        hours = (a.expires_at - result.as_of).total_seconds() / 3600
        table.add_row(str(i), f"{a.contact_name}\n{a.contact_email}", a.account_name, a.persona.replace("_", " "),
                      a.trigger.type, f"{hours:.0f} h", f"{a.priority:.0f}", a.reasons[0])
    out.print(table)
    counts: dict[str, int] = {}
    for s in result.skipped:
        counts[s.reason] = counts.get(s.reason, 0) + 1
    if counts:
        out.print("Skipped: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if show_skipped:
        t = Table("contact", "account", "reason", "also", title="Skipped")
        for s in result.skipped:
            t.add_row(s.contact_email, s.account_id, s.reason, ", ".join(s.also))
        out.print(t)
