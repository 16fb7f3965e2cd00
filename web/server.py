"""HTTP mode: a Starlette app that hands Slack's requests to bolt.

`POST /slack/events` serves the Events API, interactivity (buttons, shortcuts, views) and slash commands;
bolt verifies the signature (401 when forged or older than 5 minutes). `bolt_app.dispatch` is blocking (it
runs middleware and the ack, which may touch the store), so it runs in Starlette's thread pool and never
stalls the event loop. `GET /healthz` answers 200 when the store answers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from slackapp.deps import Deps

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # Slack payloads are a few KB; refuse anything absurd before verifying it

# Other surfaces served on the same port: each module has `routes(deps) -> list[BaseRoute]` (signal hooks,
# web pages). Imported when the app is built, never at import time.
ROUTE_MODULES: tuple[str, ...] = ("web.hooks", "web.ops", "web.pages", "web.slack_oauth", "web.portal", "mcpserver.http")


def mounted_routes(deps: Deps) -> list[BaseRoute]:
    import importlib

    out: list[BaseRoute] = []
    for name in ROUTE_MODULES:
        out.extend(importlib.import_module(name).routes(deps))
    return out


def to_bolt_request(body: bytes, request: Request) -> BoltRequest:
    headers: dict[str, str | Sequence[str]] = {}
    for key in request.headers:
        values = request.headers.getlist(key)
        headers[key.lower()] = values if len(values) > 1 else values[0]
    return BoltRequest(body=body.decode("utf-8"), query=request.url.query, headers=headers)


def to_response(resp: BoltResponse) -> Response:
    return Response(status_code=resp.status, content=resp.body, headers=resp.first_headers_without_set_cookie())


def signed_by_slack(verifier: SignatureVerifier, body: bytes, request: Request) -> bool:
    """Slack's v0 signature over the raw body, checked before anything parses the body: a forged request
    with a malformed body or a non-numeric timestamp is a 401, never a 500."""
    timestamp = request.headers.get("x-slack-request-timestamp") or ""
    signature = request.headers.get("x-slack-signature") or ""
    if not timestamp.isdigit() or not signature:
        return False
    try:
        return verifier.is_valid(body=body.decode("utf-8"), timestamp=timestamp, signature=signature)
    except (UnicodeDecodeError, ValueError):
        return False


# The parts of a Slack payload that bolt and our middleware read with `.get`: wrong types are a bad request.
_OBJECT_FIELDS = ("event", "user", "team", "channel", "view", "container", "message", "enterprise", "authorizations")


MAX_DEPTH = 40  # Slack's payloads nest a dozen levels at most; a deeper body would exhaust the stack in bolt


def _depth(value: object) -> int:
    """How deeply `value` nests (iterative, so a hostile body cannot overflow the stack here)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, d = stack.pop()
        if d > MAX_DEPTH:
            return d
        deepest = max(deepest, d)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((c, d + 1) for c in children if isinstance(c, dict | list))
    return deepest


def well_formed(bolt_req: BoltRequest) -> bool:
    """A body shaped like what Slack sends: an object, whose nested parts are objects (authorizations a list of
    objects). Anything else would raise inside bolt (a 500); it gets a 400 instead."""
    body = bolt_req.body
    if not isinstance(body, dict) or _depth(body) > MAX_DEPTH:
        return False
    for name in _OBJECT_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if name == "authorizations":
            if not isinstance(value, list) or not all(isinstance(a, dict) for a in value):
                return False
        elif not isinstance(value, dict) and not (name in ("user", "team", "channel") and isinstance(value, str)):
            return False
    # what bolt's matchers run regexes over: strings or nothing
    if any(body.get(k) is not None and not isinstance(body.get(k), str)
           for k in ("type", "callback_id", "command", "trigger_id", "text", "response_url")):
        return False
    actions = body.get("actions")
    if actions is not None:
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            return False
        if any(a.get(k) is not None and not isinstance(a.get(k), str) for a in actions
               for k in ("action_id", "block_id", "value", "type")):
            return False
    if body.get("type") == "block_actions" and not (actions and all(isinstance(a.get("action_id"), str) for a in actions)):
        return False  # bolt's matchers index action["action_id"]
    view = body.get("view")
    if isinstance(view, dict) and view.get("callback_id") is not None and not isinstance(view.get("callback_id"), str):
        return False
    event = body.get("event")
    if isinstance(event, dict):
        if any(event.get(k) is not None and not isinstance(event.get(k), str) for k in ("type", "subtype", "text")):
            return False
        for name in ("user", "channel", "item"):
            v = event.get(name)
            if v is not None and not isinstance(v, str | dict):
                return False
    return True


def create_web_app(bolt_app: App, deps: Deps, *, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app. `extra_routes` lets the entry point mount other handlers (signal hooks, web pages)
    on the same port."""
    secret = deps.settings.slack_signing_secret.get_secret_value() if deps.settings.slack_signing_secret else ""
    verifier = SignatureVerifier(secret) if secret else None

    async def slack_events(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            return Response(status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(status_code=413)
        if verifier is not None and not signed_by_slack(verifier, body, request):
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            bolt_req = to_bolt_request(body, request)
        except UnicodeDecodeError:
            return Response(status_code=400, content="body is not UTF-8")
        except Exception:  # signed, but not the JSON or form payload Slack sends (bolt parses it here)
            return Response(status_code=400, content="malformed body")
        if not well_formed(bolt_req):
            return Response(status_code=400, content="malformed body")
        resp = await run_in_threadpool(bolt_app.dispatch, bolt_req)
        return to_response(resp)

    def _db_ok() -> bool:
        try:
            with deps.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            log.exception("health check: store unavailable")
            return False

    async def healthz(_request: Request) -> Response:
        ok = await run_in_threadpool(_db_ok)
        return JSONResponse({"ok": ok, "store": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)

    routes: list[BaseRoute] = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        *extra_routes,
        *mounted_routes(deps),
    ]
    return Starlette(routes=routes, lifespan=_lifespans(routes))


def _lifespans(routes: Sequence[BaseRoute]) -> Any:
    """What mounted routes need running while the server is up (a route's `lifespan()`, e.g. the MCP endpoint's
    session manager), entered at start-up and left at shutdown."""
    import contextlib

    starts = [getattr(r, "lifespan") for r in routes if callable(getattr(r, "lifespan", None))]  # noqa: B009

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for start in starts:
                await stack.enter_async_context(start())
            yield

    return lifespan
