"""The MCP server over streamable HTTP, through the `mcp` SDK's own client against a real uvicorn server:
each role's tools and nothing more, each tool's answer is the CLI's JSON, refusals, and the bearer tokens
(missing, forged, expired, revoked, of another kind -> 401)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp_workspace import (
    AE,
    CHAMPION,
    CSM,
    EXPECTED_TOOLS,
    NOW,
    OTHER_CHAMPION,
    REFUSED,
    add_team,
    mcp_settings,
)
from sqlalchemy import delete

from evals.faults.slack_faults import serve
from mcpserver.http import standalone_app
from mcpserver.tokens import UnknownCaller, mint
from warmintro import weblinks
from warmintro.commands.common import json_text
from warmintro.importer.run import import_folder
from warmintro.settings import Settings
from warmintro.store import models as m
from warmintro.store.db import Store

pytestmark = pytest.mark.store


@pytest.fixture
def workspace(store: Store, northwind: Path, tmp_path: Path) -> tuple[Store, Settings]:
    add_team(northwind)
    import_folder(store, northwind)
    return store, mcp_settings(tmp_path / "home")


@pytest.fixture
def mcp_url(workspace: Any) -> Iterator[str]:
    store, settings = workspace
    server, thread, port = serve(standalone_app(settings, store, lambda: NOW), lifespan="on")
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        thread.join(10)


def token_for(workspace: Any, email: str, *, at: Any = NOW, ttl: timedelta = timedelta(days=30)) -> str:
    store, settings = workspace
    return mint(store, settings, email, at, ttl).token


def with_client(url: str, token: str, work: Any) -> Any:
    """Run `work(client)` in a session of the SDK's client that sends `token`."""
    async def main() -> Any:
        async with (httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
                    Client(streamable_http_client(url, http_client=http)) as client):
            return await work(client)

    return anyio.run(main)


def cli_json(data: Any) -> Any:
    return json.loads(json_text(data))


def test_each_role_lists_its_own_tools_and_nothing_more(workspace, mcp_url):
    async def names(client: Client) -> set[str]:
        listed = await client.list_tools()
        for tool in listed.tools:
            assert tool.annotations is not None and tool.annotations.read_only_hint is True
        return {t.name for t in listed.tools}

    for email, expected in EXPECTED_TOOLS.items():
        assert with_client(mcp_url, token_for(workspace, email), names) == expected, email
    for email in REFUSED:  # no token can even be minted for them
        with pytest.raises(UnknownCaller):
            token_for(workspace, email)


def test_a_csm_gets_the_cli_json_from_every_tool(workspace, mcp_url):
    from warmintro.engines.eligibility import explain_contact
    from warmintro.engines.personas import account_personas
    from warmintro.engines.scan import scan
    from warmintro.engines.targets import find_targets
    from warmintro.engines.whoknows import who_knows
    from warmintro.voice.service import draft_for

    store, settings = workspace

    async def calls(client: Client) -> dict[str, Any]:
        out = {}
        for name, args in (("asks_due", {}), ("explain", {"contact_email": CHAMPION}),
                           ("explain", {"contact_email": OTHER_CHAMPION}),
                           ("personas", {"account": "Northwind Logistics"}),
                           ("targets", {"champion_email": CHAMPION, "limit": 3}),
                           ("who_knows", {"company": "harbor.example"}),
                           ("draft", {"champion_email": CHAMPION, "target_email": "jordan.lee@harbor.example"})):
            result = await client.call_tool(name, args)
            assert not result.is_error, (name, result.content)
            assert json.loads(result.content[0].text) == result.structured_content  # text and structure agree
            out[f"{name}:{args.get('contact_email', '')}"] = result.structured_content
        return out

    got = with_client(mcp_url, token_for(workspace, CSM), calls)
    with store.session() as s:
        due = [a.to_json() for a in scan(s, NOW).asks if a.csm_email == CSM]
        assert got["asks_due:"]["asks"] == cli_json(due) and due
        assert got["personas:"] == cli_json({"account_id": "ACC-1",
                                              "contacts": [p.to_json() for p in account_personas(s, "ACC-1", NOW)]})
        assert got["targets:"] == cli_json(find_targets(s, CHAMPION, limit=3, as_of=NOW).to_json())
        assert got["who_knows:"] == cli_json(who_knows(s, "harbor.example", limit=10, as_of=NOW).to_json())
    expected_draft = draft_for(store, settings, CHAMPION, "jordan.lee@harbor.example", now=NOW).to_json()
    assert got["draft:"]["ask"] == cli_json(expected_draft)["ask"] and got["draft:"]["note"]["body"]
    priya, tom = got[f"explain:{CHAMPION}"], got[f"explain:{OTHER_CHAMPION}"]
    with store.session() as s:  # the same JSON as `warmintro explain --json`
        assert priya == cli_json(explain_contact(s, CHAMPION, NOW))
    assert priya["status"] == "ask" and priya["trigger"]["signal_id"] == "S-1"
    # Tom declined an ask: the cool-down is one of the reasons, and the date it lifts is given
    assert tom["status"] == "skipped" and "decline_cooldown" in [tom["reason"], *tom["also"]]
    assert tom["next_eligible_at"] > "2026-11-25"


