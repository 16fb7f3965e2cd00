"""Slack distribution: two workspaces install the app through the OAuth flow against a local mock of Slack's
oauth.v2.access and auth.test, and each gets its own bot token back from the product's database."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from starlette.testclient import TestClient

from slackapp import oauth
from slackapp.app import build_bolt_app
from slackapp.deps import Deps, UnavailableAgent
from warmintro.settings import Settings
from web import slack_oauth
from web.server import create_web_app

pytestmark = pytest.mark.store

WORKSPACES = {  # code -> (team id, team name, bot token)
    "code-sales": ("T0SALES", "Acme Sales", "xoxb-sales-token"),
    "code-cs": ("T0CS", "Acme Customer Success", "xoxb-cs-token"),
}


class FakeSlack(BaseHTTPRequestHandler):
    calls: list[tuple[str, dict[str, list[str]]]] = []

    def log_message(self, *_args: object) -> None:
        return

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("content-length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        FakeSlack.calls.append((self.path, form))
        if self.path.endswith("/oauth.v2.access"):
            code = (form.get("code") or [""])[0]
            if code not in WORKSPACES:
                body = {"ok": False, "error": "invalid_code"}
            else:
                team, name, token = WORKSPACES[code]
                body = {"ok": True, "app_id": "A0WARM", "authed_user": {"id": "U0ADMIN"}, "scope": "chat:write,commands",
                        "token_type": "bot", "access_token": token, "bot_user_id": f"UB{team}",
                        "team": {"id": team, "name": name}, "enterprise": None, "is_enterprise_install": False}
        elif self.path.endswith("/auth.test"):
            auth = self.headers.get("authorization", "").removeprefix("Bearer ")
            team = next((t for t, _n, tok in WORKSPACES.values() if tok == auth), None)
            body = ({"ok": True, "url": "https://acme.slack.com/", "team": team, "user": "warmintro", "team_id": team,
                     "user_id": f"UB{team}", "bot_id": f"B{team}"} if team else {"ok": False, "error": "invalid_auth"})
        else:
            body = {"ok": False, "error": "unknown_method"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fake_slack() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSlack)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeSlack.calls = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()
        server.server_close()


def _state(page: str) -> str:
    match = re.search(r"state=([A-Za-z0-9_\-.%]+)", page)
    assert match, page[:500]
    return match.group(1)


def test_two_workspaces_install_and_each_gets_its_own_token(store, tmp_path: Path, fake_slack, monkeypatch):
    monkeypatch.setenv("WARMINTRO_SLACK_CLIENT_ID", "111.222")
    monkeypatch.setenv("WARMINTRO_SLACK_CLIENT_SECRET", "client-secret")
    settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_BOT_TOKEN="xoxb-single", SLACK_SIGNING_SECRET="s",
                        SLACK_API_URL=fake_slack, WARMINTRO_PUBLIC_URL="https://warmintro.example")
    deps = Deps(settings=settings, store=store, agent=UnavailableAgent())
    with TestClient(create_web_app(build_bolt_app(deps), deps), base_url="https://testserver") as client:
        for code, (team, _name, token) in WORKSPACES.items():
            page = client.get("/slack/install")
            assert page.status_code == 200
            assert "https://slack.com/oauth/v2/authorize" in page.text
            assert "client_id=111.222" in page.text and "chat%3Awrite" in page.text.replace(":", "%3A")
            state = _state(page.text)
            done = client.get(f"/slack/oauth_redirect?code={code}&state={state}")
            assert done.status_code == 200, done.text
            assert oauth.bot_token(deps, team) == token
        # A replayed (already used) state is refused and installs nothing.
        again = client.get(f"/slack/oauth_redirect?code=code-sales&state={state}")
        assert again.status_code >= 400
        # A forged state, without the state cookie, is refused before Slack is ever called.
        calls = len(FakeSlack.calls)
        client.cookies.clear()
        forged = client.get("/slack/oauth_redirect?code=code-cs&state=forged")
        assert forged.status_code >= 400
        assert len(FakeSlack.calls) == calls
    assert oauth.bot_token(deps, "T0SALES") == "xoxb-sales-token"
    assert oauth.bot_token(deps, "T0CS") == "xoxb-cs-token"
    assert oauth.bot_token(deps, "T0OTHER") is None
    exchanged = [form["code"][0] for path, form in FakeSlack.calls if path.endswith("oauth.v2.access")]
    assert exchanged == ["code-sales", "code-cs"]
    # bolt's authorize (App(authorize=...)) finds each workspace's own token in the database.
    from slack_bolt.context import BoltContext
    from slack_sdk import WebClient

    authorize = oauth.authorize(deps)
    for team, token in (("T0SALES", "xoxb-sales-token"), ("T0CS", "xoxb-cs-token")):
        context = BoltContext({"client": WebClient(base_url=fake_slack)})
        result = authorize(context=context, enterprise_id=None, team_id=team, user_id=None)
        assert result is not None and result.bot_token == token


def test_oauth_is_off_without_client_credentials(store, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("WARMINTRO_SLACK_CLIENT_ID", raising=False)
    monkeypatch.delenv("WARMINTRO_SLACK_CLIENT_SECRET", raising=False)
    settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_BOT_TOKEN="xoxb-single", SLACK_SIGNING_SECRET="s",
                        SLACK_API_URL="http://127.0.0.1:9/")
    deps = Deps(settings=settings, store=store, agent=UnavailableAgent())
    assert slack_oauth.routes(deps) == []
    with TestClient(create_web_app(build_bolt_app(deps), deps)) as client:
        assert client.get("/slack/install").status_code == 404  # single-token mode stays the default
