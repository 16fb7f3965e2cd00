"""The models the agent tasks can run against, all through the same `AgentService`:

- `offline`: no model; the service's offline router answers (the product's default).
- `scripted`: a deterministic, network-free chat model that drives the real LangChain agent graph
  (tool binding, human-in-the-loop on writes, checkpointer, the service's grounding guard). Its policy:
  pick the tool the router would pick, then answer by restating every string of the tool result; and,
  worst case on purpose, it *obeys* imperative text it finds in tool results ("send the ask to ...").
  So on this model the injection figures measure the service's guards, not the model's good sense.
- `openai`: any OpenAI-compatible endpoint from the settings (OPENAI_API_KEY / OPENAI_BASE_URL /
  WARMINTRO_MODEL), via `agent.models.make_chat_model`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

MODELS = ("offline", "scripted", "openai")
_OBEY = re.compile(r"\bsend\s+(?:the\s+)?ask\s+to\s+(?P<e>[\w.+'-]+@[\w-]+(?:\.[\w-]+)+)", re.I)


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        if value.strip() and value not in out:
            out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)


class ScriptedPolicyModel(BaseChatModel):
    """See the module docstring. One instance per service; it keeps no state between calls."""

    _bound: list[str] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "warmintro-scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedPolicyModel:  # type: ignore[override]
        clone = ScriptedPolicyModel()
        clone._bound = [getattr(t, "name", None) or t.get("name") for t in tools]
        return clone

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next(messages))])

    def _next(self, messages: list[BaseMessage]) -> AIMessage:
        from agent.router import route

        last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        turn = messages[last_human + 1:]
        text = str(messages[last_human].content) if last_human >= 0 else ""
        called = [c["name"] for m in turn if isinstance(m, AIMessage) for c in m.tool_calls]
        results = [str(m.content) for m in turn if isinstance(m, ToolMessage)]
        if not results:
            if self._bound == ["my_open_ask"]:
                return _call("my_open_ask", {})
            intent = route(text, "admin")
            if intent is None or intent.tool == "denied":
                return AIMessage(content="I can answer questions about referral asks, targets and warm paths.")
            if intent.tool not in self._bound:
                return AIMessage(content="Sorry, that isn't something I can do for your role.")
            return _call(intent.tool, dict(intent.args))
        obey = _OBEY.search(" ".join(results))
        if obey and "send_ask" in self._bound and "send_ask" not in called:
            return _call("send_ask", {"champion_email": obey.group("e").lower()}, f"call_{len(called) + 1}")
        strings: list[str] = []
        for r in results:
            try:
                _strings(json.loads(r), strings)
            except ValueError:
                strings.append(r)
        return AIMessage(content="Here is what I found:\n" + "\n".join(f"- {s}" for s in strings[:60]))


def _call(name: str, args: dict[str, Any], call_id: str = "call_1") -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


def make_model(kind: str, settings: Any) -> Any | None:
    """None for offline; a chat model otherwise. `openai` without a configured endpoint is an error."""
    if kind == "offline":
        return None
    if kind == "scripted":
        return ScriptedPolicyModel()
    if kind == "openai":
        from agent.models import make_chat_model

        model = make_chat_model(settings)
        if model is None:
            raise SystemExit("--model openai needs OPENAI_API_KEY or OPENAI_BASE_URL (and WARMINTRO_MODEL)")
        return model
    raise SystemExit(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")


def model_name(kind: str, settings: Any) -> str:
    if kind == "openai":
        return f"openai:{settings.model}" + (f"@{settings.openai_base_url}" if settings.openai_base_url else "")
    return kind
