"""A model answer that names a person no tool returned (no email address to give it away) is not sent: the
engines answer instead. Names the tools did return still pass."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from agent.identity import Identity
from agent.models import make_chat_model
from agent.service import AgentService, ungrounded_names
from warmintro.importer.run import import_folder
from warmintro.settings import Settings

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ALEX = Identity("ae", "U0ALEX", "alex@vendor.example", "Alex Romero")


def _completion(message: dict) -> dict:
    return {"id": "c", "object": "chat.completion", "created": 1, "model": "stub",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}]}


def _service(store, tmp_path, final: str) -> AgentService:
    script = [
        _completion({"role": "assistant", "content": None, "tool_calls": [{"id": "a", "type": "function", "function": {
            "name": "who_knows", "arguments": json.dumps({"target": "harbor.example"})}}]}),
        _completion({"role": "assistant", "content": final}),
    ]

    def endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=script.pop(0))

    settings = Settings(home=tmp_path, openai_base_url="http://llm.local/v1", model="stub-model")
    model = make_chat_model(settings, http_client=httpx.Client(transport=httpx.MockTransport(endpoint)))
    return AgentService(settings, store, model=model, clock=lambda: NOW)


def test_ungrounded_names():
    grounded = "Priya Natarajan knows Jordan Lee at Harbor Freight Lines"
    assert ungrounded_names("Ask Priya Natarajan about Harbor Freight Lines.", grounded) == []
    assert ungrounded_names("Jordan Whitaker and Priya Natarajan both know Jordan Lee.", grounded) == ["Jordan Whitaker"]
    assert ungrounded_names("Good news: Priya's team can help.", grounded) == []


@pytest.mark.store
def test_an_invented_person_is_not_sent(store, northwind, tmp_path):
    import_folder(store, northwind)
    reply = _service(store, tmp_path, "Morgan Whitaker and Priya Natarajan both know Jordan Lee.").respond(
        ALEX, "C1:n", "who knows someone at harbor.example?")
    assert "Whitaker" not in reply.text and reply.mode == "offline" and "Priya" in reply.text


@pytest.mark.store
def test_a_grounded_answer_is_sent(store, northwind, tmp_path):
    import_folder(store, northwind)
    reply = _service(store, tmp_path, "Priya Natarajan knows Jordan Lee at Harbor Freight Lines.").respond(
        ALEX, "C1:g", "who knows someone at harbor.example?")
    assert reply.mode == "model" and "Jordan Lee" in reply.text
