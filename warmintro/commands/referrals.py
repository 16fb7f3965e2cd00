"""`warmintro referrals add|list|update`."""

from __future__ import annotations

from typing import Annotated

import typer

from warmintro.commands.common import emit_json, out, parse_when, use_context
from warmintro.commands.layout import Column, print_records


def register(app: typer.Typer) -> None:
    referrals = typer.Typer(help="Log and track referrals.", no_args_is_help=True)
    app.add_typer(referrals, name="referrals")

    @referrals.command("add")
    def add(
        ctx: typer.Context,
        referrer: Annotated[str, typer.Option("--referrer", help="Who made the introduction (email).")],
        referee: Annotated[str, typer.Option("--referee", help="Who was introduced (email).")],
        at: Annotated[str | None, typer.Option("--at", help="When (ISO 8601; default now).")] = None,
        trigger: Annotated[str | None, typer.Option("--trigger", help="The trigger type behind the ask.")] = None,
        persona: Annotated[str | None, typer.Option("--persona", help="The referrer's persona (for the report).")] = None,
        program: Annotated[str | None, typer.Option("--program", help="customer, partner or employee (default: inferred).")] = None,
        name: Annotated[str | None, typer.Option("--name", help="The referee's name.")] = None,
        company: Annotated[str | None, typer.Option("--company", help="The referee's company.")] = None,
        status: Annotated[str, typer.Option("--status")] = "approved",
        key: Annotated[str | None, typer.Option("--key", help="Idempotency key: the same key never creates two referrals.")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Log a referral. A blocked one (same_domain, customer, do_not_contact, competitor) records nothing."""
        from warmintro.engines.ledger import ReferralBlocked, create_referral

        c = use_context(ctx)
        try:
            view = create_referral(c.store, referrer_email=referrer, referee_email=referee, at=parse_when(at),
                                   trigger_type=trigger, persona=persona, program_kind=program, referee_name=name,
                                   referee_company=company, status=status, idempotency_key=key, actor="cli")
        except ReferralBlocked as exc:
            if as_json:
                emit_json({"error": exc.reason})
            raise
        data = view.to_json()
        if as_json:
            emit_json({k: data[k] for k in ("referral_id", "status", "owner_email", "sla_due_at")} | data)
            return
        out.print(f"{view.referral_id}: {view.referrer_email} → {view.referee_email} ({view.program}), "
                  f"owner {view.owner_email or 'unassigned'}, first touch due {data['sla_due_at'] or '—'}")

    @referrals.command("list")
    def list_cmd(
        ctx: typer.Context,
        status: Annotated[str | None, typer.Option("--status")] = None,
        referrer: Annotated[str | None, typer.Option("--referrer")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """List referrals, newest first."""
        from warmintro.engines.ledger import _view, list_referrals, referral_flags

        c = use_context(ctx)
        with c.store.session() as s:
            flags = referral_flags(s)
            rows = [_view(r, created=False).to_json() | {
                        "trigger_type": r.trigger_type, "persona": r.persona,
                        "flags": [f.to_json() for f in flags.get(r.referral_id, [])]}
                    for r in list_referrals(s, status=status, referrer=referrer)]
        if as_json:
            emit_json({"referrals": rows})
            return
        print_records(out, [Column("id", "key"), Column("referrer", "key"), Column("referee", "key"),
                            Column("program"), Column("status"), Column("owner", "key"), Column("created", "key"),
                            Column("flags", "text")],
                      [[r["referral_id"], r["referrer_email"], r["referee_email"], r["program"], r["status"],
                        r["owner_email"] or "", (r["created_at"] or "")[:10], ", ".join(f["flag"] for f in r["flags"])]
                       for r in rows], title=f"Referrals ({len(rows)})")

    @referrals.command("update")
    def update_cmd(
        ctx: typer.Context,
        referral_id: Annotated[str, typer.Argument()],
        status: Annotated[str, typer.Option("--status")],
        at: Annotated[str | None, typer.Option("--at")] = None,
        note: Annotated[str | None, typer.Option("--note")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Move a referral to a new stage (timestamped and audited)."""
        from warmintro.engines.ledger import update_referral

        c = use_context(ctx)
        view = update_referral(c.store, referral_id, status=status, at=parse_when(at), actor="cli", note=note)
        if as_json:
            emit_json(view.to_json())
            return
        out.print(f"{view.referral_id} is now {view.status}")
