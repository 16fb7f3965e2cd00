"""`warmintro targets`, `warmintro who-knows` and `warmintro mobility`: the relationship graph's commands."""

from __future__ import annotations

from typing import Annotated

import typer

from warmintro.commands.common import emit_json, out, parse_when, use_context
from warmintro.commands.layout import Column, person, print_records


def register(app: typer.Typer) -> None:
    @app.command()
    def targets(
        ctx: typer.Context,
        champion: Annotated[str, typer.Argument(help="The champion's email (a customer contact).")],
        limit: Annotated[int, typer.Option("--limit", min=1, max=50, help="How many names to pre-load.")] = 5,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        show_excluded: Annotated[bool, typer.Option("--excluded", help="Also list who was left out and why.")] = False,
    ) -> None:
        """The people in a champion's own network worth naming in the ask, with reasons."""
        from warmintro.engines.targets import find_targets

        c = use_context(ctx)
        with c.store.session() as s:
            result = find_targets(s, champion, limit=limit, as_of=parse_when(as_of))
        if as_json:
            emit_json(result.to_json())
            return
        persona = (result.persona or "unknown persona").replace("_", " ")
        print_records(out, [Column("name", "key"), Column("title / company"), Column("tie"),
                            Column("score", justify="right"), Column("why", "text")],
                      [[person(t.name, t.email), (f"{t.title or ''}\n{t.company or ''}",
                                                  ", ".join(x for x in (t.title, t.company) if x)),
                        f"{t.kind} {t.strength:.2f}", f"{t.score:.2f}", "\n".join(t.reasons)] for t in result.targets],
                      title=f"Targets for {result.champion} ({persona})", numbered=True, show_lines=True)
        if not result.targets:
            out.print("No one in this champion's network fits the ICP yet.")
        counts: dict[str, int] = {}
        for e in result.excluded:
            counts[e.reason] = counts.get(e.reason, 0) + 1
        if counts:
            out.print("Left out: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        if show_excluded and result.excluded:
            print_records(out, [Column("email", "key"), Column("reason"), Column("also"), Column("detail", "text")],
                          [[e.email, e.reason, ", ".join(e.also), e.detail] for e in result.excluded], title="Left out")

    @app.command("who-knows")
    def who_knows_cmd(
        ctx: typer.Context,
        target: Annotated[str, typer.Argument(help="A company name, a domain or a person's email.")],
        limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="How many paths.")] = 10,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Warm paths to a company or person through customers, employees, investors, advisors and partners."""
        from warmintro.engines.whoknows import who_knows

        c = use_context(ctx)
        with c.store.session() as s:
            result = who_knows(s, target, limit=limit, as_of=parse_when(as_of))
        if as_json:
            emit_json(result.to_json())
            return
        print_records(out, [Column("connector", "key"), Column("pillar"), Column("target", "key"),
                            Column("hops", justify="right"), Column("strength", "text"), Column("ask", "text")],
                      [[person(p.connector_name, p.connector_email), p.pillar, person(p.target_name, p.target_email),
                        str(p.hops), f"{p.strength:.2f} {p.strength_words}", p.ask] for p in result.paths],
                      title=f"Who knows {result.target} ({result.people} people known there)", numbered=True,
                      show_lines=True)
        if not result.paths:
            out.print("No warm path found: nobody in the four pillars is tied to anyone there.")

    @app.command()
    def mobility(
        ctx: typer.Context,
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Champions who moved to another company, and whether the new company fits the ICP."""
        from warmintro.engines.mobility import find_moves

        c = use_context(ctx)
        with c.store.session() as s:
            result = find_moves(s, as_of=parse_when(as_of))
        if as_json:
            emit_json(result.to_json())
            return
        print_records(out, [Column("champion", "key"), Column("from", "key"), Column("to", "key"),
                            Column("since", "key"), Column("ICP fit"), Column("why", "text")],
                      [[person(mv.name, mv.email), (f"{mv.from_company}\n{mv.from_account_id}",
                                                    f"{mv.from_company} ({mv.from_account_id})"),
                        (f"{mv.to_company}\n{mv.to_domain or ''}", f"{mv.to_company} ({mv.to_domain or '?'})"),
                        f"{mv.since:%Y-%m-%d}", "yes" if mv.icp_fit else "no", "\n".join(mv.reasons)]
                       for mv in result.moves], title=f"Champion moves ({len(result.moves)})", show_lines=True)
