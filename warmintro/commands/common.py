"""What every CLI command shares: the per-invocation context, JSON output, time parsing."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import typer
from rich.console import Console

from warmintro.errors import ConfigError, WarmintroError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Context:
    """Built once per invocation and passed to every command."""

    def __init__(self) -> None:
        from pydantic import ValidationError

        from warmintro.settings import Settings

        try:
            self.settings = Settings()
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"bad setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
        self._store: Any = None

    @property
    def store(self) -> Any:
        if self._store is None:
            from warmintro.store.db import Store

            self._store = Store.open(self.settings.resolved_database_url)
        return self._store


def progress_wanted(as_json: bool) -> bool:
    """A progress display only for a person at a terminal: never with --json, nor when either stream is piped
    or redirected (scripts and `| cat` get the output alone)."""
    return not as_json and out.is_terminal and err.is_terminal


class Steps:
    """The progress display of a command whose work can take more than a second: one spinner line per step
    (done steps ticked) with the elapsed time, and a count when the step knows its total; on stderr, gone
    when the command finishes. Disabled, every method does nothing."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None
        self._files: dict[str, Any] = {}
        self._description = ""

    def __enter__(self) -> Steps:
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.fields[detail]}"),
                                 TimeElapsedColumn(), console=err, transient=True)
            self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _finish(self) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=f"✓ {self._description}", total=1, completed=1)
            self._bar.stop_task(self._task)

    def step(self, description: str) -> None:
        """Start the next step (the one before is done)."""
        if self._bar is None:
            return
        self._finish()
        self._description = description
        self._task = self._bar.add_task(description, total=None, detail="")

    def count(self, done: int, total: int | None, unit: str = "") -> None:
        """How far the current step is."""
        if self._bar is not None and self._task is not None:
            shown = f"{done:,}/{total:,}" if total else f"{done:,}"
            self._bar.update(self._task, detail=f"{shown} {unit}".rstrip())

    def import_file(self, file: str, rows: int, done: bool) -> None:
        """The importer's progress callback: a line per file with its rows so far."""
        if self._bar is None:
            return
        if file not in self._files:
            self._files[file] = self._bar.add_task(f"  {file}", total=None, detail="")
        self._bar.update(self._files[file], detail=f"{rows:,} rows", description=f"  {'✓' if done else '…'} {file}")

    def callback(self) -> Any:
        """The importer's callback when enabled, else None (the importer then skips the calls)."""
        return self.import_file if self._bar is not None else None


def use_context(ctx: typer.Context) -> Context:
    if ctx.obj is None:
        ctx.obj = Context()
    return ctx.obj


def json_text(data: Any) -> str:
    """The CLI's `--json` text (dates in UTC with a Z); the MCP server answers with the same."""
    return json.dumps(data, default=_json_default, ensure_ascii=False, indent=2)


def emit_json(data: Any) -> None:
    sys.stdout.write(json_text(data) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def parse_when(value: str | None) -> datetime:
    """An ISO 8601 date or datetime from the command line (UTC when no zone); now when None."""
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise WarmintroError(f"not an ISO 8601 date or datetime: {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


