"""Operations endpoints on the Slack app's port: `/readyz` (readiness) and `/metrics` (Prometheus).

`/healthz` (web/server.py) is liveness: the process answers and its store does. `/readyz` says whether
this replica should get traffic: the database answers and the vector store (the Chroma server, or the
embedded one) does; 503 with the failing check otherwise. `/metrics` serves the process's own registry
(`warmintro.metrics.metrics()`) in Prometheus' text format; `MetricsMiddleware` records request latency by route template (never the raw
path, so the label set stays small). Everything is created on first use, nothing at import time.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route

from slackapp.client import instrument_slack_client
from warmintro.metrics import metrics

log = logging.getLogger(__name__)

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
        warmup = getattr(deps, "warmup", None)
        if warmup is not None:  # models, classifier, graph: built before the first request needs them
            checks["warmup"] = warmup.status()
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
