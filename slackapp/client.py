"""The outbound Slack Web API client: how it is metered (requests and retries on the product's Prometheus
registry, `warmintro.metrics.metrics()`)."""

from __future__ import annotations

import functools
import logging
from typing import Any

from warmintro.metrics import metrics

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

