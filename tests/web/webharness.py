"""Shared by the web page tests: the Slack harness (real Starlette app on uvicorn, the small workspace on
SQLite and PostgreSQL) with link signing configured, an open ask for Priya, and a store snapshot to prove a
refused request changed nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import delete, select

from warmintro.engines.cadence import record_ask
from warmintro.flows import approval
from warmintro.program import load_program
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import DANA, NOW, Harness, start_harness, stop_harness

LINK_SECRET = "test-link-secret-0123456789"
PRIYA_EMAIL = "priya@northwind.example"
JO, LEE = "jo@acme-freight.example", "lee@roadrunner.example"


def clear_web_tables(store: Store) -> None:
    with store.session() as s:
        s.execute(delete(m.LinkClick))
        s.execute(delete(m.ReferralCode))
        s.execute(delete(m.Opportunity).where(m.Opportunity.opportunity_id.like("WEB-%")))


def web_harness(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path) -> Iterator[Harness]:
    """The body of each web test module's `web` fixture."""
    clear_web_tables(workspace_store)
    h = start_harness(workspace_store, mock_slack, tmp_path)
    h.http.close()
    h.http = httpx.Client(timeout=60)
    h.deps.settings = h.deps.settings.model_copy(update={
        "link_secret": SecretStr(LINK_SECRET), "public_url": h.base_url,
        "landing_url": h.base_url + "/healthz?utm_source=referral"})
    try:
        yield h
    finally:
        stop_harness(h)
        clear_web_tables(workspace_store)


def open_ask(h: Harness, email: str = PRIYA_EMAIL, targets: tuple[str, ...] = (JO, LEE)) -> int:
    """An ask sent to the champion (as the CSM's Send ask records it), carrying these names."""
    store = h.deps.store
    with store.session() as s:
        rules = load_program(s).rules
    ask_id = record_ask(store, rules, contact_email=email, asked_at=NOW - timedelta(hours=1), channel="email",
                        asked_by="dana@vendor.example", account_id="A", trigger_signal_id="S1",
                        persona="economic_buyer")
    with store.session() as s:
        s.add(m.AuditLog(at=NOW - timedelta(hours=1), actor="dana@vendor.example", action=approval.ASK_SENT,
                         subject=email, detail={"ask_id": ask_id, "targets": list(targets), "via": "email"}))
    return ask_id


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a page could change."""
    with store.session() as s:
        return {
            "asks": [(a.id, a.outcome) for a in s.scalars(select(m.Ask).order_by(m.Ask.id))],
            "referrals": [(r.referral_id, r.status) for r in s.scalars(select(m.Referral).order_by(m.Referral.referral_id))],
            "events": len(s.scalars(select(m.ReferralEvent)).all()),
            "audit": [(a.id, a.action) for a in s.scalars(select(m.AuditLog).order_by(m.AuditLog.id))],
            "claims": sorted(s.scalars(select(m.SlackEvent.event_id))),
            "clicks": len(s.scalars(select(m.LinkClick)).all()),
            "codes": sorted(s.scalars(select(m.ReferralCode.code))),
        }


def referrals(store: Store) -> list[m.Referral]:
    with store.session() as s:
        return list(s.scalars(select(m.Referral).order_by(m.Referral.referee_email)))


__all__ = ["DANA", "JO", "LEE", "LINK_SECRET", "NOW", "PRIYA_EMAIL", "clear_web_tables", "open_ask", "referrals",
           "snapshot", "web_harness"]
