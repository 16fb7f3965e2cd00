"""The one model factory: any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp, LM Studio) by
default, or any provider langchain's `init_chat_model` knows ("anthropic:claude-...", WARMINTRO_MODEL_PROVIDER)."""

from __future__ import annotations

import importlib.util
from typing import Any

from warmintro.errors import ConfigError
from warmintro.settings import Settings


def make_chat_model(settings: Settings, **overrides: Any) -> Any | None:
    """A chat model for the configured provider, or None when no model is configured (offline mode).

    Retries are left to the callers (`.with_retry()` for direct calls, ModelRetryMiddleware in the
    agent), so a failure surfaces fast enough to fall back to the offline path."""
    if not settings.model_configured:
        return None
    provider, name = settings.model_provider_and_name
    if provider != "openai":
        return _init_chat_model(provider, name, settings, overrides)
    from langchain_openai import ChatOpenAI

    kwargs: dict[str, Any] = {
        "model": name,
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


def provider_package(provider: str) -> str | None:
    """The module init_chat_model imports for `provider` (e.g. "langchain_anthropic"), None if it knows none."""
    try:
        from langchain.chat_models.base import _BUILTIN_PROVIDERS
    except ImportError:  # a langchain without the registry: init_chat_model will say
        return None
    entry = _BUILTIN_PROVIDERS.get(provider)
    return entry[0] if entry else None


def _init_chat_model(provider: str, name: str, settings: Settings, overrides: dict[str, Any]) -> Any:
    module = provider_package(provider)
    if module is None:
        from langchain.chat_models.base import _BUILTIN_PROVIDERS

        raise ConfigError(f"unknown model provider {provider!r} (WARMINTRO_MODEL_PROVIDER / WARMINTRO_MODEL); "
                          f"one of: openai (any OpenAI-compatible endpoint), {', '.join(sorted(_BUILTIN_PROVIDERS))}")
    top = module.split(".")[0]
    install = f"pip install {top.replace('_', '-')}"
    if importlib.util.find_spec(top) is None:
        raise ConfigError(f"model provider {provider!r} needs the {top} package, which is not installed "
                          f"({install}), or use an OpenAI-compatible endpoint (OPENAI_BASE_URL)")
    from langchain.chat_models import init_chat_model

    kwargs: dict[str, Any] = {"timeout": settings.model_timeout_s, "max_retries": 0, "temperature": 0.2}
    kwargs.update(overrides)
    try:
        return init_chat_model(name, model_provider=provider, **kwargs)
    except ImportError as exc:
        raise ConfigError(f"model provider {provider!r} could not be loaded ({exc}); {install}") from exc
    except Exception as exc:  # a missing key, a bad option (pydantic's ValidationError, the SDK's own errors)
        raise ConfigError(f"model provider {provider!r} rejected its settings: {type(exc).__name__}: {exc}") from exc
