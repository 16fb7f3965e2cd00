"""What every listener, middleware and the digest receive: one typed bundle, built once by `bot.py`.

The agent service is INJECTED here. `bot.py` builds the real one (`agent.service.AgentService`); tests pass a
small fake of the same shape. Nothing in `slackapp` imports the agent service module itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from slack_sdk import WebClient

from agent.identity import Identity
from agent.types import AgentReply
from warmintro.settings import Settings
from warmintro.store.db import Store
from warmintro.warmup import Warmup


class AgentLike(Protocol):
    """The shape of `agent.service.AgentService` that the Slack app relies on."""

    def respond(self, who: Identity, thread_id: str, text: str, *,
                stream: Callable[[str], None] | None = None) -> AgentReply: ...

    def decide(self, who: Identity, thread_id: str, action_id: str, approve: bool) -> AgentReply: ...


class UnavailableAgent:
    """Stand-in used by `bot.py` only when `agent.service` cannot be imported: the App Home queue, the
    buttons, the digest and `/referrals today|help` keep working; free text gets one clear line."""

    TEXT = ("The assistant is not installed on this server yet. Your queue is in the Home tab, and "
            "`/referrals today` works.")

    def respond(self, who: Identity, thread_id: str, text: str, *,
                stream: Callable[[str], None] | None = None) -> AgentReply:
        return AgentReply(text=self.TEXT, mode="refusal", intent="unavailable")

    def decide(self, who: Identity, thread_id: str, action_id: str, approve: bool) -> AgentReply:
        return AgentReply(text=self.TEXT, mode="refusal", intent="unavailable")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    """Application-wide dependencies, shared by every request (all members are thread-safe)."""

    settings: Settings
    store: Store
    agent: AgentLike  # <- the injection point for agent.service.AgentService
    clock: Callable[[], datetime] = utc_now
    # The Web API client; `slackapp.app.build_bolt_app` fills it in when left None.
    client: WebClient | None = None
    # How many queue cards App Home shows (a home view holds at most 100 blocks).
    home_card_limit: int = 12
    # How many pre-loaded names a card / a champion DM lists.
    target_limit: int = 4
    # Threads for acks and lazy listeners (agent calls may take seconds each).
    listener_workers: int = 64
    # A CSM's App Home shows "working on it" when the queue is not ready within this (then replaced by it).
    home_placeholder_s: float = 1.0
    # How long a signal hook waits for its evaluation before answering with `pending` (contract: within 2 s).
    hook_answer_budget_s: float = 0.5
    # The process's warm-up (bot.py starts it); /readyz answers 503 "warming up" until it is done.
    warmup: Warmup | None = None

    def now(self) -> datetime:
        value = self.clock()
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
