"""The one Slack Web API client factory.

`build_slack_client(settings)` makes the process's client, once, in the entry point (bot.py; the test
harnesses through `slackapp.app.build_bolt_app`), which puts it on `Deps.client`. Every other client is a
copy of it (same base URL, timeout, headers and retry handlers, so the same metering): bolt's per-request
clients, `client_for` one installed workspace (OAuth mode), and `WorkspaceRouter` for sends that name no
workspace. `send_client(deps)` picks the right one for a send outside a request.

Every client is metered: requests by method and outcome, and retries, on the product's Prometheus registry
(`warmintro.metrics.metrics()`, served at /metrics).
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from slackapp import oauth
from warmintro.errors import ConfigError
from warmintro.metrics import metrics
from warmintro.settings import Settings

if TYPE_CHECKING:
    from slackapp.deps import Deps

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------------
# Slack Web API calls. bolt builds a fresh WebClient per request from the app client's base URL, token and a
# copy of its retry handler *list*, so the handler objects are what every client shares: the metering is done
# by retry handlers. A first handler that never retries sees every attempt (slack_sdk consults the handlers
# after each response, and after each error) and counts it; the real handlers are wrapped so that each retry
# they decide on is counted.


def _api_method(request: Any) -> str:
    url = str(getattr(request, "url", "") or "")
    method = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    # Slack's methods look like "chat.postMessage"; anything else (a file upload URL) is not a label
    return method if method and "." in method and len(method) <= 64 else "other"


def _outcome(response: Any, error: Exception | None) -> str:
    if response is None:
        return "connection_error" if error is not None else "unknown"
    status = int(getattr(response, "status_code", 0) or 0)
    if status == 429:
        return "ratelimited"
    if status != 200:
        return f"http_{status}"
    body = getattr(response, "body", None)
    if isinstance(body, dict) and body.get("ok") is False:
        return "slack_error"
    return "ok"


@functools.lru_cache(maxsize=1)
def _retry_handler_classes() -> tuple[type, type]:
    from slack_sdk.http_retry.handler import RetryHandler

    class MeteringHandler(RetryHandler):
        """Counts every attempt by method and outcome; never asks for a retry itself."""

        def can_retry(self, *, state: Any, request: Any, response: Any = None, error: Exception | None = None) -> bool:
            try:
                metrics().slack_requests.labels(method=_api_method(request), outcome=_outcome(response, error)).inc()
            except Exception:  # metrics never break a Slack call
                log.debug("slack metering failed", exc_info=True)
            return False

    class CountingRetryHandler(RetryHandler):
        """Delegates to `inner`; counts each retry it prepares."""

        def __init__(self, inner: Any) -> None:
            super().__init__(max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator)
            self.inner = inner

        def can_retry(self, *, state: Any, request: Any, response: Any = None, error: Exception | None = None) -> bool:
            return bool(self.inner.can_retry(state=state, request=request, response=response, error=error))

        def prepare_for_next_attempt(self, *, state: Any, request: Any, response: Any = None,
                                     error: Exception | None = None) -> None:
            try:
                reason = _outcome(response, error)
                metrics().slack_retries.labels(method=_api_method(request), reason=reason).inc()
            except Exception:
                log.debug("slack retry metering failed", exc_info=True)
            self.inner.prepare_for_next_attempt(state=state, request=request, response=response, error=error)

    return MeteringHandler, CountingRetryHandler


def instrument_slack_client(client: Any) -> Any:
    """Meter a slack_sdk WebClient in place (idempotent): requests by method and outcome, and retries. The
    clients bolt makes per request copy the handler list, so instrumenting the app's client covers them."""
    if client is None or getattr(client, "_warmintro_metered", False):
        return client
    metering, counting = _retry_handler_classes()
    handlers = [h for h in getattr(client, "retry_handlers", None) or [] if not isinstance(h, metering)]
    client.retry_handlers = [metering(), *(h if isinstance(h, counting) else counting(h) for h in handlers)]
    client._warmintro_metered = True
    return client


RETRIED_STATUSES = (500, 502, 503, 504)


