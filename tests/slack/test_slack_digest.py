"""The daily digest: each CSM gets their queue once a day, even with several processes on one database."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from slackapp.app import build_bolt_app
from slackapp.digest import digest_key, send_daily_digests
from warmintro.claims import claim
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import NOW, FakeAgent, make_deps, reset

pytestmark = pytest.mark.store


def test_digest_is_sent_once_with_two_processes(slack_db, workspace_store: Store, mock_slack: MockSlackAPI,
                                                tmp_path: Path):
    url, _ = slack_db
    second_store = Store.open(url)  # the second "process": its own engine and pool on the same database
    try:
        apps = []
        for store in (workspace_store, second_store):
            deps = make_deps(store, mock_slack, tmp_path, FakeAgent())
            build_bolt_app(deps)  # an app instance per process, as bot.py builds it (fills deps.client)
            apps.append(deps)
        barrier = threading.Barrier(2)
        results = []

        def run(deps):
            barrier.wait()
            results.append(send_daily_digests(deps, NOW))

        threads = [threading.Thread(target=run, args=(d,)) for d in apps]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        posts = mock_slack.calls_to("chat.postMessage")
        assert sorted(c.body["channel"] for c in posts) == ["D0DANA", "D0OMAR"]
        sent = sorted(e for r in results for e in r.sent)
        assert sent == ["dana@vendor.example", "omar@vendor.example"]
        dana = next(c for c in posts if c.body["channel"] == "D0DANA")
        assert "Priya Natarajan" in dana.body["text"] and "Mei" not in dana.body["text"]
        assert "home_send_ask" in str(dana.json_field("blocks"))

        # later runs the same day, from either process: nothing more
        for deps in apps:
            again = send_daily_digests(deps, NOW.replace(hour=15))
            assert again.sent == [] and sorted(again.skipped) == ["dana@vendor.example", "omar@vendor.example"]
        assert len(mock_slack.calls_to("chat.postMessage")) == 2
        # the next day: again
        assert sorted(send_daily_digests(apps[1], NOW.replace(day=26)).sent) == [
            "dana@vendor.example", "omar@vendor.example"]
    finally:
        second_store.close()


def test_a_failed_dm_gives_the_claim_back(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path):
    deps = make_deps(workspace_store, mock_slack, tmp_path)
    build_bolt_app(deps)
    mock_slack.fail_next("conversations.open", 200, body={"ok": False, "error": "user_disabled"})
    first = send_daily_digests(deps, NOW)
    assert len(first.failed) == 1 and len(first.sent) == 1
    second = send_daily_digests(deps, NOW)
    assert second.sent == first.failed


def test_claims_are_exclusive(workspace_store: Store):
    key = digest_key("Dana@vendor.example", NOW)
    assert key == "digest:dana@vendor.example:2026-11-25"
    assert claim(workspace_store, key, NOW) is True
    assert claim(workspace_store, key, NOW) is False
    with workspace_store.session() as s:
        assert s.get(m.SlackEvent, key) is not None
    reset(workspace_store)
