"""A strict scripted chat model for agent tests: it answers from a script, raises when the script runs out,
records what it was sent, and can assert the script was used up."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

Step = AIMessage | str | Exception | Callable[[list[BaseMessage]], AIMessage]


class ScriptExhausted(AssertionError):
    pass


class ScriptedChatModel(GenericFakeChatModel):
    messages: Any = iter(())  # unused: the script below drives it
    _script: list[Step] = PrivateAttr(default_factory=list)
    _seen: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _bound_tools: list[str] = PrivateAttr(default_factory=list)

    @classmethod
    def of(cls, script: Sequence[Step]) -> ScriptedChatModel:
        model = cls(messages=iter(()))
        model._script = list(script)
        return model

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        self._bound_tools = [getattr(t, "name", None) or t.get("name") for t in tools]  # type: ignore[union-attr]
        return self

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        self._seen.append(list(messages))
        if not self._script:
            raise ScriptExhausted(f"the model was called a {len(self._seen)}th time; the script has no more steps")
        step = self._script.pop(0)
        if isinstance(step, Exception):
            raise step
        message = step(messages) if callable(step) else step
        if isinstance(message, str):
            message = AIMessage(content=message)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        """As a real model streams: the text word by word, then the tool calls (the base fake drops them)."""
        message = self._generate(messages, stop=stop, run_manager=run_manager, **kwargs).generations[0].message
        text = message.content if isinstance(message.content, str) else ""
        for piece in (p for p in re.split(r"(\s+)", text) if p):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
        calls = getattr(message, "tool_calls", None) or []
        if calls:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i, "type": "tool_call_chunk"}
                for i, c in enumerate(calls)]))

    @property
    def calls(self) -> list[list[BaseMessage]]:
        return self._seen

    @property
    def bound_tools(self) -> list[str]:
        return self._bound_tools

    def assert_used_up(self) -> None:
        assert not self._script, f"{len(self._script)} scripted step(s) were never used"


def tool_call(name: str, args: dict[str, Any], call_id: str = "call_1") -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])
