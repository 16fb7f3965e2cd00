"""Slack's OAuth install flow over HTTP: `GET /slack/install` and `GET /slack/oauth_redirect`, handed to bolt's
OAuthFlow (slackapp/oauth.py holds the installation and state stores). Mounted only when the flow is
configured."""

from __future__ import annotations

import threading
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from slackapp import oauth
from web.server import to_bolt_request

_lock = threading.Lock()


def _response(resp: Any) -> Response:
    """A bolt response with every header, Set-Cookie included (the OAuth state cookie)."""
    out = Response(status_code=resp.status, content=resp.body)
    for name, values in resp.headers.items():
        if name.lower() == "content-length":
            continue
        for value in values:
            out.headers.append(name, value)
    return out


def routes(deps: Any) -> list[BaseRoute]:
    if not oauth.configured(deps):
        return []
    state: dict[str, Any] = {}

    def flow() -> Any:
        with _lock:
            if "flow" not in state:
                state["flow"] = oauth.oauth_flow(deps)
            return state["flow"]

    async def install(request: Request) -> Response:
        req = to_bolt_request(await request.body(), request)
        return _response(await run_in_threadpool(lambda: flow().handle_installation(req)))

    async def redirect(request: Request) -> Response:
        req = to_bolt_request(await request.body(), request)
        return _response(await run_in_threadpool(lambda: flow().handle_callback(req)))

    return [Route(oauth.INSTALL_PATH, install, methods=["GET"]), Route(oauth.REDIRECT_PATH, redirect, methods=["GET"])]
