"""Operations endpoints on the Slack app's port: `/readyz` (readiness) and `/metrics` (Prometheus).

`/healthz` (slackapp/server.py) is liveness: the process answers and its store does. `/readyz` says whether
this replica should get traffic: the database answers and the vector store (the Chroma server, or the
embedded one) does; 503 with the failing check otherwise. `/metrics` serves the process's own registry in
Prometheus' text format; `MetricsMiddleware` records request latency by route template (never the raw
path, so the label set stays small). Everything is created on first use, nothing at import time.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route

log = logging.getLogger(__name__)

_lock = threading.Lock()
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

    def sink(self, event: str, n: float, labels: dict[str, str]) -> None:
        """warmintro.metrics' sink: the engines' counts, onto this registry."""
        if event == "llm_tokens":
            self.llm_tokens.labels(kind=labels.get("kind", ""), source=labels.get("source", "")).inc(n)
        elif event == "llm_fallback":
            self.llm_fallbacks.labels(source=labels.get("source", ""), reason=labels.get("reason", "")).inc(n)
        else:
            self.events.labels(event=event).inc(n)


def metrics() -> Metrics:
    """The process's metrics, created (and registered as warmintro.metrics' sink) on first use."""
    global _metrics
    with _lock:
        if _metrics is None:
            from warmintro import metrics as hook

            _metrics = Metrics()
            hook.set_sink(_metrics.sink)
        return _metrics


def count(event: str, n: int = 1, **labels: object) -> None:
    """Count a product event (e.g. "ask_opened", "approval", "referral_created", "llm_fallback")."""
    metrics().sink(event, n, {k: str(v) for k, v in labels.items()})


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


def _route_template(scope: dict[str, Any]) -> str:
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return str(route.path)
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()) or ():
        try:
            match, _ = candidate.matches(scope)
        except Exception:
            continue
        if match == Match.FULL and getattr(candidate, "path", None):
            return str(candidate.path)
    return "unmatched"


class MetricsMiddleware:
    """Pure ASGI middleware: latency and status of every HTTP request, labelled by route template."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def _send(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                status["code"] = int(message.get("status", 500))
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            m = metrics()
            route = _route_template(scope)
            method = str(scope.get("method", "GET"))
            m.request_seconds.labels(method=method, route=route).observe(time.perf_counter() - start)
            m.requests.labels(method=method, route=route, status=str(status["code"])).inc()


def instrument(app: Any) -> Any:
    """Add request metrics to a Starlette app (before it serves its first request)."""
    app.add_middleware(MetricsMiddleware)
    return app


def check_store(deps: Any) -> str | None:
    from sqlalchemy import text

    try:
        with deps.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        log.warning("readiness: store unavailable: %s", type(exc).__name__)
        return f"unavailable ({type(exc).__name__})"


_vector_clients: dict[tuple[Any, ...], Any] = {}


def check_vectors(deps: Any) -> str | None:
    settings = deps.settings
    key = (getattr(settings, "chroma_host", None), getattr(settings, "chroma_port", None), str(settings.chroma_path))
    try:
        client = _vector_clients.get(key)
        if client is None:
            from vectorstore.client import open_chroma_client

            client = open_chroma_client(settings)
            _vector_clients[key] = client
        client.heartbeat()
        return None
    except Exception as exc:
        _vector_clients.pop(key, None)
        log.warning("readiness: vector store unavailable: %s", type(exc).__name__)
        return f"unavailable ({type(exc).__name__})"


def routes(deps: Any) -> list[BaseRoute]:
    metrics()  # the registry, and the engines' counts onto it, from the moment the server is built
    instrument_slack_client(getattr(deps, "client", None))

    async def readyz(_request: Request) -> Response:
        checks = {"store": await run_in_threadpool(check_store, deps),
                  "vectors": await run_in_threadpool(check_vectors, deps)}
        for name, problem in checks.items():
            if problem:
                metrics().ready.labels(check=name).inc()
        ready = not any(checks.values())
        body = {"ready": ready, "checks": {k: v or "ok" for k, v in checks.items()}}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics_endpoint(_request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics().registry), media_type=CONTENT_TYPE_LATEST)

    return [Route("/readyz", readyz, methods=["GET"]), Route("/metrics", metrics_endpoint, methods=["GET"])]
