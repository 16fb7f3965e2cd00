"""`python bot.py`: a one-line error and exit 2 without secrets; with them, it serves /slack/events."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.processes import stop_process
from warmintro.testing.slack_harness import ROOT, SECRET, TOKEN, signed_headers


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARMINTRO_", "OPENAI_"))}
    env.update({"WARMINTRO_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], cwd=ROOT, env=_env(tmp_path, **env),
                          capture_output=True, text=True, timeout=60)


def test_import_has_no_side_effects():
    import bot

    assert callable(bot.main)


def test_missing_secrets_exit_2_with_one_line(tmp_path: Path):
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "SLACK_BOT_TOKEN" in result.stderr and "SLACK_SIGNING_SECRET" in result.stderr
    socket_mode = run_bot(tmp_path, "--socket", SLACK_BOT_TOKEN=TOKEN)
    assert socket_mode.returncode == 2 and "SLACK_APP_TOKEN" in socket_mode.stderr
    assert "Traceback" not in socket_mode.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_bot(env: dict[str, str], *, timeout_s: float = 60) -> Iterator[str]:
    """`python bot.py` on a free port; yields its base URL once /healthz answers; stopped on exit."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "--host", "127.0.0.1", "--port", str(port),
                             "--no-digest"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=5) as http:
            while True:  # wait for the server to come up (start-up poll, bounded)
                try:
                    if http.get(base + "/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "bot.py did not start"
                time.sleep(0.1)
        yield base
    finally:
        stop_process(proc)


def test_bot_serves_slack_events_over_http(tmp_path: Path, mock_slack: MockSlackAPI):
    env = _env(tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=mock_slack.api_url)
    with running_bot(env) as base, httpx.Client(timeout=5) as http:
        body = json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"})
        resp = http.post(base + "/slack/events", content=body, headers=signed_headers(body))
        assert resp.status_code == 200 and resp.json() == {"challenge": "c-123"}
        forged = http.post(base + "/slack/events", content=body, headers=signed_headers(body, secret="nope"))
        assert forged.status_code == 401


def test_oauth_mode_serves_without_a_single_bot_token(tmp_path: Path, mock_slack: MockSlackAPI):
    # Each workspace brings its token through the install flow: the process must start without SLACK_BOT_TOKEN.
    env = _env(tmp_path, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=mock_slack.api_url,
               WARMINTRO_SLACK_CLIENT_ID="111.222", WARMINTRO_SLACK_CLIENT_SECRET="client-secret")
    with running_bot(env) as base, httpx.Client(timeout=5) as http:
        body = json.dumps({"token": "t", "challenge": "c-9", "type": "url_verification"})
        resp = http.post(base + "/slack/events", content=body, headers=signed_headers(body))
        assert resp.status_code == 200 and resp.json() == {"challenge": "c-9"}
        assert http.get(base + "/slack/install").status_code == 200


def test_socket_mode_dispatches_without_a_signing_secret(tmp_path: Path, mock_slack: MockSlackAPI):
    from slack_bolt import BoltRequest
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from slackapp.app import build_bolt_app
    from slackapp.deps import Deps
    from warmintro.settings import Settings
    from warmintro.store.db import Store
    from warmintro.testing.slack_harness import ALEX, FakeAgent, event_body, mention

    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite3'}")
    try:
        settings = Settings(WARMINTRO_HOME=tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN="xapp-1-A0-1-test",
                            SLACK_API_URL=mock_slack.api_url)
        agent = FakeAgent()
        app = build_bolt_app(Deps(settings=settings, store=store, agent=agent), socket_mode=True)
        SocketModeHandler(app, "xapp-1-A0-1-test")  # builds; start() would connect
        resp = app.dispatch(BoltRequest(body=json.loads(event_body(mention(ALEX))), mode="socket_mode"))
        assert resp.status == 200
        [call] = mock_slack.wait_for("chat.postEphemeral")  # ALEX is not in this empty store: refused
        assert "don't know you" in call.body["text"]
        app.listener_runner.listener_executor.shutdown(wait=True)
        assert agent.calls == []
    finally:
        store.close()
