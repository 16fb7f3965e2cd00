"""The `warmintro` command line. `--json` on every data command; errors to stderr, non-zero exit, no traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from warmintro import __version__
from warmintro.commands.common import Steps, emit_json, err, out, progress_wanted, use_context
from warmintro.errors import WarmintroError

app = typer.Typer(
    name="warmintro",
    help="Turns happy B2B customers into warm introductions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
def _version(value: bool) -> None:
    if value:
        out.print(f"warmintro {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Turns happy B2B customers into warm introductions."""


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="The import folder (see the data contract).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    preset: Annotated[str | None, typer.Option(
        "--preset", help="Read a CRM's own export instead of accounts/contacts/opportunities: hubspot or salesforce.",
    )] = None,
) -> None:
    """Import a contract folder into the store: all or nothing, idempotent."""
    from warmintro.importer.run import ImportRejected, import_folder

    c = use_context(ctx)
    try:
        with Steps(progress_wanted(as_json)) as steps:
            steps.step(f"Importing {folder}")
            result = import_folder(c.store, folder, progress=steps.callback(), preset=preset)
    except ImportRejected as exc:
        if as_json:
            emit_json(exc.to_json())
        raise
    if as_json:
        emit_json(result.to_json())
        return
    table = Table("table", "rows", title=f"Imported {folder}")
    for name, n in result.imported.items():
        table.add_row(name, f"{n:,}")
    out.print(table)
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}")


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the store's schema (also done automatically on first use)."""
    from warmintro.store.db import current_revision

    c = use_context(ctx)
    out.print(f"schema at revision {current_revision(c.store.engine)}")


@app.command()
def status(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What the store holds."""
    from sqlalchemy import func, select

    from warmintro.store import models as m

    c = use_context(ctx)
    counts: dict[str, int] = {}
    with c.store.session() as s:
        for model in (m.Account, m.Contact, m.Signal, m.UsageDaily, m.Meeting, m.Person, m.Employment,
                      m.Relationship, m.TeamMember, m.Opportunity, m.EmailMessage, m.Ask, m.Partner, m.Referral):
            counts[model.__tablename__] = s.scalar(select(func.count()).select_from(model)) or 0
    data = {"database": c.store.engine.url.render_as_string(hide_password=True), "counts": counts}
    if as_json:
        emit_json(data)
        return
    table = Table("table", "rows", title=data["database"])
    for k, v in counts.items():
        table.add_row(k, f"{v:,}")
    out.print(table)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: typed errors become one line on stderr and an exit code."""
    from warmintro.logs import configure_logging

    configure_logging()
    _ensure_registered()
    try:
        app(args=argv, standalone_mode=False, prog_name="warmintro")
    except WarmintroError as exc:
        err.print(f"error: {exc}", markup=False)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err.print("aborted", markup=False)
        return 130
    except typer.TyperException as exc:  # typer's own click: usage mistakes (bad option, missing argument, ...)
        return _usage_error(exc)
    except Exception as exc:
        err.print(f"error: unexpected {type(exc).__name__}: {exc}", markup=False)
        return 1
    return 0


def _usage_error(exc: typer.TyperException) -> int:
    """A usage mistake as the command's usage line, a pointer to --help and what was wrong; never a crash."""
    ctx = getattr(exc, "ctx", None)
    message = getattr(exc, "format_message", lambda: str(exc))()
    if type(exc).__name__ == "NoArgsIsHelpError":  # a group named without a command: its help is printed
        return 2
    if ctx is not None:
        err.print(ctx.get_usage(), markup=False)
        err.print(f"Try '{ctx.command_path} --help' for help.", markup=False)
    err.print(f"error: {message}", markup=False)
    return int(getattr(exc, "exit_code", 2) or 2)


def _register_commands() -> None:
    """Each engine's commands live in their own module under warmintro.commands."""
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"warmintro.commands.{name}").register(app)


COMMAND_MODULES: tuple[str, ...] = ("signals", "network", "voice", "referrals", "ledger", "chat", "demo", "links", "doctor", "webhooks",
                                    "mcp")
_registered = False


def _ensure_registered() -> None:
    global _registered
    if not _registered:
        _register_commands()
        _registered = True
