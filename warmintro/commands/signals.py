"""`warmintro scan`, `warmintro personas` and `warmintro explain` (alias `why`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from warmintro.commands.common import Steps, emit_json, out, parse_when, progress_wanted, use_context
from warmintro.commands.layout import Cell, Column, person, print_lines, print_records
from warmintro.engines.timeutil import human_moment, time_left


def register(app: typer.Typer) -> None:
    @app.command()
    def scan(
        ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        show_skipped: Annotated[bool, typer.Option(
            "--skipped", help="Also list skipped contacts, the values behind each reason and when they can be asked.")] = False,
        csm: Annotated[str | None, typer.Option("--csm", help="Only the accounts this CSM (email) owns.")] = None,
    ) -> None:
        """Today's queue: who to ask, when, and why; and why everyone else is skipped."""
        from warmintro.engines.eligibility import iter_codes, skip_details
        from warmintro.engines.scan import scan as run_scan

        c = use_context(ctx)
        when = parse_when(as_of)
        with Steps(progress_wanted(as_json)) as steps, c.store.session() as s:
            steps.step("Scanning signals, usage and the asks ledger")
            result = run_scan(s, when)
            if csm is not None:
                result = _for_csm(s, result, csm)
            details = {}
            if show_skipped or as_json:
                moments = {k.contact_email: (k.trigger.type, k.trigger.occurred_at, k.trigger.score)
                           for k in result.skipped}
                details = skip_details(s, iter_codes(result.skipped), when, moments=moments)
        if as_json:
            data = result.to_json()
            for row in data["skipped"]:
                e = details.get(row["contact_email"])
                if e is not None:
                    row |= e.to_json()
            emit_json(data)
            return
        print_queue(result, show_skipped=show_skipped, details=details)

    @app.command()
    def personas(
        ctx: typer.Context,
        account: Annotated[str, typer.Argument(help="The account's id, domain or name (a unique prefix will do).")],
        as_of: Annotated[str | None, typer.Option("--as-of")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """The persona of each contact at an account, with confidence and evidence."""
        from warmintro.engines.lookup import find_account
        from warmintro.engines.personas import account_personas

        c = use_context(ctx)
        with c.store.session() as s:
            acc = find_account(s, account)
            account_id, name = acc.account_id, acc.name
            results = account_personas(s, account_id, parse_when(as_of))
        if as_json:
            emit_json({"account_id": account_id, "account_name": name, "contacts": [r.to_json() for r in results]})
            return
        print_records(out, [Column("email", "key"), Column("persona"), Column("confidence", justify="right"),
                            Column("evidence", "text")],
                      [[r.email, r.persona.replace("_", " "), f"{r.confidence:.2f}", "; ".join(r.evidence)]
                       for r in results], title=f"Personas at {name} ({account_id})")

    def explain(
        ctx: typer.Context,
        contact: Annotated[str, typer.Argument(help="The contact's email or name (a unique prefix will do).")],
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Why someone is or is not asked, with the values behind it and when they can next be asked."""
        from warmintro.engines.eligibility import explain_contact

        c = use_context(ctx)
        with c.store.session() as s:
            data = explain_contact(s, contact, parse_when(as_of))
        if as_json:
            emit_json(data)
            return
        print_explanation(data)

    app.command("explain")(explain)
    app.command("why", help="Same as `explain`: why someone is or is not asked, and when they can be.")(explain)


def _for_csm(session: Any, result: Any, csm: str) -> Any:
    """The scan narrowed to the accounts one CSM owns (an unknown CSM is an error, not an empty queue)."""
    from sqlalchemy import select

    from warmintro.engines.scan import ScanResult
    from warmintro.errors import NotFoundError
    from warmintro.store import models as m

    who = csm.strip().lower()
    owned = set(session.scalars(select(m.Account.account_id).where(m.Account.csm_email == who)))
    if not owned and session.get(m.TeamMember, who) is None:
        raise NotFoundError(f"{csm} is not on the team (team.csv) and owns no account as CSM")
    return ScanResult(result.as_of, [a for a in result.asks if a.account_id in owned],
                      [k for k in result.skipped if k.account_id in owned])


def print_explanation(data: dict[str, Any]) -> None:
    who = f"{data['name']} <{data['contact_email']}> at {data['account_name']} ({data['account_id']})"
    lines = [who]
    if data["status"] == "ask":
        lines.append(f"Ask now: the window closes {human_moment(data['expires_at'])}.")
        lines += [f"  - {w}" for w in data["why"]]
    else:
        lines.append("Not asked today." if data["status"] == "skipped" else "No ask to make today.")
        for d in data["details"]:
            lines.append(f"  - {d['code']}: {d['detail']}")
        lines.append(f"Can be asked: {data['next_eligible']}.")
    if data.get("csm_email"):
        lines.append(f"CSM: {data['csm_email']}")
    print_lines(out, lines)


def print_queue(result: object, *, show_skipped: bool = False, details: dict[str, Any] | None = None) -> None:
    from warmintro.engines.scan import ScanResult

    assert isinstance(result, ScanResult)
    rows: list[list[Cell]] = []
    for a in result.asks:
        rows.append([person(a.contact_name, a.contact_email), a.account_name, a.persona.replace("_", " "),
                     a.trigger.type, time_left(a.expires_at, result.as_of) or "closed", f"{a.priority:.0f}",
                     a.reasons[0]])
    print_records(out, [Column("champion", "key"), Column("account"), Column("persona"), Column("trigger"),
                        Column("closes in"), Column("priority", justify="right"), Column("why", "text")],
                  rows, title=f"Asks due {human_moment(result.as_of)} ({len(result.asks)})", numbered=True,
                  show_lines=True)
    counts: dict[str, int] = {}
    for s in result.skipped:
        counts[s.reason] = counts.get(s.reason, 0) + 1
    if counts:
        print_lines(out, ["Skipped: " + ", ".join(f"{k} {v}" for k, v in counts.items())])
    if show_skipped and result.skipped:
        details = details or {}
        skipped_rows = []
        for s in result.skipped:
            e = details.get(s.contact_email)
            why = "\n".join(f"{r.code}: {r.detail}" for r in e.reasons) if e else s.reason
            skipped_rows.append([s.contact_email, s.account_id, s.reason, why, e.next_eligible if e else ""])
        print_records(out, [Column("contact", "key"), Column("account", "key"), Column("reason"),
                            Column("why", "text"), Column("can be asked", "text")],
                      skipped_rows, title=f"Skipped ({len(result.skipped)})", show_lines=True)
