"""`warmintro attribution`, `warmintro report`, `warmintro rewards` and `warmintro payouts`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from warmintro.commands.common import Steps, emit_json, err, out, parse_when, progress_wanted, use_context
from warmintro.commands.layout import Column, print_records
from warmintro.engines.timeutil import human_moment
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
        cur = _currency(c)
        print_records(out, [Column("opportunity", "key"), Column("domain", "key"), Column("stage"),
                            Column(f"amount ({cur})", "key", "right"), Column("credit"), Column("referral", "key"),
                            Column("referrer", "key"), Column("reason", "text")],
                      [[x.opportunity_id, x.domain, x.stage, "" if x.amount is None else f"{x.amount:,.0f}", x.credit,
                        x.referral_id or "", x.referrer_email or "", x.explanation] for x in credits],
                      title=f"Attribution as of {when:%Y-%m-%d}")

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
        with Steps(progress_wanted(as_json)) as steps:
            steps.step("Computing the program report")
            with c.store.session() as s:
                data = program_report(s, when)
            if png is not None:
                steps.step(f"Drawing the charts into {png}")
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
        cur = _currency(c)
        print_records(out, [Column("referrer", "key"), Column("program"), Column("successful", justify="right"),
                            Column("tier"), Column("next tier at", justify="right"),
                            Column(f"due ({cur})", "key", "right"), Column(f"clawed back ({cur})", "key", "right")],
                      [[r["referrer_email"], r["program"], str(r["successful_referrals"]), r["tier"] or "",
                        "" if r["next_tier_at"] is None else str(r["next_tier_at"]), f"{r['amount_due']:,.2f}",
                        f"{r['amount_clawed_back']:,.2f}"] for r in rows], title=f"Rewards as of {when:%Y-%m-%d}")

    payouts_app = typer.Typer(help="Payouts: list (default), mark-paid, export.", invoke_without_command=True)
    app.add_typer(payouts_app, name="payouts")

    @payouts_app.callback()
    def payouts(
        ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Every payout the programs owe (partner commissions, employee fees, customer rewards)."""
        if ctx.invoked_subcommand is not None:
            return
        from warmintro.engines.rewards import payouts as run

        c = use_context(ctx)
        when = parse_when(as_of)
        with c.store.session() as s:
            rows = [p.to_json() for p in run(s, when)]
        if as_json:
            emit_json({"as_of": when, "payouts": rows})
            return
        cur = _currency(c)
        print_records(out, [Column("payout", "key"), Column("referral", "key"), Column("referrer", "key"),
                            Column("program"), Column("opportunity", "key"), Column("kind"),
                            Column(f"amount ({cur})", "key", "right"), Column("due", "key"), Column("status")],
                      [[p["payout_id"], p["referral_id"], p["referrer_email"], p["program"], p["opportunity_id"],
                        p["kind"], f"{p['amount']:,.2f}", (p["due_at"] or "")[:10], p["status"]] for p in rows],
                      title=f"Payouts as of {when:%Y-%m-%d}")

    @payouts_app.command("mark-paid")
    def mark_paid_cmd(
        ctx: typer.Context,
        payout_id: Annotated[str, typer.Argument(help="The payout_id from `warmintro payouts`.")],
        by: Annotated[str, typer.Option("--as", help="The admin marking it paid (team.csv email, role admin).")],
        reference: Annotated[str | None, typer.Option("--reference", help="Finance's reference (invoice, transfer).")] = None,
        at: Annotated[str | None, typer.Option("--at", help="When it was paid (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Record a due payout as paid (admin only; paying twice changes nothing)."""
        from warmintro.engines.rewards import mark_paid
        from warmintro.store import models as m

        c = use_context(ctx)
        when = parse_when(at)
        who = by.strip().lower()
        with c.store.session(write=True) as s:
            member = s.get(m.TeamMember, who)
            if member is None or member.role != "admin":
                raise WarmintroError(f"{by} is not an admin in team.csv: only an admin marks payouts paid")
            row = mark_paid(s, payout_id, as_of=when, by=who, reference=reference).to_json()
        if as_json:
            emit_json(row)
            return
        out.print(f"{row['payout_id']}: {row['amount']:,.2f} to {row['recipient_email']} is {row['status']}")

    @payouts_app.command("export")
    def export_cmd(
        ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        csv_path: Annotated[Path | None, typer.Option("--csv", help="Write the CSV here (default: stdout).")] = None,
        status: Annotated[str | None, typer.Option("--status", help="Only rows with this status (e.g. due).")] = None,
    ) -> None:
        """The payouts as CSV for finance (formula-safe cells)."""
        import sys

        from warmintro.engines.rewards import payouts as run
        from warmintro.engines.rewards import payouts_csv

        c = use_context(ctx)
        when = parse_when(as_of)
        with c.store.session() as s:
            rows = [p for p in run(s, when) if status is None or p.status == status]
        text = payouts_csv(rows)
        if csv_path is None:
            sys.stdout.write(text)
            return
        if csv_path.is_dir() or not csv_path.parent.is_dir():
            raise WarmintroError(f"cannot write the CSV to {csv_path}: not a file in an existing folder")
        csv_path.write_text(text, encoding="utf-8")
        err.print(f"{len(rows)} payouts written to {csv_path}")

    @app.command()
    def partners(
        ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Each partner's tier, commission rate, lead quality, and whether it is flagged."""
        from warmintro.engines.partners import partner_summary

        c = use_context(ctx)
        when = parse_when(as_of)
        with c.store.session() as s:
            rows = partner_summary(s, when)
        if as_json:
            emit_json({"as_of": when, "partners": rows})
            return
        print_records(out, [Column("partner", "key"), Column("kind"), Column("tier"),
                            Column("won (window)", justify="right"), Column("rate", justify="right"),
                            Column("meeting rate", justify="right"), Column("opp rate", justify="right"),
                            Column("flagged")],
                      [[r["name"], r["kind"], r["tier"] or "", str(r["won_in_window"]), f"{r['rate']:g}%",
                        _pct(r["quality"]["meeting_rate"]), _pct(r["quality"]["opportunity_rate"]),
                        "yes" if r["flagged"] else ""] for r in rows], title=f"Partners as of {when:%Y-%m-%d}")

    @app.command("portal-link")
    def portal_link_cmd(
        ctx: typer.Context,
        partner: Annotated[str, typer.Argument(help="A partner_id, or an email of the partner.")],
        ttl: Annotated[str, typer.Option("--ttl", help="How long the link works (e.g. 90d).")] = "365d",
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """A signed link to the partner's portal page: tracking link, submissions, commissions, a form."""

        from warmintro.engines.partners import portal_link
        from warmintro.weblinks import parse_ttl

        c = use_context(ctx)
        link = portal_link(c.store, c.settings, partner, datetime.now(UTC), parse_ttl(ttl))
        if as_json:
            emit_json(link.to_json())
            return
        out.print(link.url)

    @app.command()
    def suggestions(
        ctx: typer.Context,
        email: Annotated[str | None, typer.Argument(help="An employee's email (default: every employee).")] = None,
        limit: Annotated[int, typer.Option("--limit", help="At most this many per employee.")] = 5,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Whom an employee could refer: former colleagues now at ICP companies (customer-facing first)."""
        from warmintro.engines.programs import employee_suggestions, team_suggestions

        c = use_context(ctx)
        when = parse_when(as_of)
        with c.store.session() as s:
            data = (employee_suggestions(s, email, when, limit=limit) if email
                    else {"employees": team_suggestions(s, when, limit=limit)})
        if as_json:
            emit_json(data)
            return
        for emp in ([data] if email else data["employees"]):
            out.print(f"[bold]{emp['employee']}[/] ({emp['role'] or 'not on the team'})")
            for sug in emp["suggestions"]:
                out.print(f"  {sug['name']} <{sug['email']}>, {sug['title'] or ''} at {sug['company']}: "
                          + "; ".join(sug["reasons"]))


def _money(value: float | None, cur: str) -> str:
    return "—" if value is None else f"{cur} {value:,.0f}"


def _words(name: str) -> str:
    return name.replace("_", " ")


def print_report(data: dict[str, Any]) -> None:
    from warmintro.commands.layout import print_lines

    cur = data.get("currency", "USD")
    rate = data["referral_rate"]
    out.print(f"[bold]{data.get('title') or 'Referral program as of ' + data['as_of']}[/]")
    print_lines(out, [f"Every figure covers that period (as of {human_moment(data['as_of'])}); amounts in {cur}.",
                      f"Referral rate: {rate['referring_accounts']} of {rate['customer_accounts']} customer accounts "
                      f"referred someone ({_pct(rate['rate'])})."])
    asked = data["funnel"][0]
    print_records(out, [Column("stage"), Column("count", justify="right"), Column("of previous", justify="right")],
                  [[stage.get("label", stage["stage"]), f"{stage['count']:,}", _pct(stage["conversion"])]
                   for stage in data["funnel"]], title="Funnel (all three programs)")
    if "asks" in asked:
        print_lines(out, [f"  asked = {asked['asks']:,} asks to customers + {asked['submissions']:,} partner and "
                          "employee submissions (a submission is its own ask)"])
    pipe, won = data["pipeline"], data["won_revenue"]
    sla = data["sla"]
    ttf = data["time_to_first_referral"]
    lines = [f"Referral share of pipeline: {_pct(pipe['share'])} ({_money(pipe['referral'], cur)} of "
             f"{_money(pipe['total'], cur)}, {pipe['count_referral']:,} of {pipe['count_total']:,} opportunities)",
             f"Referral share of won revenue: {_pct(won['share'])} ({_money(won['referral'], cur)} of "
             f"{_money(won['total'], cur)}, {won['count_referral']:,} of {won['count_total']:,} deals)",
             f"First-touch SLA: {sla['met']} met, {sla['breached']} breached, {sla['pending']} pending "
             f"({_pct(sla['compliance'])} met)"]
    if ttf["accounts"]:
        lines.append(f"Time to first referral: median {ttf['median_days']:.0f} days from becoming a customer "
                     f"({ttf['accounts']} referring accounts)")
    print_lines(out, lines)
    for key, title in (("by_trigger", "By trigger"), ("by_persona", "By persona")):
        groups = {k: v for k, v in data[key].items() if v["referrals"]}
        if groups:
            print_records(out, [Column(key.split("_")[1]), Column("referrals", justify="right"),
                                Column("meetings", justify="right"), Column("opps", justify="right"),
                                Column("won", justify="right"), Column("won/referred", justify="right")],
                          [[_words(name), str(g["referrals"]), str(g["meetings"]), str(g["opportunities"]),
                            str(g["won"]), _pct(g["conversion"])] for name, g in groups.items()], title=title)
    if data["by_source"]:
        print_records(out, [Column("source"), Column("opps", justify="right"), Column("won", justify="right"),
                            Column("close rate", justify="right"), Column(f"pipeline ({cur})", "key", "right"),
                            Column(f"won ({cur})", "key", "right")],
                      [[_words(name), str(g["opportunities"]), str(g["won"]), _pct(g["conversion"]),
                        f"{g.get('pipeline', 0):,.0f}", f"{g.get('won_revenue', 0):,.0f}"]
                       for name, g in data["by_source"].items()], title="Opportunities by source (all deals)")
    econ = data.get("economics")
    if econ:
        print_records(out, [Column("program"), Column("referrals", justify="right"), Column("won", justify="right"),
                            Column("won/referred", justify="right"), Column(f"pipeline ({cur})", "key", "right"),
                            Column(f"won ({cur})", "key", "right"), Column(f"payouts ({cur})", "key", "right"),
                            Column(f"CAC ({cur})", "key", "right")],
                      [[name, str(row["referrals"]), str(row["won"]), _pct(row["conversion"]),
                        f"{row['pipeline']:,.0f}", f"{row['won_revenue']:,.0f}", f"{row['payouts']:,.0f}",
                        "—" if row["cac"] is None else f"{row['cac']:,.0f}"] for name, row in econ["programs"].items()],
                      title="Programs")
        cac = econ["cac"]
        ret = econ["retention"]
        months = round(ret["days"] / 30.4)
        print_lines(out, [
            "CAC per won customer: " + ", ".join(f"{k} {_money(cac[k], cur)}" for k in ("referral", "paid", "organic")),
            f"{months}-month retention (customers {months} months ago who are still customers): referred "
            f"{_pct(ret['referred']['retention'])} ({ret['referred']['retained']} of {ret['referred']['accounts']}), "
            f"the rest {_pct(ret['rest']['retention'])} ({ret['rest']['retained']} of {ret['rest']['accounts']})"])
        print_lines(out, [econ["reference"]])
    votes = data.get("agent_feedback")
    if votes and votes["answers_rated"]:
        modes = ", ".join(f"{mode} {v['up']} up / {v['down']} down" for mode, v in sorted(votes["by_mode"].items()))
        print_lines(out, [f"Assistant answers rated in Slack: {votes['answers_rated']:,} ({votes['up']:,} up, "
                          f"{votes['down']:,} down, {_pct(votes['share_up'])} up; {modes})"])
    # one line per flagged finding, not per referral: a referrer with five flagged referrals is one finding
    findings: dict[tuple[str, str], list[str]] = {}
    for flag in data["flags"]:
        findings.setdefault((flag["flag"], flag["detail"]), []).append(flag["referral_id"])
    for (kind, detail), ids in findings.items():
        err.print(f"[yellow]flag:[/] {kind}: {detail} (referral{'s' if len(ids) > 1 else ''} {', '.join(ids)})",
                  soft_wrap=True)


def _currency(c: Any) -> str:
    """The program's currency code (program.toml [vendor] currency, default USD)."""
    from warmintro.program import load_program

    with c.store.session() as s:
        return load_program(s).vendor.currency


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
