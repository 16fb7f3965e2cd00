"""Slack's agent experience, through signed requests to the real app and the recording mock Web API: suggested
prompts when the agent's thread opens (per role), a status before the agent works, a model's answer streamed
(chat.startStream / appendStream / stopStream), offline answers posted at once, feedback buttons recorded and
counted, 429s on every one of these calls retried after Retry-After, and the MCP endpoint on the same port."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fakes import ScriptedChatModel, tool_call
from langchain_core.messages import AIMessage

from agent.identity import Identity
from agent.service import AgentService
from agent.types import AgentReply
from warmintro.store import models as m
from warmintro.testing.mock_slack_api import TEAM_ID
from warmintro.testing.slack_harness import ALEX, DANA, NOW, Harness, click, make_settings

pytestmark = pytest.mark.store

DM = "D0DANA"


def thread_started(user: str, channel: str = DM, thread_ts: str = "1764061500.000100") -> dict[str, Any]:
    return {"type": "assistant_thread_started", "event_ts": thread_ts, "assistant_thread": {
        "user_id": user, "channel_id": channel, "thread_ts": thread_ts,
        "context": {"channel_id": "C0SALES", "team_id": TEAM_ID, "enterprise_id": None}}}


def dm(user: str, text: str, *, channel: str = DM, ts: str = "1764061600.000100", thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "channel_type": "im",
             "event_ts": ts, "team": TEAM_ID}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def body(call: Any) -> dict[str, Any]:
    """What the app sent, less the team_id slack_sdk adds to every call of a per-workspace client."""
    return {k: v for k, v in call.body.items() if k != "team_id"}


def methods(slack: Harness, *names: str) -> list[str]:
    return [c.method for c in slack.mock.calls if c.method in names]


def test_opening_the_agent_thread_suggests_prompts_for_the_role(slack: Harness):
    slack.event(thread_started(DANA))
    [prompts] = slack.mock.wait_for("assistant.threads.setSuggestedPrompts")
    assert body(prompts) == {"channel_id": DM, "thread_ts": "1764061500.000100", "title": "Referrals today", "prompts": [
        {"title": "Who should I ask today?", "message": "Who should I ask today?"},
        {"title": "Why not Bluebird & Co <Foods>?", "message": "Why not Bluebird & Co <Foods>?"},
        {"title": "Who knows someone at Acme Freight?", "message": "Who knows someone at Acme Freight?"}]}
    slack.event(thread_started(ALEX, channel="D0ALEX"))
    rep = slack.mock.wait_for("assistant.threads.setSuggestedPrompts", 2)[1]
    assert rep.body["channel_id"] == "D0ALEX" and rep.body["prompts"][0]["title"] == "Who knows someone at Acme Freight?"
    assert not any(p["title"].startswith("Who should I ask today") for p in rep.body["prompts"])
    slack.event(thread_started("U0NOBODY", channel="D0NOBODY"))  # no prompts for a stranger: the reason instead
    [refusal] = slack.mock.wait_for("chat.postMessage")
    assert refusal.body["channel"] == "D0NOBODY" and "don't know you" in refusal.body["text"]
    # the Messages tab without an agent thread: the prompts for the DM itself
    slack.event({"type": "app_home_opened", "user": DANA, "channel": DM, "tab": "messages", "event_ts": "1.9"})
    tab = slack.mock.wait_for("assistant.threads.setSuggestedPrompts", 3)[2]
    assert tab.body["channel_id"] == DM and "thread_ts" not in tab.body and len(tab.body["prompts"]) == 3
    slack.drain()
    assert slack.agent.calls == [] and len(slack.mock.calls_to("assistant.threads.setSuggestedPrompts")) == 3


class TimedAgent:
    """The fake agent's answer, with the moment it was asked (to order it against the mock's calls)."""

    def __init__(self, reply: AgentReply) -> None:
        self.reply, self.asked_at = reply, 0.0

    def respond(self, who: Identity, thread_id: str, text: str, *, stream: Any = None) -> AgentReply:
        self.asked_at = time.monotonic()
        return self.reply

    def decide(self, *args: Any) -> AgentReply:
        raise AssertionError("no decisions here")


def test_a_dm_shows_a_status_before_the_agent_works_and_an_offline_answer_at_once(slack: Harness):
    agent = TimedAgent(AgentReply("*2 ask(s) due* (most important first)", mode="offline", intent="todays_queue"))
    slack.deps.agent = agent
    slack.event(dm(DANA, "who should I ask today?"))
    [answer] = slack.mock.wait_for("chat.postMessage")
    [status] = slack.mock.calls_to("assistant.threads.setStatus")
    assert body(status) == {"channel_id": DM, "thread_ts": "1764061600.000100", "status": "is looking into it…",
                           "loading_messages": ["Checking today's happy moments…", "Reading the ask cadence…",
                                                "Looking through your champions' networks…"]}
    assert status.at <= agent.asked_at <= answer.at  # the status is the first thing, before the agent is asked
    assert answer.body["thread_ts"] == "1764061600.000100"  # each DM message is its own thread
    feedback = answer.json_field("blocks")[-1]
    assert feedback["type"] == "context_actions"
    [buttons] = feedback["elements"]
    assert buttons["type"] == "feedback_buttons" and buttons["positive_button"]["value"] == "up|offline|todays_queue"
    slack.drain()
    assert methods(slack, "chat.startStream", "chat.appendStream", "chat.stopStream") == []  # offline: not streamed


def model_agent(slack: Harness, answer: str) -> tuple[AgentService, ScriptedChatModel]:
    model = ScriptedChatModel.of([tool_call("who_knows", {"target": "acme-freight.example"}), AIMessage(content=answer)])
    return AgentService(slack.deps.settings, slack.deps.store, model=model, clock=lambda: NOW), model


ANSWER = ("Priya Natarajan knows Jo Park there: they worked together for 29 months. "
          "Priya is a promoter (NPS 10 yesterday), so she is the one to ask. "
          "Dana owns the account and can route the ask this week. "
          "Jo runs operations there, which is the team that feels the dispatch problem most. "
          "An introduction from a peer who solved it is the strongest opening you will get. "
          "Reply here and I will draft the note")


def test_a_model_answer_streams_into_the_thread_with_feedback_at_the_end(slack: Harness):
    slack.deps.agent, model = model_agent(slack, ANSWER)
    slack.event(dm(DANA, "who knows someone at acme-freight.example?"))
    [stop] = slack.mock.wait_for("chat.stopStream")
    slack.drain()
    assert methods(slack, "assistant.threads.setStatus", "chat.startStream", "chat.appendStream", "chat.stopStream",
                   "chat.postMessage")[:3] == ["assistant.threads.setStatus", "chat.startStream", "chat.appendStream"]
    assert slack.mock.calls_to("chat.postMessage") == []
    [start] = slack.mock.calls_to("chat.startStream")
    assert {k: start.body[k] for k in ("channel", "thread_ts", "recipient_user_id", "recipient_team_id")} == {
        "channel": DM, "thread_ts": "1764061600.000100", "recipient_user_id": DANA, "recipient_team_id": TEAM_ID}
    appends = slack.mock.calls_to("chat.appendStream")
    assert len(appends) >= 1 and all(a.body["ts"] == stop.body["ts"] for a in appends)
    text = "".join(c["text"] for call in [start, *appends, stop] for c in call.body.get("chunks") or [])
    assert text == ANSWER  # every word, once, in order; the unfinished last sentence arrives with the stop
    assert stop.body["blocks"][-1]["elements"][0]["positive_button"]["value"] == "up|model|"
    model.assert_used_up()


def test_a_rate_limited_status_and_stream_are_retried_after_retry_after(slack: Harness):
    slack.deps.agent, model = model_agent(slack, ANSWER)
    for method in ("assistant.threads.setStatus", "chat.startStream", "chat.appendStream", "chat.stopStream"):
        slack.mock.fail_next(method, 429, retry_after=1)
    slack.event(dm(DANA, "who knows someone at acme-freight.example?"))
    slack.mock.wait_for("chat.stopStream", 2, timeout=30)
    slack.drain()
    for method in ("assistant.threads.setStatus", "chat.startStream", "chat.stopStream"):
        first, second = slack.mock.calls_to(method)  # the 429, then the retry: once each, never more
        assert second.at - first.at >= 0.9, method  # not before Retry-After
    appended = [c for c in slack.mock.calls_to("chat.appendStream")]
    assert appended[1].at - appended[0].at >= 0.9
    chunks = [c for call in slack.mock.calls_to("chat.startStream")[1:] + appended[1:] + slack.mock.calls_to("chat.stopStream")[1:]
              for c in call.body.get("chunks") or []]
    assert "".join(c["text"] for c in chunks) == ANSWER  # nothing lost, nothing doubled
    assert slack.mock.calls_to("chat.postMessage") == []


def feedback_click(user: str, vote: str, *, message_ts: str = "1764061700.000200") -> dict[str, Any]:
    action = {"type": "feedback_buttons", "action_id": "agent_feedback", "block_id": "agent_feedback",
              "value": f"{vote}|offline|who_knows"}
    return click(user, action, container={"type": "message", "message_ts": message_ts, "channel_id": DM,
                                          "thread_ts": "1764061600.000100", "is_ephemeral": False},
                 message={"ts": message_ts, "thread_ts": "1764061600.000100", "text": "Warm paths…"})


def test_feedback_is_recorded_once_per_person_and_counted(slack: Harness):
    from sqlalchemy import select

    from warmintro.engines.report import program_report

    slack.action(feedback_click(DANA, "up"))
    [thanks] = slack.mock.wait_for("chat.postEphemeral")
    assert thanks.body["user"] == DANA and thanks.body["thread_ts"] == "1764061600.000100"
    slack.action(feedback_click(DANA, "up"))  # the same vote again: nothing new
    slack.action(feedback_click(ALEX, "down"))
    slack.mock.wait_for("chat.postEphemeral", 2)
    slack.drain()
    assert len(slack.mock.calls_to("chat.postEphemeral")) == 2
    with slack.deps.store.session() as s:
        rows = s.scalars(select(m.AgentFeedback).order_by(m.AgentFeedback.user_id)).all()
        assert [(r.answer_id, r.user_id, r.email, r.role, r.vote, r.mode, r.intent) for r in rows] == [
            (f"{DM}:1764061700.000200", ALEX, "alex@vendor.example", "ae", "down", "offline", "who_knows"),
            (f"{DM}:1764061700.000200", DANA, "dana@vendor.example", "csm", "up", "offline", "who_knows")]
        report = program_report(s, NOW)
    assert report["agent_feedback"] == {"answers_rated": 1, "up": 1, "down": 1, "share_up": 0.5,
                                        "by_mode": {"offline": {"up": 1, "down": 1}}}
    metrics = slack.http.get(slack.base_url + "/metrics").text
    assert 'warmintro_agent_feedback_total{mode="offline",vote="up"}' in metrics
    assert 'warmintro_agent_feedback_total{mode="offline",vote="down"}' in metrics


def test_the_mcp_endpoint_is_served_on_the_slack_apps_port(slack: Harness, mock_slack, workspace_store, tmp_path):
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from evals.faults.slack_faults import serve
    from mcpserver.tokens import mint
    from slackapp.app import build_bolt_app
    from slackapp.deps import Deps
    from web.server import create_web_app

    assert slack.http.post(slack.base_url + "/mcp", json={}).status_code == 401  # mounted, and guarded
    from pydantic import SecretStr

    settings = make_settings(mock_slack, tmp_path).model_copy(
        update={"link_secret": SecretStr("slack-mcp-secret-0123456789")})
    deps = Deps(settings=settings, store=workspace_store, agent=slack.agent, clock=lambda: NOW)
    server, thread, port = serve(create_web_app(build_bolt_app(deps), deps), lifespan="on")
    token = mint(workspace_store, settings, "alex@vendor.example", NOW).token

    async def tools() -> set[str]:
        async with (httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
                    Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client):
            return {t.name for t in (await client.list_tools()).tools}

    try:
        assert anyio.run(tools) == {"explain", "personas", "targets", "who_knows"}
    finally:
        server.should_exit = True
        thread.join(10)
