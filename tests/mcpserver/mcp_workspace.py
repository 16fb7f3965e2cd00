"""What the MCP server's tests share: the northwind workspace with one team member of every role, a link secret
to sign bearer tokens, and what each role must see. (Not a conftest: tests/slack's test modules import their
own conftest by that name.)"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from warmintro.settings import Settings

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LINK_SECRET = "mcp-test-link-secret-0123456789abcdef"
CSM, AE, CHAMPION = "dana@vendor.example", "alex@vendor.example", "priya.natarajan@northwind.example"
OTHER_CHAMPION = "tom.reyes@bluebird.example"
EXTRA_TEAM = (("ada@vendor.example", "Ada Moreau", "admin"), ("ray@vendor.example", "Ray Ito", "revops"),
              ("sid@vendor.example", "Sid Rao", "sdr"), ("eve@vendor.example", "Eve Stone", "employee"))
ALL = {"asks_due", "explain", "personas", "targets", "who_knows", "draft"}
# What each role gets: the agent's tools for it, less the writes (tools/__init__.py), by the contract's names.
EXPECTED_TOOLS = {
    CSM: ALL,
    "ada@vendor.example": ALL,
    "ray@vendor.example": ALL - {"draft"},
    AE: {"explain", "personas", "targets", "who_knows"},
    "sid@vendor.example": {"explain", "targets", "who_knows"},
    "eve@vendor.example": {"who_knows"},
    CHAMPION: {"targets"},
}
REFUSED = ("investor@fund.example", "nobody@elsewhere.example")  # a role with no tools; not in the store


def add_team(folder: Path) -> None:
    with (folder / "team.csv").open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        for email, name, role in EXTRA_TEAM:
            writer.writerow([email, name, role, ""])


def mcp_settings(home: Path) -> Settings:
    return Settings(WARMINTRO_HOME=home, WARMINTRO_LINK_SECRET=LINK_SECRET)
