"""The agent service the surfaces call: `respond` to a message, `decide` on a proposed change.

With a model configured, a langchain 1.x `create_agent` graph (role-scoped tools, human-in-the-loop on
every write tool, a checkpointer for thread memory) answers; any model failure falls back to the offline
router, which answers the common intents straight from the engines. Writes always wait for a click.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from agent.context import AgentContext, ToolOutput, escape_mrkdwn
from agent.identity import Identity
from agent.router import HELP, Intent, route, run_intent, run_write
from agent.types import AgentReply, PendingAction
from tools import WRITE_TOOLS, tool_names_for, tools_for
from warmintro import metrics
from warmintro.settings import Settings
from warmintro.store import models as m
from warmintro.store.db import Store

log = logging.getLogger(__name__)
EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# Two or more capitalised words in a row: how a person's name ("Jordan Lee") looks in an answer.
NAME_SPAN = re.compile(r"(?<![\w@.])[A-ZÀ-Þ][\w'’-]*(?:[ \t]+[A-ZÀ-Þ][\w'’-]*)+")
WORD = re.compile(r"[^\W\d_][\w'’-]*")


def ungrounded_names(answer: str, grounded: str) -> list[str]:
    """Name-like spans of `answer` with a word that is neither in `grounded` (what the tools returned and the
    people in the conversation wrote) nor a common English word: a person the model made up."""
    from warmintro.voice._lexicon import COMMON_WORDS

    known = {w.lower() for w in WORD.findall(grounded)}

    def ok(word: str) -> bool:
        w = re.sub(r"['’]s$", "", word.lower()).strip("'’-")
        return not w or w in known or w in COMMON_WORDS

    return [span for span in NAME_SPAN.findall(answer) if not all(ok(w) for w in span.split())]

class StreamGate:
    """Passes a model's answer on while it is written, a sentence at a time, each only once it names no person
    and no email that the conversation so far (the people's words, the tools' results) has not: the check the
    whole answer gets at the end, made early. At the first sentence that fails it stops; the end check then
    replaces the answer. `sent` is what was passed on (escaped like the final answer)."""

    SENTENCE_END = re.compile(r"(?<=[.!?:;])[ \t]+|\n+")

    def __init__(self, emit: Callable[[str], None], grounded: str = "") -> None:
        self.emit = emit
        self.grounded = grounded
        self.sent = ""
        self.turn_sent = ""  # what was passed on of the latest model turn (the answer, when it is the last)
        self.stopped = False
        self._pending = ""
        self._message: str | None = None

    def ground(self, text: str) -> None:
        self.grounded += " " + text

    def feed(self, message_id: str | None, text: str, calls_tools: bool = False) -> None:
        if message_id != self._message:  # a new model turn: an unfinished sentence of the last one is dropped
            self._message, self._pending, self.turn_sent = message_id, "", ""
        if self.stopped or calls_tools:  # a turn that calls tools is the model thinking aloud, not the answer
            self._pending = ""
            return
        self._pending += text
        while (end := self.SENTENCE_END.search(self._pending)) is not None:
            sentence, self._pending = self._pending[: end.end()], self._pending[end.end():]
            unknown = {e.lower() for e in EMAIL_IN_TEXT.findall(sentence)} - {
                e.lower() for e in EMAIL_IN_TEXT.findall(self.grounded)}
            if unknown or ungrounded_names(sentence, self.grounded):
                self.stopped = True
                return
            out = escape_mrkdwn(sentence)
            self.sent += out
            self.turn_sent += out
            self.emit(out)

    def rest_of(self, reply: AgentReply) -> str:
        """What the surface still has to show after the stream so that the person has read `reply`: the end of
        the answer it streamed, or (when the answer was replaced, or only the model's thinking aloud was shown)
        the whole reply below what was streamed."""
        if reply.mode == "model" and self.turn_sent and reply.text.startswith(self.turn_sent):
            return reply.text[len(self.turn_sent):]
        return "\n\n" + reply.text


REFUSAL_UNKNOWN = ("Hi! I'm the referrals assistant for this workspace. I don't recognise your account yet, "
                   "so I can't help here; ask your admin to add you to the team list.")


def _json_or_none(content: Any) -> Any:
    """A tool's JSON result (surfaces build buttons from it), or None when it is not JSON."""
    try:
        return json.loads(content) if isinstance(content, str) else None
    except ValueError:
        return None


def _confirmation(pending: PendingAction) -> str:
    text = f"{pending.summary}? Click *Approve* to go ahead."
    if pending.preview:
        text += f"\n\nThis is what they will read:\n{pending.preview}"
    return text


def _summary(tool: str, args: dict[str, Any]) -> str:
    if tool == "send_ask":
        return f"Send the referral ask to {args.get('champion_email')}"
    return f"Run {tool} with {json.dumps(args, default=str)}"


class AgentService:
    def __init__(self, settings: Settings, store: Store, *, model: Any | None = None, checkpointer: Any | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.model = model
        self.checkpointer = checkpointer
        self.clock = clock or (lambda: datetime.now(UTC))
        self._agents: dict[tuple[str, bool], Any] = {}

    # ----------------------------------------------------------------------------------------- public
    def respond(self, who: Identity, thread_id: str, text: str, *,
                stream: Callable[[str], None] | None = None) -> AgentReply:
        """The answer to `text` in `thread_id`. `stream`, when given, receives a model's answer while it is
        written (checked sentence by sentence, see StreamGate); the reply's `streamed` says what it received.
        Offline answers are not streamed: they are whole at once."""
        if who.role == "unknown":
            return AgentReply(REFUSAL_UNKNOWN, mode="refusal")
        if not tool_names_for(who.role, external=who.external):
            return AgentReply("Sorry, there is nothing I can do for your role here yet.", mode="refusal")
        ctx = self._context(who)
        if self.model is not None:
            gate = StreamGate(stream) if stream is not None else None
            try:
                reply = self._respond_with_model(ctx, thread_id, text, gate)
            except Exception as exc:  # the model is never the only way anything works
                log.warning("model failed, answering offline", extra={"fields": {"error": type(exc).__name__}})
                metrics.count("llm_fallback", source="agent", reason="model_error")
                reply = self._respond_offline(ctx, thread_id, text)
                reply.text += "\n_(The model was unavailable, so I answered from the engines directly.)_"
            if gate is not None and gate.sent:
                reply.streamed, reply.unstreamed = gate.sent, gate.rest_of(reply)
            return reply
        return self._respond_offline(ctx, thread_id, text)

    def decide(self, who: Identity, thread_id: str, action_id: str, approve: bool) -> AgentReply:
        now = self.clock()
        with self.store.session(write=True) as s:
            row = s.get(m.PendingActionRow, action_id)
            if row is None:
                return AgentReply("That request has expired or never existed.", mode="refusal")
            if row.proposed_for and who.email != row.proposed_for and who.role != "admin":
                return AgentReply("Only the person who asked for this can approve it.", mode="refusal")
            claimed = s.execute(  # type: ignore[attr-defined]
                update(m.PendingActionRow)
                .where(m.PendingActionRow.action_id == action_id, m.PendingActionRow.status == "pending")
                .values(status="approved" if approve else "rejected", decided_by=who.email, decided_at=now)
            ).rowcount
            tool, args, mode, previous = row.tool, dict(row.args), row.mode, row.result
        if not claimed:  # a double click or a second process: the first decision stands
            return AgentReply(previous or "Already decided.", mode="offline", intent="already_decided")
        ctx = self._context(who)
        if mode == "model" and self.model is not None:
            reply = self._resume_model(ctx, thread_id, approve)
        elif approve:
            out = run_write(ctx, tool, args)
            reply = AgentReply(out.text, blocks=out.blocks, mode="offline", intent=tool,
                               tool_calls=[{"tool": tool, "args": args, "result": out.data}])
        else:
            reply = AgentReply("OK, I won't do that.", mode="offline", intent="rejected")
        with self.store.session(write=True) as s:
            row = s.get(m.PendingActionRow, action_id)
            if row is not None:
                row.result = reply.text
            s.add(m.AuditLog(at=now, actor=who.email, action="approved" if approve else "rejected",
                             subject=f"{tool}", detail={"action_id": action_id, "args": args}))
        return reply

    # ---------------------------------------------------------------------------------------- offline
    def _respond_offline(self, ctx: AgentContext, thread_id: str, text: str) -> AgentReply:
        who = ctx.identity
        intent = route(text, who.role, external=who.external)
        if intent is None:
            return AgentReply(HELP, mode="offline", intent="help")
        if intent.tool == "denied":
            return AgentReply("Sorry, that isn't something I can do for your role.", mode="refusal",
                              intent=f"denied:{intent.args.get('tool')}")
        if intent.tool in WRITE_TOOLS:
            pending = self._propose(thread_id, who, intent.tool, dict(intent.args), "offline")
            return AgentReply(_confirmation(pending), pending=pending, mode="offline",
                              intent=intent.tool)
        out = self._run(ctx, intent)
        return AgentReply(out.text, blocks=out.blocks, mode="offline", intent=intent.tool,
                          tool_calls=[{"tool": intent.tool, "args": intent.args, "result": out.data}])

    def _run(self, ctx: AgentContext, intent: Intent) -> ToolOutput:
        return run_intent(ctx, intent)

    def _propose(self, thread_id: str, who: Identity, tool: str, args: dict[str, Any], mode: str,
                 action_id: str | None = None) -> PendingAction:
        action = PendingAction(action_id or uuid.uuid4().hex, tool, args, _summary(tool, args),
                               self._preview(tool, args))
        with self.store.session(write=True) as s:
            s.add(m.PendingActionRow(action_id=action.action_id, thread_id=thread_id, tool=tool, args=args,
                                     summary=action.summary, proposed_for=who.email, mode=mode, status="pending",
                                     created_at=self.clock()))
        return action

    def _preview(self, tool: str, args: dict[str, Any]) -> str | None:
        """What a write will send, shown before the Approve click: for an ask, the ask as the champion reads
        it (the same drafting code as `/referrals draft`)."""
        if tool != "send_ask":
            return None
        from warmintro.errors import NotFoundError
        from warmintro.voice.service import ask_with_notes

        try:
            with self.store.session() as s:
                result = ask_with_notes(s, str(args.get("champion_email") or ""), settings=self.settings,
                                        now=self.clock(), limit=5, offline=True)
        except NotFoundError as exc:  # nothing to preview yet (e.g. no one in their network fits the ICP)
            log.info("no ask preview", extra={"fields": {"reason": type(exc).__name__}})
            return None
        except Exception as exc:  # a preview must never block the proposal itself
            log.warning("ask preview failed", extra={"fields": {"error": type(exc).__name__}})
            return None
        return "\n".join(f"> {escape_mrkdwn(ln)}" if ln else ">" for ln in result.ask_text.split("\n"))

    # ------------------------------------------------------------------------------------------ model
    def _context(self, who: Identity) -> AgentContext:
        return AgentContext(identity=who, store=self.store, settings=self.settings, clock=self.clock)

    def _agent(self, who: Identity) -> Any:
        key = (who.role, who.external)
        if key not in self._agents:
            from langchain.agents import create_agent
            from langchain.agents.middleware import HumanInTheLoopMiddleware

            assert self.model is not None
            tools = tools_for(who.role, external=who.external)
            writes: dict[str, Any] = {t.name: {"allowed_decisions": ["approve", "reject"]}
                                      for t in tools if t.name in WRITE_TOOLS}
            middleware = [HumanInTheLoopMiddleware(interrupt_on=writes)] if writes else []
            self._agents[key] = create_agent(self.model, tools, middleware=middleware, context_schema=AgentContext,
                                             checkpointer=self.checkpointer)
        return self._agents[key]

    def _system_prompt(self, ctx: AgentContext) -> str:
        import prompts
        from warmintro.program import load_program

        with self.store.session() as s:
            program = load_program(s)
        role = ctx.identity.role
        notes = {"csm": "roles/csm.md", "admin": "roles/csm.md", "revops": "roles/csm.md", "ae": "roles/rep.md",
                 "sdr": "roles/rep.md", "champion": "roles/champion.md"}.get(role, "roles/other.md")
        return prompts.load("system.md").format(
            vendor_name=program.vendor.name, vendor_one_liner=program.vendor.one_liner or "",
            user_label=ctx.identity.label, role=role, role_notes=prompts.load(notes))

    def _config(self, thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": 12}

    def _metered(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config with a callback that counts the tokens of every model call the graph makes."""
        return {**config, "callbacks": [metrics.usage_callback("agent")]}

    def _respond_with_model(self, ctx: AgentContext, thread_id: str, text: str,
                            gate: StreamGate | None = None) -> AgentReply:
        from langchain_core.messages import HumanMessage, SystemMessage

        agent = self._agent(ctx.identity)
        config = self._config(thread_id)
        state = agent.get_state(config) if self.checkpointer is not None else None
        earlier = list(state.values.get("messages") or []) if state else []
        messages: list[Any] = [] if earlier else [SystemMessage(self._system_prompt(ctx))]
        messages.append(HumanMessage(text))
        if gate is None:
            result = agent.invoke({"messages": messages}, config=self._metered(config), context=ctx)
        else:
            gate.ground(" ".join(str(msg.content) for msg in [*earlier, *messages]) + " " + ctx.identity.label)
            result = self._stream_graph(agent, {"messages": messages}, config, ctx, gate)
        return self._reply_from(ctx, thread_id, result, text)

    def _stream_graph(self, agent: Any, inputs: dict[str, Any], config: dict[str, Any], ctx: AgentContext,
                      gate: StreamGate) -> dict[str, Any]:
        """The graph run as `invoke` would return it, with the model's tokens passed through `gate` meanwhile."""
        from langchain_core.messages import AIMessageChunk, ToolMessage

        final: dict[str, Any] = {}
        interrupts: Any = None
        for mode, chunk in agent.stream(inputs, config=self._metered(config), context=ctx,
                                        stream_mode=["messages", "updates", "values"]):
            if mode == "values" and isinstance(chunk, dict):
                final = chunk
            elif mode == "updates" and isinstance(chunk, dict) and chunk.get("__interrupt__"):
                interrupts = chunk["__interrupt__"]
            elif mode == "messages":
                message = chunk[0]
                if isinstance(message, ToolMessage):
                    gate.ground(str(message.content))
                elif isinstance(message, AIMessageChunk) and isinstance(message.content, str):
                    gate.feed(message.id, message.content, bool(message.tool_call_chunks or message.tool_calls))
        return {**final, "__interrupt__": interrupts} if interrupts else final

    def _resume_model(self, ctx: AgentContext, thread_id: str, approve: bool) -> AgentReply:
        from langgraph.types import Command

        decision = {"type": "approve"} if approve else {"type": "reject", "message": "The user rejected this."}
        result = self._agent(ctx.identity).invoke(Command(resume={"decisions": [decision]}),
                                                  config=self._metered(self._config(thread_id)), context=ctx)
        return self._reply_from(ctx, thread_id, result, "")

    def _reply_from(self, ctx: AgentContext, thread_id: str, result: dict[str, Any], user_text: str) -> AgentReply:
        from langchain_core.messages import AIMessage, ToolMessage

        interrupts = result.get("__interrupt__") or []
        if interrupts:
            request = interrupts[0].value
            action = request["action_requests"][0]
            pending = self._propose(thread_id, ctx.identity, action["name"], dict(action["args"]), "model",
                                    action_id=uuid.uuid4().hex)
            return AgentReply(_confirmation(pending), pending=pending, mode="model",
                              intent=action["name"])
        messages = result.get("messages", [])
        # Only this turn's messages: everything after the last human message.
        last_human = max((i for i, msg in enumerate(messages) if getattr(msg, "type", "") == "human"), default=-1)
        turn = messages[last_human + 1 :]
        tool_text = " ".join(str(msg.content) for msg in turn if isinstance(msg, ToolMessage))
        results = {msg.tool_call_id: _json_or_none(msg.content) for msg in turn if isinstance(msg, ToolMessage)}
        calls = [{"tool": c["name"], "args": c["args"], "result": results.get(c.get("id") or "")}
                 for msg in turn if isinstance(msg, AIMessage) for c in msg.tool_calls]
        final = next((msg for msg in reversed(turn) if isinstance(msg, AIMessage) and not msg.tool_calls), None)
        answer = str(final.content) if final is not None else ""
        unknown = {e.lower() for e in EMAIL_IN_TEXT.findall(answer)} - {
            e.lower() for e in EMAIL_IN_TEXT.findall(tool_text + " " + user_text)}
        # names may come from anything said in this thread (tool results, the people, the system prompt)
        seen = " ".join(str(msg.content) for msg in messages if getattr(msg, "type", "") in ("tool", "human", "system"))
        names = ungrounded_names(answer, f"{seen} {tool_text} {user_text} {ctx.identity.label}")
        if not answer.strip() or unknown or names:
            # An answer that names someone no tool returned is not sent; the engines answer instead.
            log.warning("ungrounded model answer replaced", extra={"fields": {
                "unknown_emails": len(unknown), "unknown_names": len(names)}})
            metrics.count("llm_fallback", source="agent", reason="empty" if not answer.strip() else "ungrounded")
            reply = self._respond_offline(ctx, thread_id, user_text) if user_text else AgentReply("Done.")
            reply.tool_calls = calls + reply.tool_calls
            return reply
        # The model may echo hostile text from the data (an NPS comment with <!channel> or a disguised link):
        # its answer is escaped like any other data, so Slack never renders a mention, broadcast or link.
        return AgentReply(escape_mrkdwn(answer), mode="model", tool_calls=calls)
