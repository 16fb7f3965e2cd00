"""The agent through the real ChatOpenAI client, against an OpenAI-compatible endpoint faked at the HTTP
layer (httpx.MockTransport): tool calls, then the answer; and HTTP faults falling back offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from agent.identity import Identity
from agent.models import make_chat_model
from agent.service import AgentService
from warmintro.importer.run import import_folder
from warmintro.settings import Settings

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ALEX = Identity("ae", "U0ALEX", "alex@vendor.example", "Alex Romero")


def completion(message: dict, finish: str) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "stub",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


class Endpoint:
    """Answers /chat/completions from a script and records each request body."""

    def __init__(self, script: list) -> None:
        self.script = list(script)
        self.requests: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/chat/completions")
        body = json.loads(request.content)
        self.requests.append(body)
        if not self.script:
            raise AssertionError("endpoint called more often than scripted")
        step = self.script.pop(0)
        return step(body) if callable(step) else step


def model_for(endpoint: Endpoint, tmp_path):
    settings = Settings(home=tmp_path, openai_base_url="http://llm.local/v1", model="stub-model")
    return settings, make_chat_model(settings, http_client=httpx.Client(transport=httpx.MockTransport(endpoint)))


@pytest.mark.store
def test_real_chatopenai_tool_call_round_trip(store, northwind, tmp_path):
    import_folder(store, northwind)

    def final(body):
        tool_msgs = [m_ for m_ in body["messages"] if m_["role"] == "tool"]
        assert tool_msgs and "jordan.lee@harbor.example" in tool_msgs[0]["content"]
        return httpx.Response(200, json=completion(
            {"role": "assistant", "content": "Priya Natarajan knows Jordan Lee at Harbor Freight Lines."}, "stop"))

    endpoint = Endpoint([
        httpx.Response(200, json=completion({"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_a", "type": "function",
             "function": {"name": "who_knows", "arguments": json.dumps({"target": "harbor.example"})}}]}, "tool_calls")),
        final,
    ])
    settings, model = model_for(endpoint, tmp_path)
    reply = AgentService(settings, store, model=model, clock=lambda: NOW).respond(ALEX, "C1:1", "who knows someone at harbor?")
    assert reply.mode == "model" and "Jordan Lee" in reply.text
    first = endpoint.requests[0]
    assert first["model"] == "stub-model"
    assert {t["function"]["name"] for t in first["tools"]} == {"who_knows", "explain_account", "account_personas",
                                                                 "champion_targets"}
    assert not endpoint.script


@pytest.mark.store
@pytest.mark.parametrize("fault", [
    httpx.Response(500, json={"error": {"message": "boom"}}),
    httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after": "0"}),
    httpx.Response(200, content=b"{not json"),
    httpx.Response(200, json=completion({"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "drop_tables", "arguments": "{}"}}]}, "tool_calls")),
])
def test_endpoint_faults_fall_back_to_the_engines(store, northwind, tmp_path, fault):
    import_folder(store, northwind)
    endpoint = Endpoint([fault] * 3)
    settings, model = model_for(endpoint, tmp_path)
    reply = AgentService(settings, store, model=model, clock=lambda: NOW).respond(
        ALEX, "C1:2", "who knows someone at harbor.example?")
    assert "Priya" in reply.text  # answered from the engines, not lost
    assert reply.mode == "offline"
