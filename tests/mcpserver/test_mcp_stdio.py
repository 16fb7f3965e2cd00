"""`warmintro mcp --as EMAIL` over stdio, driven by the `mcp` SDK's own client (it starts the command as a
subprocess): a CSM's and a champion's tools, calls, refusals; an unknown person gets one line and exit 4."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp_workspace import CHAMPION, CSM, EXPECTED_TOOLS, OTHER_CHAMPION, add_team

from warmintro.importer.run import import_folder
from warmintro.store.db import Store

AS_OF = "2026-11-25T09:00:00Z"


@pytest.fixture
def home(northwind: Path, tmp_path: Path) -> dict[str, str]:
    """An embedded store with the workspace, and the environment a client would start the server with."""
    home = tmp_path / "home"
    add_team(northwind)
    store = Store.open(f"sqlite:///{home / 'warmintro.sqlite3'}")
    try:
        import_folder(store, northwind)
    finally:
        store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARMINTRO_", "OPENAI_"))}
    return {**env, "WARMINTRO_HOME": str(home), "WARMINTRO_DATABASE_URL": f"sqlite:///{home / 'warmintro.sqlite3'}"}


def server_params(env: dict[str, str], email: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, env=env,
                                 args=["-m", "warmintro", "mcp", "--as", email, "--as-of", AS_OF])


def test_a_csm_and_a_champion_over_stdio(home):
    async def csm() -> dict[str, Any]:
        async with Client(server_params(home, CSM)) as client:
            listed = await client.list_tools()
            paths = await client.call_tool("who_knows", {"company": "Harbor Freight Lines", "limit": 3})
            names = await client.call_tool("targets", {"champion_email": CHAMPION})
            bad = await client.call_tool("targets", {"champion_email": CHAMPION, "limit": 0})
            return {"tools": {t.name for t in listed.tools}, "paths": paths, "names": names, "bad": bad}

    async def champion() -> dict[str, Any]:
        async with Client(server_params(home, CHAMPION)) as client:
            listed = await client.list_tools()
            return {"tools": {t.name for t in listed.tools},
                    "network": await client.call_tool("who_knows", {"company": "harbor.example"}),
                    "other": await client.call_tool("targets", {"champion_email": OTHER_CHAMPION}),
                    "own": await client.call_tool("targets", {"champion_email": CHAMPION})}

    results: dict[str, Any] = {}

    async def both() -> None:  # two servers at once: each is a process of its own
        async def run(name: str, fn: Any) -> None:
            results[name] = await fn()

        async with anyio.create_task_group() as tg:
            tg.start_soon(run, "csm", csm)
            tg.start_soon(run, "champion", champion)

    anyio.run(both)
    dana, priya = results["csm"], results["champion"]
    assert dana["tools"] == EXPECTED_TOOLS[CSM] and priya["tools"] == EXPECTED_TOOLS[CHAMPION]
    paths = json.loads(dana["paths"].content[0].text)
    assert not dana["paths"].is_error and paths["paths"][0]["target_email"] == "jordan.lee@harbor.example"
    assert dana["names"].structured_content["champion"] == CHAMPION and "excluded" in dana["names"].structured_content
    assert dana["bad"].is_error  # limit 0 is refused by the tool's schema, not passed on
    assert priya["network"].is_error and priya["network"].content[0].text == "Unknown tool: who_knows"
    assert priya["other"].is_error and json.loads(priya["other"].content[0].text)["error"] == "denied"
    assert not priya["own"].is_error and "excluded" not in priya["own"].structured_content


def test_an_unknown_person_gets_one_clear_line_and_a_non_zero_exit(home, monkeypatch, capsys):
    done = subprocess.run([sys.executable, "-m", "warmintro", "mcp", "--as", "nobody@elsewhere.example"], env=home,
                          input="", capture_output=True, text=True, timeout=120)
    assert done.returncode == 4 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line == "error: nobody@elsewhere.example is neither a team member nor a customer contact in the store"
    # a team member whose role has no tools (an investor) is refused the same way (in process: same entry point)
    from warmintro.cli import main

    for key in ("WARMINTRO_HOME", "WARMINTRO_DATABASE_URL"):
        monkeypatch.setenv(key, home[key])
    assert main(["mcp", "--as", "investor@fund.example"]) == 4
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == "error: investor@fund.example (investor) has no tools on the MCP server"
