"""Slack distribution, end to end: two workspaces install the app through the OAuth flow (against the mock's
oauth.v2.access), then a signed event and a slash command from each are authorized with that workspace's own
bot token (auth.test, then the answer's chat.postMessage, carry it in their Authorization header). A workspace
that never installed gets no answer and no error; an uninstall forgets the token; sends outside a request
pick the named workspace's token."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from slackapp import oauth
from slackapp.app import build_bolt_app
from slackapp.client import send_client
from slackapp.deps import Deps
from warmintro.errors import ConfigError
from warmintro.settings import Settings
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import Call, MockSlackAPI
from warmintro.testing.slack_harness import (
    ALEX,
    DANA,
    NOW,
    SECRET,
    TOKEN,
    FakeAgent,
    Harness,
    event_body,
    form_body,
    mention,
    serve,
    stop_harness,
)
from web.server import create_web_app

pytestmark = pytest.mark.store

WORKSPACES = {  # team id -> (OAuth code, bot token)
    "T0SALES": ("code-sales", "xoxb-sales-token"),
    "T0CS": ("code-cs", "xoxb-cs-token"),
}


@pytest.fixture
def multi(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Harness, TestClient]]:
    """The served app with the OAuth install flow configured (SLACK_BOT_TOKEN still set: it must not be used
    to answer a workspace that installed), and an https client for the install pages (the state cookie is
    Secure)."""
    monkeypatch.setenv("WARMINTRO_SLACK_CLIENT_ID", "111.222")
    monkeypatch.setenv("WARMINTRO_SLACK_CLIENT_SECRET", "client-secret")
    for team, (code, token) in WORKSPACES.items():
        mock_slack.add_workspace(code, team, token)
    settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
                        SLACK_API_URL=mock_slack.api_url, WARMINTRO_PUBLIC_URL="https://warmintro.example")
    agent = FakeAgent()
    deps = Deps(settings=settings, store=workspace_store, agent=agent, clock=lambda: NOW)
    bolt_app = build_bolt_app(deps)
    web = create_web_app(bolt_app, deps)
    server, thread, port = serve(web)
    h = Harness(mock_slack, deps, agent, f"http://127.0.0.1:{port}", httpx.Client(timeout=10), bolt_app)
    h.stop = [server, thread]
    try:
        yield h, TestClient(web, base_url="https://testserver")
    finally:
        stop_harness(h)


def install(browser: TestClient, code: str) -> None:
    page = browser.get("/slack/install")
    assert page.status_code == 200, page.text
    match = re.search(r"state=([A-Za-z0-9_\-.%]+)", page.text)
    assert match, page.text[:500]
    done = browser.get(f"/slack/oauth_redirect?code={code}&state={match.group(1)}")
    assert done.status_code == 200, done.text


def command(h: Harness, team: str, user: str, text: str) -> httpx.Response:
    return h.post(form_body({
        "token": "legacy", "team_id": team, "team_domain": team.lower(), "channel_id": "C0SALES",
        "channel_name": "sales", "user_id": user, "user_name": user.lower(), "command": "/referrals",
        "text": text, "api_app_id": "A0APP", "response_url": h.mock.response_url(team), "trigger_id": "1.2.3",
    }), content_type="application/x-www-form-urlencoded")


def bearer(token: str) -> Callable[[Call], bool]:
    return lambda call: call.headers.get("authorization") == f"Bearer {token}"


def test_each_workspace_is_answered_with_its_own_bot_token(multi: tuple[Harness, TestClient]):
    h, browser = multi
    for _team, (code, _token) in WORKSPACES.items():
        install(browser, code)
    assert [c.body["code"] for c in h.mock.calls_to("oauth.v2.access")] == ["code-sales", "code-cs"]

    for n, (team, (_code, token)) in enumerate(WORKSPACES.items()):
        ts = f"1764061200.00010{n}"
        event = mention(ALEX, ts=ts, channel=f"C{team}", team=team)
        assert h.post(event_body(event, team_id=team)).status_code == 200
        [answer] = h.mock.wait_for("chat.update", where=lambda c, ch=f"C{team}": c.body.get("channel") == ch)
        assert answer.headers["authorization"] == f"Bearer {token}"
        assert "what I found" in answer.body["text"]
        [placeholder] = h.mock.calls_to("chat.postMessage", where=lambda c, ch=f"C{team}": c.body.get("channel") == ch)
        assert placeholder.body["thread_ts"] == ts and placeholder.headers["authorization"] == f"Bearer {token}"
        assert h.mock.calls_to("auth.test", where=bearer(token))  # authorize checked that workspace's token

        # A slash command from the same workspace is authorized with its token and answered (help: in the ack).
        checks = len(h.mock.calls_to("auth.test", where=bearer(token)))
        resp = command(h, team, DANA, "help")
        assert resp.status_code == 200 and "/referrals today" in resp.text
        assert len(h.mock.calls_to("auth.test", where=bearer(token))) == checks + 1

    # Nothing was sent with the single-workspace token, and nothing of one workspace with the other's token.
    assert not [c for c in h.mock.calls if c.headers.get("authorization") == f"Bearer {TOKEN}"]
    sales, cs = (h.mock.calls_to("chat.postMessage", where=bearer(token)) for _code, token in WORKSPACES.values())
    assert [c.body["channel"] for c in sales] == ["CT0SALES"] and [c.body["channel"] for c in cs] == ["CT0CS"]
    assert len(h.agent.calls) == 2


def test_a_workspace_without_an_installation_gets_no_answer(multi: tuple[Harness, TestClient],
                                                            caplog: pytest.LogCaptureFixture):
    h, browser = multi
    install(browser, "code-sales")
    before = len(h.mock.calls)
    event = mention(ALEX, ts="1764061200.000900", channel="C0NOPE", team="T0NOPE")
    assert h.post(event_body(event, team_id="T0NOPE")).status_code == 200
    resp = command(h, "T0NOPE", DANA, "today")
    assert resp.status_code == 200 and resp.text == ""
    # The installed workspace is still answered afterwards (nothing crashed).
    h.post(event_body(mention(ALEX, ts="1764061200.000901", channel="CT0SALES", team="T0SALES"), team_id="T0SALES"))
    h.mock.wait_for("chat.postMessage", where=bearer("xoxb-sales-token"))
    h.drain()
    after = h.mock.calls[before:]
    assert not [c for c in after if c.body.get("channel") == "C0NOPE" or c.method == "response_url"]
    assert not [c for c in after if c.headers.get("authorization") not in (None, "Bearer xoxb-sales-token")]
    assert len(h.agent.calls) == 1
    assert any("has not installed the app" in r.getMessage() for r in caplog.records)


def test_an_uninstall_forgets_the_workspace_token(multi: tuple[Harness, TestClient]):
    h, browser = multi
    for _team, (code, _token) in WORKSPACES.items():
        install(browser, code)
    gone = {"type": "app_uninstalled", "event_ts": "1764061200.000500"}
    assert h.post(event_body(gone, team_id="T0CS")).status_code == 200
    h.drain()
    assert oauth.bot_token(h.deps, "T0CS") is None
    assert oauth.bot_token(h.deps, "T0SALES") == "xoxb-sales-token"


def test_sends_outside_a_request_use_the_named_workspace_token(multi: tuple[Harness, TestClient]):
    h, browser = multi
    for _team, (code, _token) in WORKSPACES.items():
        install(browser, code)
    assert h.deps.client is not None
    for team, (_code, token) in WORKSPACES.items():
        web = send_client(h.deps, None, team)
        assert web.token == token and web.base_url == h.deps.client.base_url
        web.chat_postMessage(channel=f"D{team}", text="digest")
        [sent] = h.mock.wait_for("chat.postMessage", where=lambda c, ch=f"D{team}": c.body.get("channel") == ch)
        assert sent.headers["authorization"] == f"Bearer {token}"
    with pytest.raises(ConfigError):
        send_client(h.deps, None, "T0NOPE")



def test_sends_that_name_no_workspace_go_with_their_recipients_workspace_token(multi: tuple[Harness, TestClient]):
    # A digest or SLA notice DMs a user id: the router finds which installed workspace has that member
    # (users.info per workspace, once), sends with its token, and remembers the DM channel it opened.
    h, browser = multi
    for _team, (code, _token) in WORKSPACES.items():
        install(browser, code)
    h.mock.add_user("U0CSM", "casey@vendor.example", team_id="T0CS")
    h.mock.add_user("U0REP", "riley@vendor.example", team_id="T0SALES")
    web = send_client(h.deps, None)
    assert web is not h.deps.client
    web.chat_postMessage(channel="U0CSM", text="your queue")
    web.chat_postMessage(channel="U0REP", text="first touch due")
    web.chat_postMessage(channel="U0CSM", text="again")
    sent = h.mock.calls_to("chat.postMessage")
    assert [(c.body["channel"], c.headers["authorization"]) for c in sent] == [
        ("U0CSM", "Bearer xoxb-cs-token"), ("U0REP", "Bearer xoxb-sales-token"), ("U0CSM", "Bearer xoxb-cs-token")]
    assert len(h.mock.calls_to("users.info", where=lambda c: c.body.get("user") == "U0CSM")) == 1  # found once
    opened = web.conversations_open(users="U0CSM")["channel"]["id"]
    web.chat_update(channel=opened, ts="1.2", text="edited")  # the DM id is remembered with its workspace
    [update] = h.mock.calls_to("chat.update")
    assert update.headers["authorization"] == "Bearer xoxb-cs-token"
    # Nobody knows this member: SLACK_BOT_TOKEN (set in this fixture) is the fallback.
    web.chat_postMessage(channel="U0NOBODY", text="?")
    [last] = h.mock.calls_to("chat.postMessage", where=lambda c: c.body["channel"] == "U0NOBODY")
    assert last.headers["authorization"] == f"Bearer {TOKEN}"


def test_oauth_mode_needs_no_single_bot_token(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WARMINTRO_SLACK_CLIENT_ID", "111.222")
    monkeypatch.setenv("WARMINTRO_SLACK_CLIENT_SECRET", "client-secret")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=mock_slack.api_url)
    deps = Deps(settings=settings, store=workspace_store, agent=FakeAgent(), clock=lambda: NOW)
    app = build_bolt_app(deps)
    assert deps.client is not None and deps.client.token is None
    assert app.client.base_url == mock_slack.api_url


def test_single_token_mode_is_unchanged(slack: Harness, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("WARMINTRO_SLACK_CLIENT_ID", raising=False)
    assert slack.bolt_app.client is slack.deps.client and slack.deps.client.token == TOKEN
    assert send_client(slack.deps, None, "T0ANY") is slack.deps.client  # OAuth off: the team is not looked up


def test_a_replayed_answer_is_sent_in_the_workspace_the_click_came_from(multi: tuple[Harness, TestClient]):
    # A process died after acknowledging a champion's click in the CS workspace: the replay (bot.py's jobs
    # loop, which has no request to take a token from) must answer there with that workspace's token.
    from slackapp.jobs_runner import _job_client
    from warmintro.store import models as m

    h, browser = multi
    for _team, (code, _token) in WORKSPACES.items():
        install(browser, code)
    assert h.deps.client is not None
    clicked_in_cs = m.SlackJob(payload={"body": {"team": {"id": "T0CS"}, "user": {"id": "U0X"}}})
    assert _job_client(h.deps, h.deps.client, clicked_in_cs).token == "xoxb-cs-token"
    no_team = m.SlackJob(payload={"body": {"user": {"id": "U0X"}}})
    assert _job_client(h.deps, h.deps.client, no_team) is h.deps.client
