"""`warmintro voice`, `warmintro draft` and `warmintro index-emails`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from warmintro.commands.common import Steps, emit_json, err, out, parse_when, progress_wanted, use_context


def register(app: typer.Typer) -> None:
    @app.command()
    def voice(
        ctx: typer.Context,
        email: Annotated[str, typer.Argument(help="The person's email address.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """A person's voice profile, measured from their own past emails."""
        from warmintro.voice.service import voice_report

        c = use_context(ctx)
        with c.store.session() as s:
            report = voice_report(s, email)
        if as_json:
            emit_json(report)
            return
        print_voice(report)

    @app.command()
    def draft(
        ctx: typer.Context,
        champion_email: Annotated[str, typer.Argument(help="The champion's email address.")],
        target: Annotated[str, typer.Option("--target", help="The target's email address.")],
        as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or datetime (default: now).")] = None,
        offline: Annotated[bool, typer.Option("--offline", help="Use the offline composer even if a model is set.")]
        = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Draft the ask to a champion and their forwardable note to one target, in their own voice."""
        from warmintro.voice.service import draft_for

        c = use_context(ctx)
        result = draft_for(c.store, c.settings, champion_email, target, now=parse_when(as_of), offline=offline)
        if as_json:
            emit_json(result.to_json())
            return
        print_draft(result.to_json())

    @app.command("index-emails")
    def index_emails_cmd(
        ctx: typer.Context,
        author: Annotated[list[str] | None, typer.Option("--author", help="Only this sender (repeatable).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Embed imported emails into the vector store (incremental: already embedded emails are skipped)."""
        from warmintro.voice.index import index_emails, open_email_index

        c = use_context(ctx)
        index = open_email_index(c.settings)
        with Steps(progress_wanted(as_json)) as steps:
            steps.step("Embedding emails")
            result = index_emails(c.store, index, authors=author or None,
                                  progress=lambda done, total: steps.count(done, total, "emails"))
        if as_json:
            emit_json(result.to_json())
            return
        out.print(f"embedded {result.embedded:,} emails; {result.already:,} were already embedded "
                  f"({result.total:,} in scope){'; the vector store was empty or made by another model, so all were re-indexed' if result.reset else ''}")


def print_voice(report: dict[str, Any]) -> None:
    table = Table("measure", "value", title=f"Voice of {report.get('name') or report['email']} "
                                            f"({report['n_messages']} emails)")

    def forms(key: str) -> str:
        return ", ".join(f"{(f['form'] or '(none)')!r} {f['share']:.0%}" for f in report[key][:4])

    table.add_row("greetings", forms("greetings"))
    table.add_row("sign-offs", forms("signoffs"))
    table.add_row("sign-off name", str(report.get("signoff_name") or "-"))
    table.add_row("register / formality", f"{report['register']} / {report['formality']:.2f}")
    table.add_row("words per email (median)", f"{report['median_message_words']:.0f}")
    table.add_row("words per sentence", f"{report['avg_sentence_words']:.1f}")
    table.add_row("contractions", f"{report['contraction_rate']:.0%}")
    table.add_row("exclamations / emoji", f"{report['exclamation_rate']:.0%} / {report['emoji_rate']:.0%}")
    table.add_row("all lower case", "yes" if report["all_lowercase"] else "no")
    table.add_row("recurring phrases", ", ".join(p["text"] for p in report["recurring_phrases"][:8]) or "-")
    out.print(table)


def print_draft(data: dict[str, Any]) -> None:
    out.print("[bold]Ask to the champion[/]", f"({data['ask'].get('model', 'offline')})")
    out.print(data["ask"]["text"], markup=False)
    out.print()
    out.print(f"[bold]Note[/] ({data['model']}) — Subject: ", end="")
    out.print(data["note"]["subject"], markup=False)
    out.print(data["note"]["body"], markup=False)
    out.print()
    out.print("[dim]Forward:[/] ", end="")
    out.print(data["note"]["mailto"], markup=False)
    if data["grounding"].get("violations"):
        err.print("[yellow]grounding:[/] " + "; ".join(data["grounding"]["violations"]))
    for note in data.get("notes") or []:
        err.print(f"[dim]{note}[/]")
