"""The one model factory: any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp, LM Studio)."""

from __future__ import annotations

from typing import Any

from warmintro.settings import Settings


def make_chat_model(settings: Settings, **overrides: Any) -> Any | None:
    """A ChatOpenAI for the configured endpoint, or None when no model is configured (offline mode).

    Retries are left to the callers (`.with_retry()` for direct calls, ModelRetryMiddleware in the
    agent), so a failure surfaces fast enough to fall back to the offline path."""
    if not settings.model_configured:
        return None
    from langchain_openai import ChatOpenAI

    kwargs: dict[str, Any] = {
        "model": settings.model,
        "timeout": settings.model_timeout_s,
        "max_retries": 0,
        "temperature": 0.2,
        # Local servers accept any key; the client insists on one.
        "api_key": settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed",
    }
    if settings.openai_base_url:
        kwargs["base_url"] = settings.openai_base_url
    kwargs.update(overrides)
    return ChatOpenAI(**kwargs)