class GatewayErrorRetryHandler(ServerErrorRetryHandler):
    """slack_sdk's ServerErrorRetryHandler retries only 500 and 503; a 502 or 504 from Slack's edge (a bad
    gateway, a gateway timeout) is just as transient, and without a retry the reply is lost."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Exception | None = None) -> bool:
        return response is not None and response.status_code in RETRIED_STATUSES


def secret_value(value: object) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if callable(getter) else value) or None


def build_slack_client(settings: Settings, *, require_token: bool = True) -> WebClient:
    """The Web API client: base URL from settings (a mock in tests), retries on 429 (honouring
    Retry-After), connection errors and 5xx (500, 502, 503, 504) with backoff. Without `require_token`
    (the OAuth install flow, where each workspace brings its own token) SLACK_BOT_TOKEN may be unset."""
    token = secret_value(settings.slack_bot_token)
    if not token and require_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set")
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


def client_for(deps: Any, team_id: str | None, enterprise_id: str | None = None) -> Any:
    """A Web API client for sends outside a request (digest, notices, replays) into one installed workspace:
    `deps.client`'s base URL, timeout, headers and retry handlers with that workspace's bot token. None when
    OAuth is off, no workspace is named, or that workspace never installed the app."""
    if not oauth.configured(deps) or not (team_id or enterprise_id) or deps.client is None:
        return None
    token = oauth.bot_token(deps, team_id, enterprise_id)
    if token is None:
        return None
    return copy_client(deps.client, token, team_id)


_TARGET_KEYS = ("channel", "user", "users")


class WorkspaceRouter:
    """A Web API client for sends that name no workspace (digests, SLA notices, hook-opened cards, replays
    of old clicks) when several workspaces installed the app: each call goes out with the token of the
    workspace its recipient (a user id, or a DM/channel seen before) belongs to, found once with users.info
    per installed workspace and remembered. Calls it cannot place use `fallback` (SLACK_BOT_TOKEN, or the only
    installed workspace), else raise ConfigError. Only `api_call` and the WebClient methods built on it are
    routed: the product's sends are all of that kind."""

    def __init__(self, deps: Any, fallback: Any | None) -> None:
        self._deps = deps
        self._fallback = fallback
        self._team_of: dict[str, str] = {}
        self._methods = WebClient(token=None)  # only for its method wrappers (chat_postMessage -> api_call)

    def __getattr__(self, name: str) -> Any:
        wrapper = getattr(type(self._methods), name, None)
        if wrapper is None or not callable(wrapper):
            raise AttributeError(name)
        return lambda *args, **kwargs: wrapper(self, *args, **kwargs)  # the wrapper calls self.api_call

    def api_call(self, api_method: str, **kwargs: Any) -> Any:
        target = None
        for part in ("json", "data", "params"):
            body = kwargs.get(part) or {}
            if isinstance(body, dict):
                target = next((str(body[k]).split(",")[0] for k in _TARGET_KEYS if body.get(k)), None)
            if target:
                break
        web, team = self._client(target)
        response = web.api_call(api_method, **kwargs)
        channel = response.get("channel") if team else None
        channel = channel.get("id") if isinstance(channel, dict) else channel
        if team and isinstance(channel, str) and channel:  # a DM opened or posted to: later sends find it too
            self._team_of[channel] = team
        return response

    def _client(self, target: str | None) -> tuple[Any, str | None]:
        team = self._team_of.get(target) if target else None
        if team is None and target and target[:1] in ("U", "W"):
            team = self._find(target)
        if team is not None:
            placed = client_for(self._deps, team)
            if placed is not None:
                return placed, team
        if self._fallback is not None and getattr(self._fallback, "token", None):
            return self._fallback, None
        bots = oauth.installed_bots(self._deps)
        if len(bots) == 1:
            [(only, token)] = bots.items()
            return self._with(token, only), only
        raise ConfigError(f"no installed workspace knows {target or 'this recipient'} and SLACK_BOT_TOKEN is not set")

    def _with(self, token: str, team: str) -> Any:
        return copy_client(self._deps.client, token, team)

    def _find(self, user_id: str) -> str | None:
        for team, token in oauth.installed_bots(self._deps).items():
            try:
                self._with(token, team).users_info(user=user_id)
            except SlackApiError:
                continue  # user_not_found: another workspace's member
            self._team_of[user_id] = team
            return team
        return None


def send_client(deps: Deps, client: WebClient | None = None, team_id: str | None = None) -> WebClient:
    """The client for a send outside a request (digest, notices, hook cards, replays): `client` when given;
    single-token mode: `deps.client` (SLACK_BOT_TOKEN, built once by the entry point). With the OAuth install
    flow on: the named workspace's installed bot token (on `deps.client`'s base URL), or with none named a
    router that sends each call with its recipient's workspace token (WorkspaceRouter)."""
    if client is not None:
        return client
    if deps.client is None:
        raise ConfigError("no Slack client: the entry point builds one (slackapp.client.build_slack_client)")
    if not oauth.configured(deps):
        return deps.client
    if team_id is None:
        # No workspace named (a digest, a notice): each call goes by its recipient's workspace.
        return WorkspaceRouter(deps, deps.client)  # type: ignore[return-value]  # WebClient's API
    installed: WebClient | None = client_for(deps, team_id)
    if installed is None:
        raise ConfigError(f"Slack workspace {team_id} has not installed the app")
    return installed
