"""The bolt App: an injected Web API client, global middleware, and listeners registered per kind.

Single-token mode (SLACK_BOT_TOKEN) is the default. With the OAuth install flow configured (slackapp/oauth.py),
each request is authorized from the installation store: bolt gives every request its own WebClient (a copy of
the injected client's base URL, headers and retry handlers) holding the token of the workspace it came from.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from slackapp import listeners, oauth
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


def build_slack_client(settings: Settings, *, require_token: bool = True) -> WebClient:
    """The Web API client: base URL from settings (a mock in tests), retries on 429 (honouring
    Retry-After), connection errors and 5xx (500, 502, 503, 504) with backoff. Without `require_token`
    (the OAuth install flow, where each workspace brings its own token) SLACK_BOT_TOKEN may be unset."""
    token = _secret(settings.slack_bot_token)
    if not token and require_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set")
    from slackapp.client import instrument_slack_client

    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return instrument_slack_client(WebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=2),
            GatewayErrorRetryHandler(max_retry_count=2),
        ],
    ))  # metered: calls by method and outcome, and retries, on /metrics


def copy_client(client: WebClient, token: str | None, team_id: str | None = None) -> WebClient:
    """`client` (same base URL, timeout, headers and retry handlers, so the same metering) with another token:
    None for the App's client in OAuth mode (bolt copies it into each request's client and sets the token from
    the installation store), or one workspace's bot token for sends outside a request."""
    return WebClient(token=token, base_url=client.base_url, timeout=client.timeout, ssl=client.ssl, proxy=client.proxy,
                     headers=dict(client.headers), logger=client.logger, team_id=team_id,
                     retry_handlers=list(client.retry_handlers) if client.retry_handlers is not None else None)


_NO_AUTH_BODIES = ("url_verification", "ssl_check")
_NO_AUTH_EVENTS = ("app_uninstalled", "tokens_revoked")


def installed_only(deps: Deps) -> Any:
    """bolt `before_authorize` middleware (OAuth mode): a request from a workspace with no installation is
    acknowledged with an empty 200 and goes no further (no answer, no reinstall notice, no error log)."""
    installations, _states = oauth.stores(deps)

    def check(req: BoltRequest, context: BoltContext, next: Any) -> BoltResponse | None:
        body: dict[str, Any] = req.body if isinstance(req.body, dict) else {}
        raw_event = body.get("event")
        event: dict[str, Any] = raw_event if isinstance(raw_event, dict) else {}
        if (body.get("type") in _NO_AUTH_BODIES or body.get("ssl_check") or event.get("type") in _NO_AUTH_EVENTS
                or not (context.team_id or context.enterprise_id)):
            return next()
        bot = installations.find_bot(enterprise_id=context.enterprise_id, team_id=context.team_id,
                                     is_enterprise_install=context.is_enterprise_install)
        if bot is None:
            log.warning("request from a workspace that has not installed the app", extra={"fields": {
                "team_id": context.team_id, "enterprise_id": context.enterprise_id}})
            return BoltResponse(status=200, body="")
        return next()

    return check


def build_bolt_app(deps: Deps, *, socket_mode: bool = False) -> App:
    """A bolt App wired to `deps`. HTTP mode needs the signing secret; Socket Mode does not verify
    signatures (Slack's WebSocket is already authenticated with the app token).

    With the OAuth install flow configured, each request runs with its own workspace's bot token from the
    installation store (the listeners' `client` is bolt's per-request copy of `deps.client`, so its base URL);
    `deps.client` keeps SLACK_BOT_TOKEN (if any) for sends outside a request."""
    multi = oauth.configured(deps)
    if deps.client is None:
        deps.client = build_slack_client(deps.settings, require_token=not multi)
    signing_secret = _secret(deps.settings.slack_signing_secret)
    if not signing_secret and not socket_mode:
        raise ConfigError("SLACK_SIGNING_SECRET is not set")
    per_workspace: dict[str, Any] = {}
    if multi:
        installations, _states = oauth.stores(deps)
        per_workspace = {"authorize": oauth.authorize(deps), "installation_store": installations,
                         "before_authorize": installed_only(deps)}
    app = App(
        client=copy_client(deps.client, None) if multi else deps.client,
        signing_secret=signing_secret or "socket-mode",
        token_verification_enabled=False,  # auth.test on the first request instead of at start-up
        process_before_response=False,  # ack at once; lazy listeners do the work
        request_verification_enabled=not socket_mode,
        logger=logging.getLogger("slackapp.bolt"),
        name="warmintro",
        # acks of commands and clicks run on this pool too (bolt's default is 5 threads): lazy agent calls
        # that take seconds must never leave an ack waiting past Slack's 3 s
        listener_executor=ThreadPoolExecutor(max_workers=deps.listener_workers, thread_name_prefix="slack-listener"),
        **per_workspace,
    )
    if multi:
        app.enable_token_revocation_listeners()  # app_uninstalled / tokens_revoked forget the workspace's token
    app.use(dedupe_middleware(deps))
    app.use(identity_middleware(deps, UserCache()))
    listeners.register(app, deps)
    return app
