"""The injected Web API client: 429 with Retry-After is honoured, a 500 is retried, and a rate-limited
reply still reaches the thread end to end."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from slackapp.app import build_slack_client
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import ALEX, TOKEN, Harness, make_settings, mention


def test_rate_limit_retry_after_is_honoured(mock_slack: MockSlackAPI, tmp_path: Path):
    client = build_slack_client(make_settings(mock_slack, tmp_path))
    mock_slack.fail_next("chat.postMessage", 429, retry_after=1)
    start = time.monotonic()
    resp = client.chat_postMessage(channel="C1", text="hello")
    elapsed = time.monotonic() - start
    assert resp["ok"] is True
    first, second = mock_slack.calls_to("chat.postMessage")
    assert second.at - first.at >= 1.0  # waited Retry-After before trying again
    assert elapsed >= 1.0
    assert first.headers["authorization"] == f"Bearer {TOKEN}"


def test_server_error_is_retried(mock_slack: MockSlackAPI, tmp_path: Path):
    client = build_slack_client(make_settings(mock_slack, tmp_path))
    mock_slack.fail_next("views.publish", 500)
    resp = client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    assert resp["ok"] is True
    assert len(mock_slack.calls_to("views.publish")) == 2


@pytest.mark.store
def test_rate_limited_reply_still_reaches_the_thread(slack: Harness):
    slack.mock.fail_next("chat.postMessage", 429, retry_after=1)
    slack.event(mention(ALEX))
    calls = slack.mock.wait_for("chat.postMessage", 2, timeout=15)  # the placeholder, refused then posted
    assert calls[1].body["thread_ts"] == calls[0].body["thread_ts"]
    slack.mock.wait_for("chat.update")  # the answer in its place
    slack.drain()
    assert len(slack.agent.calls) == 1
