"""A tiny metrics hook for the engines: `count(event, n=1, **labels)` forwards to whatever sink is registered.

The engines must not import the Slack app, so they count through this module; the product's Prometheus
registry (`metrics()`, served by web/ops.py at /metrics) registers itself as the sink when it is first used. With no sink registered (the
CLI, tests of the engines alone) counting does nothing. Nothing happens at import time, and a failing sink
never breaks the code that counted.

Events the product counts (labels in brackets):
- "ask_opened" (channel), "approval" (via), "referral_created" (program);
- "llm_tokens" (kind = prompt | completion, source), from a model answer's usage metadata;
- "llm_fallback" (source, reason): a model answer replaced by the offline drafter or the engines;
- "agent_feedback" (vote, mode): a thumbs up or down on one of the agent's answers (warmintro/feedback.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Metrics", "Sink", "count", "count_usage", "metrics", "set_sink", "usage_callback", "usage_of"]

log = logging.getLogger(__name__)

#: (event, n, labels) -> None
Sink = Callable[[str, float, dict[str, str]], None]

_lock = threading.Lock()
_sink: Sink | None = None


def set_sink(sink: Sink | None) -> Sink | None:
    """Register the sink every count goes to (None: counting does nothing); returns the previous one."""
    global _sink
    with _lock:
        previous, _sink = _sink, sink
    return previous


def count(event: str, n: float = 1, **labels: object) -> None:
    """Count `n` of `event`. Labels must come from small, fixed sets (never an email or an id)."""
    sink = _sink
    if sink is None or n <= 0:
        return
    try:
        sink(event, n, {k: "" if v is None else str(v) for k, v in labels.items()})
    except Exception:  # metrics must never break what they measure
        log.debug("metrics sink failed for %s", event, exc_info=True)


_registry_lock = threading.Lock()  # not _lock: metrics() calls set_sink while holding it
_metrics: Metrics | None = None


class Metrics:
    """The product's Prometheus metrics, on a registry of its own."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.request_seconds = Histogram(
            "warmintro_http_request_duration_seconds", "HTTP request latency by route", ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.requests = Counter("warmintro_http_requests_total", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.events = Counter("warmintro_events_total", "Product events (asks opened, approvals, referrals...)",
                              ["event"], registry=self.registry)
        self.ready = Counter("warmintro_readiness_failures_total", "Failed readiness checks by dependency",
                             ["check"], registry=self.registry)
        self.slack_requests = Counter(
            "warmintro_slack_api_requests_total",
            "Slack Web API HTTP requests by method and outcome (ok, slack_error, ratelimited, http_<status>, "
            "connection_error); a retried call counts once per attempt", ["method", "outcome"], registry=self.registry)
        self.slack_retries = Counter("warmintro_slack_api_retries_total", "Slack Web API retries by method and reason",
                                     ["method", "reason"], registry=self.registry)
        self.llm_tokens = Counter("warmintro_llm_tokens_total", "LLM tokens by kind (prompt, completion) and caller",
                                  ["kind", "source"], registry=self.registry)
        self.llm_fallbacks = Counter("warmintro_llm_fallbacks_total",
                                     "Model answers replaced by the offline drafter or the engines",
                                     ["source", "reason"], registry=self.registry)
        self.agent_feedback = Counter("warmintro_agent_feedback_total",
                                      "Votes on the agent's answers (feedback buttons) by vote and how the answer "
                                      "was written (model, offline)", ["vote", "mode"], registry=self.registry)

    def sink(self, event: str, n: float, labels: dict[str, str]) -> None:
        """warmintro.metrics' sink: the engines' counts, onto this registry."""
        if event == "llm_tokens":
            self.llm_tokens.labels(kind=labels.get("kind", ""), source=labels.get("source", "")).inc(n)
        elif event == "llm_fallback":
            self.llm_fallbacks.labels(source=labels.get("source", ""), reason=labels.get("reason", "")).inc(n)
        elif event == "agent_feedback":
            self.agent_feedback.labels(vote=labels.get("vote", ""), mode=labels.get("mode", "")).inc(n)
        else:
            self.events.labels(event=event).inc(n)


def metrics() -> Metrics:
    """The process's metrics, created (and registered as warmintro.metrics' sink) on first use."""
    global _metrics
    with _registry_lock:
        if _metrics is None:
            _metrics = Metrics()
            set_sink(_metrics.sink)
        return _metrics


def usage_of(message: Any) -> tuple[int, int]:
    """(prompt tokens, completion tokens) a model answer reports, (0, 0) when it reports none.

    LangChain puts them in `usage_metadata` (input_tokens / output_tokens); older or raw OpenAI-style
    answers carry `response_metadata["token_usage"]` (prompt_tokens / completion_tokens)."""
    usage = getattr(message, "usage_metadata", None)
    if isinstance(usage, dict) and usage:
        return int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    meta = getattr(message, "response_metadata", None)
    token_usage = meta.get("token_usage") if isinstance(meta, dict) else None
    if isinstance(token_usage, dict):
        return int(token_usage.get("prompt_tokens") or 0), int(token_usage.get("completion_tokens") or 0)
    return 0, 0


def count_usage(message: Any, source: str) -> None:
    """Count the prompt and completion tokens of one model answer."""
    prompt, completion = usage_of(message)
    count("llm_tokens", prompt, kind="prompt", source=source)
    count("llm_tokens", completion, kind="completion", source=source)


def usage_callback(source: str) -> Any:
    """A LangChain callback handler that counts the tokens of every chat-model call it sees (for graphs,
    such as the agent, whose model calls happen inside)."""
    from langchain_core.callbacks import BaseCallbackHandler

    class _UsageCallback(BaseCallbackHandler):
        def on_llm_end(self, response: Any, **kwargs: Any) -> None:
            for generations in getattr(response, "generations", None) or []:
                for generation in generations:
                    message = getattr(generation, "message", None)
                    if message is not None:
                        count_usage(message, source)

    return _UsageCallback()
