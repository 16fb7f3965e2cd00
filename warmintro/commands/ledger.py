"""`warmintro attribution`, `warmintro report`, `warmintro rewards` and `warmintro payouts`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from warmintro.commands.common import emit_json, err, out, parse_when, use_context
from warmintro.errors import WarmintroError


def register(app: typer.Typer) -> None:
    @app.command()
    def attribution(
        ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Which referral sourced or influenced each opportunity (account-level, 90/180-day window)."""
        from warmintro.engines.attribution import attribution as run

        c = use_context(ctx)
        when = parse_when(as_of)
        with c.store.session() as s:
            credits = run(s, when)
        if as_json:
            emit_json({"as_of": when, "opportunities": [x.to_json() for x in credits]})
            return
        table = Table("opportunity", "domain", "stage", "amount", "credit", "referral", "referrer", "reason")
        for x in credits:
            table.add_row(x.opportunity_id, x.domain, x.stage, "" if x.amount is None else f"{x.amount:,.0f}", x.credit,
                          x.referral_id or "", x.referrer_email or "", x.explanation)
        out.print(table)

    @app.command()
    def report(
        ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        png: Annotated[Path | None, typer.Option("--png", help="Also write the charts to this PNG file.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """The program report: referral rate, funnel, share of pipeline and revenue, SLA compliance, charts."""
        from warmintro.engines.report import program_report, render_png

        c = use_context(ctx)
        when = parse_when(as_of)
        if png is not None and (png.is_dir() or not png.parent.is_dir()):
            raise WarmintroError(f"cannot write the PNG to {png}: not a file in an existing folder")
        with c.store.session() as s:
            data = program_report(s, when)
        if png is not None:
            render_png(data, png)
            data["png"] = str(png)
        if as_json:
            emit_json(data)
            return
        print_report(data)
        if png is not None:
            err.print(f"charts written to {png}")

    @app.command()
    def rewards(
        ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Each referrer's successful referrals, tier and rewards."""
        from warmintro.engines.rewards import referrer_rewards

        c = use_context(ctx)
        when = parse_when(as_of)
        with c.store.session() as s:
            rows = referrer_rewards(s, when)
        if as_json:
            emit_json({"as_of": when, "rewards": rows})
            return
        table = Table("referrer", "program", "successful", "tier", "next tier at", "due", "clawed back")
        for r in rows:
            table.add_row(r["referrer_email"], r["program"], str(r["successful_referrals"]), r["tier"] or "",
                          "" if r["next_tier_at"] is None else str(r["next_tier_at"]), f"{r['amount_due']:,.2f}",
                          f"{r['amount_clawed_back']:,.2f}")
        out.print(table)

    @app.command()
    def payouts(
        ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Every payout the programs owe (partner commissions, employee fees, customer rewards)."""
        from warmintro.engines.rewards import payouts as run

        c = use_context(ctx)
        when = parse_when(as_of)
        with c.store.session() as s:
            rows = [p.to_json() for p in run(s, when)]
        if as_json:
            emit_json({"as_of": when, "payouts": rows})
            return
        table = Table("referral", "referrer", "program", "opportunity", "kind", "amount", "due", "status")
        for p in rows:
            table.add_row(p["referral_id"], p["referrer_email"], p["program"], p["opportunity_id"], p["kind"],
                          f"{p['amount']:,.2f}", p["due_at"] or "", p["status"])
        out.print(table)


def print_report(data: dict[str, Any]) -> None:
    rate = data["referral_rate"]
    out.print(f"[bold]Program report[/] as of {data['as_of']}")
    out.print(f"Referral rate: {rate['referring_accounts']} of {rate['customer_accounts']} customer accounts"
              f" ({_pct(rate['rate'])})")
    table = Table("stage", "count", "conversion", title="Funnel")
    for stage in data["funnel"]:
        table.add_row(stage["stage"], str(stage["count"]), _pct(stage["conversion"]))
    out.print(table)
    pipe, won = data["pipeline"], data["won_revenue"]
    out.print(f"Referral share of pipeline: {_pct(pipe['share'])} ({pipe['referral']:,.0f} of {pipe['total']:,.0f}); "
              f"of won revenue: {_pct(won['share'])} ({won['referral']:,.0f} of {won['total']:,.0f})")
    sla = data["sla"]
    out.print(f"First-touch SLA: {sla['met']} met, {sla['breached']} breached, {sla['pending']} pending "
              f"({_pct(sla['compliance'])})")
    ttf = data["time_to_first_referral"]
    if ttf["accounts"]:
        out.print(f"Time to first referral: median {ttf['median_days']:.0f} days over {ttf['accounts']} accounts")
    for key, title in (("by_trigger", "By trigger"), ("by_persona", "By persona"), ("by_source", "By source")):
        if data[key]:
            t = Table(key.split("_")[1], "referrals/opps", "won", "conversion", title=title)
            for name, row in data[key].items():
                t.add_row(name, str(row.get("referrals", row.get("opportunities", 0))), str(row["won"]),
                          _pct(row["conversion"]))
            out.print(t)
    for flag in data["flags"]:
        err.print(f"[yellow]flag:[/] {flag['flag']} {flag['referral_id']}: {flag['detail']}")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
