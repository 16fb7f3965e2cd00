"""Referral pipeline messages: the owner's handoff (the opener names the referrer), the 20 h reminder, the 24 h
escalation to the champion's CSM, and closing the loop with the champion; each sent once, even with two
"processes" (two stores on one database) running the scheduler at the same moment."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from slackapp.app import build_bolt_app
from slackapp.notices import outreach_opener, send_due_notices, send_handoff
from warmintro.engines.ledger import create_referral, update_referral
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import NOW, FakeAgent, make_deps

pytestmark = pytest.mark.store
H = timedelta(hours=1)


def _client(deps) -> WebClient:
    build_bolt_app(deps)  # as bot.py does: fills deps.client, pointed at the mock Web API
    assert deps.client is not None
    return deps.client


def _referral(store: Store, hours_ago: float) -> str:
    view = create_referral(store, referrer_email="priya@northwind.example", referee_email="jo@acme-freight.example",
                           at=NOW - hours_ago * H, referee_name="Jo Park", referee_company="Acme Freight")
    assert view.owner_email == "alex@vendor.example"  # the only AE
    return view.referral_id


def _dms(mock: MockSlackAPI) -> list[tuple[str, str]]:
    return [(c.body["channel"], c.body["text"]) for c in mock.calls_to("chat.postMessage")]


def test_outreach_opener_names_the_referrer():
    line = outreach_opener("Jo Park", "Priya Natarajan", "Northwind Logistics")
    assert line.startswith("Hi Jo,") and "Priya Natarajan at Northwind Logistics suggested" in line


def test_handoff_goes_to_the_owner_once(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path):
    deps = make_deps(workspace_store, mock_slack, tmp_path, FakeAgent())
    client = _client(deps)
    rid = _referral(workspace_store, 0)
    assert send_handoff(deps, client, rid) is True
    assert send_handoff(deps, client, rid) is False
    [(channel, text)] = _dms(mock_slack)
    assert channel == "D0ALEX" and "Jo Park" in text and "Priya Natarajan at Northwind Logistics suggested" in text


def test_reminder_at_20_hours_then_escalation_at_24_then_nothing_twice(workspace_store: Store,
                                                                      mock_slack: MockSlackAPI, tmp_path: Path):
    deps = make_deps(workspace_store, mock_slack, tmp_path, FakeAgent())
    client = _client(deps)
    _referral(workspace_store, 21)
    first = send_due_notices(deps, NOW, client)
    assert [k.split(":", 1)[1] for k in first.sent] == ["reminder"]
    assert _dms(mock_slack)[0][0] == "D0ALEX" and "Reminder" in _dms(mock_slack)[0][1]
    assert send_due_notices(deps, NOW, client).sent == []  # once
    later = send_due_notices(deps, NOW + 3 * H, client)
    assert [k.split(":", 1)[1] for k in later.sent] == ["escalation"]
    assert _dms(mock_slack)[1][0] == "D0DANA" and "no first touch within 24 h" in _dms(mock_slack)[1][1]


def test_a_first_touch_stops_the_reminder(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path):
    deps = make_deps(workspace_store, mock_slack, tmp_path, FakeAgent())
    client = _client(deps)
    rid = _referral(workspace_store, 21)
    update_referral(workspace_store, rid, status="intro_sent", at=NOW - 10 * H, actor="alex@vendor.example")
    assert send_due_notices(deps, NOW, client).sent == []


def test_the_champion_hears_the_outcome(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path):
    deps = make_deps(workspace_store, mock_slack, tmp_path, FakeAgent())
    client = _client(deps)
    rid = _referral(workspace_store, 72)
    update_referral(workspace_store, rid, status="intro_sent", at=NOW - 60 * H)
    update_referral(workspace_store, rid, status="meeting", at=NOW - 2 * H)
    result = send_due_notices(deps, NOW, client)
    assert [k.split(":", 1)[1] for k in result.sent] == ["loop:meeting"], (result, _dms(mock_slack))
    [(channel, text)] = _dms(mock_slack)
    assert channel == "D0PRIYA" and "Thank you again, Priya" in text and "Jo Park" in text and "first meeting" in text


def test_two_processes_send_each_notice_once(slack_db, workspace_store: Store, mock_slack: MockSlackAPI,
                                             tmp_path: Path):
    url, _ = slack_db
    second = Store.open(url)
    try:
        _referral(workspace_store, 25)  # reminder and escalation both due
        runs = [make_deps(st, mock_slack, tmp_path, FakeAgent()) for st in (workspace_store, second)]
        clients = [_client(d) for d in runs]
        barrier = threading.Barrier(2)
        results = []

        def run(i: int) -> None:
            barrier.wait()
            results.append(send_due_notices(runs[i], NOW, clients[i]))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(k for r in results for k in r.sent) == sorted(
            {k for r in results for k in r.sent}) and len([k for r in results for k in r.sent]) == 2
        assert len(mock_slack.calls_to("chat.postMessage")) == 2
    finally:
        second.close()
