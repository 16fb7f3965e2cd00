"""The typed per-request dependencies every tool receives (LangGraph runtime context)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.identity import Identity
from warmintro.errors import WarmintroError
from warmintro.settings import Settings
from warmintro.store.db import Store


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AgentContext:
    identity: Identity
    store: Store
    settings: Settings
    clock: Callable[[], datetime] = _now
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return self.clock()


@dataclass
class ToolOutput:
    """`data` goes to the model as JSON; `text` is Slack mrkdwn for people (and the offline router)."""

    data: dict[str, Any]
    text: str
    blocks: list[dict[str, Any]] | None = None


class ToolDenied(WarmintroError):
    """The caller's role may not use this tool or see this data."""


def escape_mrkdwn(text: str | None) -> str:
    """Text from emails, notes and champions is data: never let it form links, mentions or markup."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