def test_refusals_look_like_unknown_tools_and_a_champion_sees_only_their_own(workspace, mcp_url, caplog):
    caplog.set_level(logging.INFO, logger="mcpserver.calls")

    async def champion(client: Client) -> list[Any]:
        return [await client.call_tool("who_knows", {"company": "harbor.example"}),
                await client.call_tool("asks_due", {}),
                await client.call_tool("targets", {"champion_email": OTHER_CHAMPION}),
                await client.call_tool("targets", {"champion_email": CHAMPION})]

    network, queue, other, own = with_client(mcp_url, token_for(workspace, CHAMPION), champion)
    for refused, name in ((network, "who_knows"), (queue, "asks_due")):
        assert refused.is_error and refused.content[0].text == f"Unknown tool: {name}"
    assert other.is_error and "own" in other.content[0].text and "targets" not in json.loads(other.content[0].text)
    assert not own.is_error and own.structured_content["champion"] == CHAMPION
    assert "excluded" not in own.structured_content  # who else is a customer is not theirs to see

    async def rep(client: Client) -> list[Any]:
        return [await client.call_tool("draft", {"champion_email": CHAMPION, "target_email": "x@y.example"}),
                await client.call_tool("asks_due", {}), await client.call_tool("send_ask", {"champion_email": CHAMPION})]

    for refused in with_client(mcp_url, token_for(workspace, AE), rep):
        assert refused.is_error and refused.content[0].text.startswith("Unknown tool: ")
    logged = [r.fields for r in caplog.records if r.name == "mcpserver.calls"]  # type: ignore[attr-defined]
    assert [(f["caller"], f["role"], f["tool"], f["outcome"]) for f in logged] == [
        (CHAMPION, "champion", "who_knows", "refused"), (CHAMPION, "champion", "asks_due", "refused"),
        (CHAMPION, "champion", "targets", "error"), (CHAMPION, "champion", "targets", "ok"),
        (AE, "ae", "draft", "refused"), (AE, "ae", "asks_due", "refused"), (AE, "ae", "send_ask", "refused")]
    assert logged[2]["args"] == {"champion_email": OTHER_CHAMPION}


def test_missing_forged_expired_revoked_and_foreign_tokens_get_401(workspace, mcp_url):
    store, settings = workspace
    good = token_for(workspace, AE)
    payload, mac = good.split(".")
    forged_payload = weblinks._b64(json.dumps({"e": CSM, "k": "mcp", "x": 4102444800}).encode())
    expired = token_for(workspace, AE, at=NOW - timedelta(days=31))
    approval_kind = weblinks.sign(settings, {"k": "approve", "e": AE, "a": 1}, NOW + timedelta(days=1))
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

    def status(token: str | None) -> int:
        h = dict(headers, **({"Authorization": f"Bearer {token}"} if token is not None else {}))
        return httpx.post(mcp_url, json=initialize, headers=h, timeout=30).status_code

    assert status(good) == 200  # the control: the same request with a good token is served
    for bad in (None, "not-a-token", f"{payload}.{mac[:-2]}AA", f"{forged_payload}.{mac}", expired,
                approval_kind, good + "x"):
        assert status(bad) == 401, bad
    with store.session() as s:  # Alex leaves the team: his token stops working at once
        s.execute(delete(m.TeamMember).where(m.TeamMember.email == AE))
    assert status(good) == 401

    async def list_tools(client: Client) -> Any:
        return await client.list_tools()

    with pytest.raises(ExceptionGroup) as refused:  # the SDK's own client cannot get in either
        with_client(mcp_url, expired, list_tools)
    assert refused.group_contains(MCPError, match="error response", depth=2)
