"""Streamable HTTP at `/mcp`: `warmintro mcp --http`, and mounted by `python bot.py` on the Slack app's port.

Every request carries `Authorization: Bearer <token>` (`warmintro mcp-token`); the SDK's bearer middleware
asks our verifier (mcpserver/tokens.py) and answers 401 for a missing, forged, expired or revoked token, before
any MCP message is read. The transport is stateless with JSON answers: each request stands alone, so any
replica behind a load balancer can answer it, and no session outlives its token. DNS-rebinding protection
(a Host allow-list) is off: it guards servers a browser can reach with ambient credentials, and a bearer
token is never ambient.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from warmintro.settings import Settings
from warmintro.store.db import Store

PATH = "/mcp"


@dataclass
class McpHttp:
    endpoint: ASGIApp  # the guarded ASGI app for PATH
    manager: Any  # the SDK's StreamableHTTPSessionManager: runs while the server is up

    def lifespan(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self.manager.run()  # type: ignore[no-any-return]


def build_http(settings: Settings, store: Store, clock: Callable[[], datetime]) -> McpHttp:
    from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
    from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.middleware.authentication import AuthenticationMiddleware

    from mcpserver.server import CALLS, build_server
    from mcpserver.tokens import TokenVerifier

    logging.getLogger(CALLS.name).setLevel(logging.INFO)  # every call is logged, whatever the level
    server = build_server(settings, store, clock=clock)
    server.streamable_http_app(  # builds the session manager; its Starlette app is not used
        streamable_http_path=PATH, stateless_http=True, json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    manager = server.session_manager
    guarded = RequireAuthMiddleware(manager.handle_request, required_scopes=[])
    endpoint = AuthenticationMiddleware(AuthContextMiddleware(guarded),
                                        backend=BearerAuthBackend(TokenVerifier(store, settings, clock)))
    return McpHttp(endpoint, manager)


class LifespanRoute(Route):
    """A route with something that must run while the server is up (the host app enters `lifespan`)."""

    def __init__(self, path: str, endpoint: ASGIApp, lifespan: Callable[[], Any]) -> None:
        super().__init__(path, endpoint=endpoint)
        self.lifespan = lifespan


def routes(deps: Any) -> list[BaseRoute]:
    """For the Slack app's server (web/server.py mounts each module's routes)."""
    mcp = build_http(deps.settings, deps.store, deps.now)
    return [LifespanRoute(PATH, mcp.endpoint, mcp.lifespan)]


def standalone_app(settings: Settings, store: Store, clock: Callable[[], datetime]) -> Starlette:
    """`warmintro mcp --http`: only `/mcp`."""
    mcp = build_http(settings, store, clock)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with mcp.lifespan():
            yield

    return Starlette(routes=[Route(PATH, endpoint=mcp.endpoint)], lifespan=lifespan)
