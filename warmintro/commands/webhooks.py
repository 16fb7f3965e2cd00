"""`warmintro webhooks list|deliver|retry`: the outgoing-webhook outbox and its dead letters (docs/hooks.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from warmintro.commands.common import emit_json, out, use_context
from warmintro.commands.layout import Column, print_records


def register(app: typer.Typer) -> None:
    hooks = typer.Typer(help="Outgoing webhooks: deliveries, one delivery round now, dead letters.",
                        no_args_is_help=True)
    app.add_typer(hooks, name="webhooks")

    @hooks.command("list")
    def list_cmd(
        ctx: typer.Context,
        status: Annotated[str | None, typer.Option(
            "--status", help="Only deliveries in this state: pending, sending, delivered or dead.")] = None,
        limit: Annotated[int | None, typer.Option("--limit", help="At most this many.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Every webhook delivery (oldest first), or only the dead letters with --status dead."""
        from warmintro.engines.webhooks import list_deliveries

        c = use_context(ctx)
        rows = list_deliveries(c.store, status=status, limit=limit)
        if as_json:
            emit_json({"deliveries": rows})
            return
        if not rows:
            out.print("no webhook deliveries" + (f" {status}" if status else ""))
            return
        print_records(out, [Column("id", "key", "right"), Column("event"), Column("status"),
                            Column("attempts", justify="right"), Column("next attempt", "key"),
                            Column("event id", "key"), Column("last error", "text")],
                      [[str(r["id"]), r["event_type"], r["status"], str(r["attempts"]),
                        r["next_attempt_at"] if r["status"] == "pending" else "", r["event_id"], r["last_error"] or ""]
                       for r in rows], head=5)

    @hooks.command("deliver")
    def deliver_cmd(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """One delivery round now: POST every due pending event to WARMINTRO_WEBHOOK_URL."""
        from warmintro.engines.webhooks import deliver_due

        c = use_context(ctx)
        result = deliver_due(c.store, c.settings, datetime.now(UTC))
        if as_json:
            emit_json(result)
            return
        if not result["configured"]:
            out.print(f"nothing sent: {result['reason']}; {result['pending']} pending")
            return
        out.print(f"delivered {result['delivered']}, retrying {result['retrying']}, dead {result['dead']}, "
                  f"{result['pending']} pending")

    @hooks.command("retry")
    def retry_cmd(
        ctx: typer.Context,
        delivery_id: Annotated[int, typer.Argument(metavar="ID", help="The delivery's id (webhooks list).")],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """A dead (or pending) delivery back to pending, due now; its attempts are kept."""
        from warmintro.engines.webhooks import retry

        c = use_context(ctx)
        row = retry(c.store, delivery_id, datetime.now(UTC))
        if as_json:
            emit_json(row)
            return
        out.print(f"delivery {row['id']} ({row['event_type']}) is pending again, due now")
