"""A champion's click survives the process: the ack writes the answer's claim and its job together, and a job
whose process died is finished by the replay (bot.py runs it in every process) — once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NOW, PRIYA, Harness
from slack_sdk import WebClient
from sqlalchemy import select
from test_slack_home import asks, champion_click, sent_dm

from agent.identity import Identity
from slackapp import blocks as b
from slackapp import jobs
from slackapp.listeners.actions import replay_champion_jobs, start_champion_answer
from warmintro.store import models as m

pytestmark = pytest.mark.store


def _approve_value(dm_blocks: list[dict]) -> str:
    actions = dm_blocks[-1]
    return next(e["value"] for e in actions["elements"] if e["action_id"] == b.CHAMPION_APPROVE)


def test_an_acknowledged_answer_whose_process_died_is_finished_by_the_replay(slack: Harness):
    value = _approve_value(sent_dm(slack))
    priya = Identity(role="champion", slack_user_id=PRIYA, email="priya@northwind.example", name="Priya Natarajan")
    body = {"container": {"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
            "user": {"id": PRIYA}}
    # The ack ran (the job is written) and the process died before the lazy listener did anything.
    assert start_champion_answer(slack.deps, body, priya, "approve", value) == "new"
    assert start_champion_answer(slack.deps, body, priya, "approve", value) == "pending"  # a second click
    client = slack.deps.client
    assert isinstance(client, WebClient)
    # A fresh process replays it (created more than 2 s ago, no lease): the note arrives, the CSM hears once.
    assert replay_champion_jobs(_later(slack, 30), client) == 1
    [update] = slack.mock.wait_for("chat.update")
    assert update.body["channel"] == "D0PRIYA" and "note" in update.body["text"].lower()
    slack.mock.wait_for("chat.postMessage", where=lambda c: c.body["channel"] == "D0DANA" and "approved" in c.body["text"])
    with slack.deps.store.session() as s:
        assert [j.status for j in s.scalars(select(m.SlackJob))] == ["done"]
        assert len(s.scalars(select(m.Referral)).all()) == 2
    assert asks(slack)[0].outcome == "accepted"
    # Replaying again, or the champion clicking again, repeats nothing.
    assert replay_champion_jobs(_later(slack, 60), client) == 0
    champion_click(slack, sent_blocks(slack), b.CHAMPION_APPROVE)
    reply = slack.mock.wait_for("response_url")[-1]
    assert "already answered" in reply.body["text"]
    slack.drain()
    assert len(slack.mock.calls_to("chat.update")) == 1
    assert len(slack.mock.calls_to("chat.postMessage", where=lambda c: c.body["channel"] == "D0DANA")) == 1


def _later(slack: Harness, seconds: int):
    deps = slack.deps
    deps.clock = lambda: NOW + timedelta(seconds=seconds)
    return deps


def sent_blocks(slack: Harness) -> list[dict]:
    return slack.mock.calls_to("chat.postMessage", where=lambda c: c.body["channel"] == "D0PRIYA")[0].json_field("blocks")


def test_a_click_the_store_cannot_record_is_not_acknowledged(slack: Harness, monkeypatch: pytest.MonkeyPatch):
    blocks = sent_dm(slack)

    def down(*_a, **_k):
        raise RuntimeError("store unavailable")

    monkeypatch.setattr(jobs, "start", down)
    champion_click_status = _click_status(slack, blocks)
    assert champion_click_status >= 500  # Slack shows the champion an error; nothing was silently dropped
    slack.drain()
    assert asks(slack)[0].outcome == "pending"
    assert slack.mock.calls_to("chat.postMessage", where=lambda c: c.body["channel"] == "D0DANA") == []


def _click_status(slack: Harness, dm_blocks: list[dict]) -> int:
    from conftest import click

    actions = dm_blocks[-1]
    element = next(e for e in actions["elements"] if e["action_id"] == b.CHAMPION_APPROVE)
    payload = click(PRIYA, {"action_id": b.CHAMPION_APPROVE, "block_id": actions["block_id"], "value": element["value"],
                            "type": "button"},
                    container={"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
                    response_url=slack.mock.response_url("champion"))
    return slack.action(payload).status_code
