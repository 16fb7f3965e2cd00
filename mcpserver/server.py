"""The MCP server on the official `mcp` SDK (MCPServer): the catalog's tools, scoped to the caller.

Who calls is fixed for a stdio server (`warmintro mcp --as EMAIL`) and is the bearer token's owner over HTTP
(mcpserver/http.py). A middleware lists only the caller's tools and refuses any other name exactly as an
unknown tool, and every call is logged with the caller (logger `mcpserver.calls`, redacted like every log);
each tool also checks again, and the agent tool under it checks the role a third time (tools/common.require).
Results are the CLI's `--json` text, with the same object as structured content.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ListToolsResult, TextContent, ToolAnnotations
from pydantic import Field

from agent.context import AgentContext, ToolDenied
from agent.identity import Identity
from mcpserver.catalog import BY_NAME, tool_names_for
from mcpserver.tokens import identity_from_claims
from warmintro.commands.common import json_text
from warmintro.errors import WarmintroError
from warmintro.settings import Settings
from warmintro.store.db import Store

CALLS = logging.getLogger("mcpserver.calls")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
INSTRUCTIONS = ("warmintro's referral intelligence, read only: who to ask for a referral today and why (not), "
                "the personas at an account, the people a champion could introduce, warm paths to a company, "
                "and a drafted ask and note. Results are the JSON of the `warmintro` CLI command of the same name.")

Email = Annotated[str, Field(description="An email address, e.g. priya@northwind.example", max_length=320)]


def caller_of(request: Any, fixed: Identity | None) -> Identity | None:
    """The stdio server's person, or the owner of the HTTP request's verified bearer token."""
    if fixed is not None:
        return fixed
    scope = getattr(request, "scope", None) or {}
    token = getattr(scope.get("user"), "access_token", None)
    return identity_from_claims(token.claims) if token is not None else None


def _result(data: dict[str, Any], *, error: bool = False) -> CallToolResult:
    text = json_text(data)
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=None if error else json.loads(text), is_error=error)


def _unknown_tool(name: object) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=f"Unknown tool: {name}")], is_error=True)


def _is_error(result: Any) -> bool:
    """A call's result as the runner hands it back: the model, or already its wire form (a dict)."""
    if isinstance(result, dict):
        return bool(result.get("isError", result.get("is_error", False)))
    return bool(getattr(result, "is_error", False))


def _scope_to_caller(fixed: Identity | None) -> Any:  # an mcp ServerMiddleware (a plain coroutine function)
    """Server middleware: the caller's tools only, in lists and in calls; one log line per call."""

    async def middleware(ctx: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        if ctx.method not in ("tools/list", "tools/call"):
            return await call_next(ctx)
        who = caller_of(ctx.request, fixed)
        allowed = set(tool_names_for(who)) if who is not None else set()
        if ctx.method == "tools/list":
            listed = await call_next(ctx)  # the runner hands back the wire form (a dict) or the model
            if isinstance(listed, ListToolsResult):
                return listed.model_copy(update={"tools": [t for t in listed.tools if t.name in allowed]})
            if isinstance(listed, dict) and isinstance(listed.get("tools"), list):
                return {**listed, "tools": [t for t in listed["tools"] if isinstance(t, dict) and t.get("name") in allowed]}
            return ListToolsResult(tools=[])  # never pass on a list that could not be filtered
        params = ctx.params if isinstance(ctx.params, dict) else {}
        name = params.get("name")
        started = time.perf_counter()
        outcome = "refused"
        try:
            if name not in allowed:
                result: Any = _unknown_tool(name)  # a hidden tool looks exactly like one that does not exist
            else:
                result = await call_next(ctx)
                outcome = "error" if _is_error(result) else "ok"
            return result
        except Exception:
            outcome = "failed"
            raise
        finally:
            arguments = params.get("arguments")
            CALLS.info("mcp call", extra={"fields": {
                "caller": who.email if who else None, "role": who.role if who else None, "tool": str(name)[:80],
                "args": arguments if isinstance(arguments, dict) else {}, "outcome": outcome,
                "ms": round((time.perf_counter() - started) * 1000, 1)}})

    return middleware


def build_server(settings: Settings, store: Store, *, fixed: Identity | None = None,
                 clock: Callable[[], datetime] | None = None) -> MCPServer:
    """The MCP server. `fixed`: the one person a stdio server runs as (None: the bearer token says, over HTTP)."""
    now = clock or (lambda: datetime.now(UTC))
    from warmintro import __version__

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    server: MCPServer = MCPServer("warmintro", version=__version__, instructions=INSTRUCTIONS,
                                  middleware=[_scope_to_caller(fixed)], log_level="WARNING")
    # MCPServer sets up root logging (basicConfig) when nothing has yet: logging is our entry points' to set up
    root.handlers[:], root.level = handlers, level

    def run(name: str, ctx: Context, arguments: dict[str, Any]) -> CallToolResult:
        who = caller_of(ctx.request_context.request, fixed)
        if who is None or name not in tool_names_for(who):
            raise ToolError(f"Unknown tool: {name}")
        agent_ctx = AgentContext(identity=who, store=store, settings=settings, clock=now)
        try:
            out = BY_NAME[name].answer(agent_ctx, **arguments)
        except ToolDenied as exc:
            return _result({"error": "denied", "reason": str(exc)}, error=True)
        except WarmintroError as exc:  # what the CLI prints as its one-line error (e.g. no such company)
            return _result({"error": type(exc).__name__, "detail": str(exc)}, error=True)
        return _result(out.data, error="error" in out.data)

    def register(fn: Callable[..., CallToolResult]) -> None:
        entry = BY_NAME[fn.__name__]
        server.add_tool(fn, name=entry.name, title=entry.title, description=entry.description,
                        annotations=READ_ONLY)

    def asks_due(ctx: Context) -> CallToolResult:
        return run("asks_due", ctx, {})

    def explain(contact_email: Email, ctx: Context) -> CallToolResult:
        return run("explain", ctx, {"contact_email": contact_email})

    def personas(account: Annotated[str, Field(description="An account id or name", max_length=200)],
                 ctx: Context) -> CallToolResult:
        return run("personas", ctx, {"account": account})

    def targets(champion_email: Email, ctx: Context,
                limit: Annotated[int, Field(ge=1, le=10, description="How many names")] = 5) -> CallToolResult:
        return run("targets", ctx, {"champion_email": champion_email, "limit": limit})

    def who_knows(company: Annotated[str, Field(description="A company name or domain", max_length=200)],
                  ctx: Context,
                  limit: Annotated[int, Field(ge=1, le=20, description="How many paths")] = 10) -> CallToolResult:
        return run("who_knows", ctx, {"company": company, "limit": limit})

    def draft(champion_email: Email, target_email: Email, ctx: Context) -> CallToolResult:
        return run("draft", ctx, {"champion_email": champion_email, "target_email": target_email})

    for fn in (asks_due, explain, personas, targets, who_knows, draft):
        register(fn)
    return server


def serve_stdio(settings: Settings, store: Store, who: Identity, clock: Callable[[], datetime] | None = None) -> None:
    """`warmintro mcp --as EMAIL`: serve that person's tools on stdin/stdout until the client closes them."""
    import anyio

    logging.getLogger(CALLS.name).setLevel(logging.INFO)  # every call is logged, whatever the level (stderr)
    anyio.run(build_server(settings, store, fixed=who, clock=clock).run_stdio_async)
