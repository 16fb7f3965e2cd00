"""The whole product path, as a user would run it: `warmintro demo` imports the demo company, `python bot.py`
serves it, and a rep's signed app_mention "who knows someone at stripe.com?" is answered in the thread by
the real agent service (offline router, no model) with the connectors' names. A Slack retry of the same
event is not answered twice; forged and stale requests get 401."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from test_slack_bot import _env, running_bot

from warmintro.engines.whoknows import who_knows
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import ROOT, SECRET, TOKEN, event_body, mention, signed_headers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo-home")
    env = _env(home)
    env["WARMINTRO_HOME"] = str(home)
    done = subprocess.run([sys.executable, "-m", "warmintro", "demo", "--accounts", "40", "--seed", "7", "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return home


@pytest.fixture
def bot(demo_home: Path, mock_slack: MockSlackAPI) -> Iterator[str]:
    env = _env(demo_home, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=mock_slack.api_url)
    env["WARMINTRO_HOME"] = str(demo_home)
    with running_bot(env) as base:
        yield base


def _rep_and_connectors(home: Path) -> tuple[str, list[str]]:
    store = Store.open(f"sqlite:///{home / 'warmintro.sqlite3'}")
    try:
        with store.session() as s:
            rep = s.execute(select(m.TeamMember.slack_user_id).where(
                m.TeamMember.role == "ae", m.TeamMember.slack_user_id.is_not(None))
                .order_by(m.TeamMember.email)).scalars().first()
            paths = who_knows(s, "stripe.com", limit=5).paths
            names = {e: n for e, n in s.execute(select(m.Person.email, m.Person.name)).all()}
            names.update(dict(s.execute(select(m.TeamMember.email, m.TeamMember.name)).all()))
            names.update(dict(s.execute(select(m.Contact.email, m.Contact.name)).all()))
    finally:
        store.close()
    assert rep, "the demo team has an AE with a Slack user id"
    assert paths, "the demo plants warm paths to stripe.com"
    return rep, [names[p.connector_email] for p in paths[:3]]


def test_rep_asks_who_knows_stripe_and_gets_the_connectors_once(demo_home: Path, bot: str,
                                                                 mock_slack: MockSlackAPI) -> None:
    rep, connectors = _rep_and_connectors(demo_home)
    body = event_body(mention(rep, "<@U0BOT> who knows someone at stripe.com?", ts="1764061200.000100"),
                      event_id="EvSTRIPE0001")
    with httpx.Client(timeout=10) as http:
        resp = http.post(bot + "/slack/events", content=body, headers=signed_headers(body))
        assert resp.status_code == 200  # acked before the answer is written (ack time: benchmarks/)
        [answer] = mock_slack.wait_for("chat.postMessage", timeout=60)
        assert answer.body["thread_ts"] == "1764061200.000100"
        for name in connectors:
            assert name in answer.body["text"], (name, answer.body["text"])

        # Slack retries the same event (same event_id, X-Slack-Retry-Num): acknowledged, not answered again.
        retry = http.post(bot + "/slack/events", content=body,
                          headers={**signed_headers(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
        assert retry.status_code == 200
        marker = event_body(mention(rep, "<@U0BOT> help", ts="1764061300.000100"), event_id="EvMARKER0001")
        assert http.post(bot + "/slack/events", content=marker, headers=signed_headers(marker)).status_code == 200
        replies = mock_slack.wait_for("chat.postMessage", 2, timeout=60)
        assert [c.body["thread_ts"] for c in replies] == ["1764061200.000100", "1764061300.000100"]
        assert len(mock_slack.calls_to("chat.postMessage")) == 2

        forged = http.post(bot + "/slack/events", content=body, headers=signed_headers(body, secret="not-the-secret"))
        stale = http.post(bot + "/slack/events", content=body,
                          headers=signed_headers(body, timestamp=int(time.time()) - 6 * 60))
        assert (forged.status_code, stale.status_code) == (401, 401)
