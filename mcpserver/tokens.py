"""Bearer tokens for the MCP server over HTTP: `warmintro mcp-token EMAIL [--ttl 30d]`.

A token is a signed, expiring link token (warmintro/weblinks.py: HMAC-SHA256 with WARMINTRO_LINK_SECRET) of
kind "mcp" naming one email. It carries no role: each request resolves the email again, so a person removed
from team.csv or from the customer contacts loses access at once, and a role change applies at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.identity import Identity, resolve_identity
from mcpserver.catalog import tool_names_for
from warmintro import weblinks
from warmintro.errors import ConfigError, WarmintroError
from warmintro.settings import Settings
from warmintro.store.db import Store

log = logging.getLogger(__name__)

KIND = "mcp"
DEFAULT_TTL = timedelta(days=30)


class UnknownCaller(WarmintroError):
    """The email is neither a team member nor a customer contact, or its role has no MCP tools."""

    exit_code = 4


@dataclass(frozen=True)
class McpToken:
    token: str
    email: str
    role: str
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        from warmintro.engines.timeutil import iso

        return {"token": self.token, "email": self.email, "role": self.role, "expires_at": iso(self.expires_at)}


def caller(store: Store, email: str) -> Identity:
    """The person `email` is, as the Slack app sees them; UnknownCaller when they may not use the server."""
    with store.session() as s:
        who = resolve_identity(s, email=email)
    if who.role == "unknown":
        raise UnknownCaller(f"{email.strip()} is neither a team member nor a customer contact in the store")
    if not tool_names_for(who):
        raise UnknownCaller(f"{who.email} ({who.role}) has no tools on the MCP server")
    return who


def mint(store: Store, settings: Settings, email: str, now: datetime, ttl: timedelta = DEFAULT_TTL) -> McpToken:
    if not weblinks.links_configured(settings):
        raise ConfigError("WARMINTRO_LINK_SECRET is not set: MCP tokens cannot be signed. Set it to a long random "
                          "string, the same on every server process.")
    who = caller(store, email)
    assert who.email is not None
    expires = (now + ttl).astimezone(UTC).replace(microsecond=0)
    return McpToken(weblinks.sign(settings, {"k": KIND, "e": who.email}, expires), who.email, who.role, expires)


class TokenVerifier:
    """The `mcp` SDK's TokenVerifier: a good, unexpired token of a person who may still use the server becomes
    an AccessToken whose claims carry who they are; anything else is None (the SDK answers 401)."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    def identity(self, token: str) -> Identity | None:
        try:
            payload = weblinks.verify(self.settings, token, self.clock(), KIND)
            return caller(self.store, str(payload.get("e") or ""))
        except weblinks.BadLink as exc:
            log.info("mcp token refused", extra={"fields": {"reason": exc.reason}})
        except UnknownCaller as exc:
            log.info("mcp token refused", extra={"fields": {"reason": str(exc)}})
        except ConfigError as exc:  # no secret on this server: nothing can be checked, so nothing is let in
            log.warning("mcp token refused", extra={"fields": {"reason": str(exc)}})
        return None

    async def verify_token(self, token: str) -> Any:
        import anyio.to_thread
        from mcp.server.auth.provider import AccessToken

        who = await anyio.to_thread.run_sync(self.identity, token)
        if who is None or who.email is None:
            return None
        # The SDK's own expiry check runs on the wall clock; ours (above) already ran on the server's clock.
        return AccessToken(token=token, client_id=who.email, subject=who.email, scopes=[],
                           claims={"identity": identity_claims(who)})


def identity_claims(who: Identity) -> dict[str, Any]:
    return {"role": who.role, "email": who.email, "name": who.name, "account_id": who.account_id}


def identity_from_claims(claims: dict[str, Any] | None) -> Identity | None:
    data = (claims or {}).get("identity")
    if not isinstance(data, dict) or not data.get("email"):
        return None
    return Identity(data["role"], None, data["email"], data.get("name"), data.get("account_id"))
