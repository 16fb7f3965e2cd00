"""The Web API client retries every transient server error: 502 and 504 as well as 500 and 503 (slack_sdk's
own handler retries only those two), and a connection reset before any reply; each message is posted once."""

from __future__ import annotations

from pathlib import Path

import pytest

from slackapp.app import build_slack_client
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import make_settings


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_gateway_errors_are_retried(mock_slack: MockSlackAPI, tmp_path: Path, status: int):
    client = build_slack_client(make_settings(mock_slack, tmp_path))
    mock_slack.fail_next("chat.postMessage", status)
    resp = client.chat_postMessage(channel="C1", text="hello")
    assert resp["ok"] is True
    assert len(mock_slack.calls_to("chat.postMessage")) == 2  # the failed one, then one that was posted


def test_a_connection_reset_is_retried_once_and_posts_once(tmp_path: Path):
    from evals.faults.slack_faults import start_mock

    mock = start_mock()  # the mock Web API, plus TCP resets before any reply
    try:
        client = build_slack_client(make_settings(mock, tmp_path))
        mock.reset_next("chat.postMessage")
        assert client.chat_postMessage(channel="C1", text="hello")["ok"] is True
        assert len(mock.calls_to("reset:chat.postMessage")) == 1
        assert len(mock.calls_to("chat.postMessage")) == 1
    finally:
        mock.stop()
