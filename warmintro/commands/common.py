"""What every CLI command shares: the per-invocation context, JSON output, time parsing."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
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


