"""`warmintro mcp` (the MCP server, stdio or HTTP) and `warmintro mcp-token` (bearer tokens for HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from warmintro.commands.common import emit_json, err, out, parse_when, use_context
from warmintro.errors import WarmintroError


def register(app: typer.Typer) -> None:
    @app.command()
    def mcp(
        ctx: typer.Context,
        as_email: Annotated[str | None, typer.Option(
            "--as", help="Serve over stdio as this team member or champion (email).")] = None,
        http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP at /mcp (bearer tokens).")] = False,
        host: Annotated[str, typer.Option("--host", help="HTTP bind address.")] = "127.0.0.1",
        port: Annotated[int | None, typer.Option("--port", help="HTTP port (default $PORT or 3000).")] = None,
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="Answer as of this ISO date or datetime (default: now; for demos and tests).")] = None,
    ) -> None:
        """The Model Context Protocol server: the agent's read-only tools for Claude, ChatGPT or an IDE."""
        if (as_email is None) == (not http):
            raise WarmintroError("give either --as EMAIL (stdio) or --http (bearer tokens from `warmintro mcp-token`)")
        c = use_context(ctx)
        fixed = parse_when(as_of) if as_of else None
        clock = (lambda: fixed) if fixed is not None else (lambda: datetime.now(UTC))
        if as_email is not None:
            from mcpserver.server import serve_stdio
            from mcpserver.tokens import caller

            serve_stdio(c.settings, c.store, caller(c.store, as_email), clock)  # type: ignore[arg-type]
            return
        import uvicorn

        from mcpserver.http import PATH, standalone_app

        bind_port = port or c.settings.port
        err.print(f"MCP server at http://{host}:{bind_port}{PATH} (Authorization: Bearer <warmintro mcp-token EMAIL>)")
        uvicorn.run(standalone_app(c.settings, c.store, clock), host=host, port=bind_port,  # type: ignore[arg-type]
                    log_level="warning")

    @app.command("mcp-token")
    def mcp_token(
        ctx: typer.Context,
        email: Annotated[str, typer.Argument(help="The team member or champion the token acts as.")],
        ttl: Annotated[str, typer.Option("--ttl", help="How long it works: 30d, 12h, 2w (at most 730 days).")] = "30d",
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """A signed, expiring bearer token for the MCP server over HTTP (WARMINTRO_LINK_SECRET signs it)."""
        from mcpserver.tokens import mint
        from warmintro.weblinks import parse_ttl

        c = use_context(ctx)
        token = mint(c.store, c.settings, email, datetime.now(UTC), parse_ttl(ttl))
        if as_json:
            emit_json(token.to_json())
            return
        out.print(token.token, markup=False)
        err.print(f"{token.email} ({token.role}), works until {token.to_json()['expires_at']}")
