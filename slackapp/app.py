"""The bolt App: an injected Web API client, global middleware, and listeners registered per kind."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from slackapp import listeners
from slackapp.deps import Deps
from slackapp.middleware import UserCache, dedupe_middleware, identity_middleware
from warmintro.errors import ConfigError
from warmintro.settings import Settings

log = logging.getLogger(__name__)

RETRIED_STATUSES = (500, 502, 503, 504)


class GatewayErrorRetryHandler(ServerErrorRetryHandler):
    """slack_sdk's ServerErrorRetryHandler retries only 500 and 503; a 502 or 504 from Slack's edge (a bad
    gateway, a gateway timeout) is just as transient, and without a retry the reply is lost."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Exception | None = None) -> bool:
        return response is not None and response.status_code in RETRIED_STATUSES


def _secret(value: object) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if callable(getter) else value) or None


def build_slack_client(settings: Settings) -> WebClient:
    """The Web API client: base URL from settings (a mock in tests), retries on 429 (honouring
    Retry-After), connection errors and 5xx (500, 502, 503, 504) with backoff."""
    token = _secret(settings.slack_bot_token)
    if not token:
        raise ConfigError("SLACK_BOT_TOKEN is not set")
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=2),
            GatewayErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_bolt_app(deps: Deps, *, socket_mode: bool = False) -> App:
    """A bolt App wired to `deps`. HTTP mode needs the signing secret; Socket Mode does not verify
    signatures (Slack's WebSocket is already authenticated with the app token)."""
    if deps.client is None:
        deps.client = build_slack_client(deps.settings)
    signing_secret = _secret(deps.settings.slack_signing_secret)
    if not signing_secret and not socket_mode:
        raise ConfigError("SLACK_SIGNING_SECRET is not set")
    app = App(
        client=deps.client,
        signing_secret=signing_secret or "socket-mode",
        token_verification_enabled=False,  # auth.test on the first request instead of at start-up
        process_before_response=False,  # ack at once; lazy listeners do the work
        request_verification_enabled=not socket_mode,
        logger=logging.getLogger("slackapp.bolt"),
        name="warmintro",
        # acks of commands and clicks run on this pool too (bolt's default is 5 threads): lazy agent calls
        # that take seconds must never leave an ack waiting past Slack's 3 s
        listener_executor=ThreadPoolExecutor(max_workers=deps.listener_workers, thread_name_prefix="slack-listener"),
    )
    app.use(dedupe_middleware(deps))
    app.use(identity_middleware(deps, UserCache()))
    listeners.register(app, deps)
    return app
