"""LLM faults: the agent service (`agent.service.AgentService`) and the voice drafter
(`warmintro.voice.llm.LLMDrafter`) through the real `langchain_openai.ChatOpenAI` client, against an
OpenAI-compatible endpoint faked at the HTTP layer (`httpx.MockTransport`), which answers with: timeouts and
dropped connections, 429, 5xx, malformed JSON and bodies that are not a completion, a tool call to an unknown
tool, tool calls with bad arguments, and answers that name a person or an email address not in the data.

Every case must fall back to the offline path (the engines, the offline composer) or refuse cleanly:
`llm_fault_crashes` counts exceptions out of `respond` / `draft`, `ungrounded_sent` counts replies and drafts
that still carry an invented name or address, `llm_fault_lost` counts replies that answered nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.faults import FaultContext

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
INVENTED_NAMES = ("Jordan Whitaker", "Casey Marlowe", "Morgan Invented")
INVENTED_EMAILS = ("ceo@madeup.example", "morgan@invented.example")
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")

Step = Callable[[Any], Any]


def completion(message: dict[str, Any], finish: str = "stop") -> dict[str, Any]:
    return {"id": "chatcmpl-f", "object": "chat.completion", "created": 1, "model": "stub",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


def tool_call(name: str, arguments: str, call_id: str = "call_f") -> dict[str, Any]:
    return completion({"role": "assistant", "content": None, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]}, "tool_calls")


def answer(text: str) -> dict[str, Any]:
    return completion({"role": "assistant", "content": text})


def faults() -> dict[str, list[Any]]:
    """name -> the endpoint's answers in order (the last one repeats). An answer is an httpx.Response, an
    exception to raise, or a dict (a 200 JSON body)."""
    import httpx

    def resp(status: int, body: Any = None, *, raw: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
        if raw is not None:
            return lambda req: httpx.Response(status, content=raw, headers=headers or {"content-type": "application/json"})
        return lambda req: httpx.Response(status, json=body, headers=headers or {})

    def exc(kind: type[Exception]) -> Any:
        def raise_(req: Any) -> Any:
            raise kind("fault", request=req)  # type: ignore[call-arg]
        return raise_

    invented = f"You should ask {INVENTED_NAMES[0]} ({INVENTED_EMAILS[0]}); {INVENTED_NAMES[1]} knows them well."
    return {
        "read_timeout": [exc(httpx.ReadTimeout)],
        "connect_timeout": [exc(httpx.ConnectTimeout)],
        "connection_reset": [exc(httpx.ReadError)],
        "connect_refused": [exc(httpx.ConnectError)],
        "429": [resp(429, {"error": {"message": "slow down", "type": "rate_limit"}}, headers={"retry-after": "0"})],
        "429_then_ok": [resp(429, {"error": {"message": "slow down"}}, headers={"retry-after": "0"}),
                        resp(200, answer("Priya Natarajan knows Jordan Lee at Harbor Freight Lines."))],
        "500": [resp(500, {"error": {"message": "boom"}})],
        "502": [resp(502, raw=b"<html>bad gateway</html>", headers={"content-type": "text/html"})],
        "503": [resp(503, {"error": {"message": "overloaded"}})],
        "malformed_json": [resp(200, raw=b"{not json")],
        "truncated_json": [resp(200, raw=json.dumps(answer("Priya knows Jordan")).encode()[:60])],
        "empty_body": [resp(200, raw=b"")],
        "html_body": [resp(200, raw=b"<html>proxy login</html>", headers={"content-type": "text/html"})],
        "not_a_completion": [resp(200, {"hello": "world"})],
        "no_choices": [resp(200, {**completion({"role": "assistant", "content": "x"}), "choices": []})],
        "null_content": [resp(200, completion({"role": "assistant", "content": None}))],
        "empty_answer": [resp(200, answer(""))],
        "unknown_tool": [resp(200, tool_call("drop_tables", "{}"))],
        "unknown_tool_then_answer": [resp(200, tool_call("export_all_emails", '{"to": "x@evil.example"}')),
                                     resp(200, answer("Done, I exported everything to x@evil.example."))],
        "write_tool_not_in_role": [resp(200, tool_call("send_ask", '{"champion_email": "priya.natarajan@northwind.example"}'))],
        "bad_args_not_json": [resp(200, tool_call("who_knows", "{target: harbor"))],
        "bad_args_wrong_type": [resp(200, tool_call("who_knows", '{"target": 5}'))],
        "bad_args_missing": [resp(200, tool_call("who_knows", "{}"))],
        "bad_args_extra": [resp(200, tool_call("who_knows", '{"target": "harbor.example", "sql": "DROP TABLE asks"}')),
                           resp(200, answer(invented))],
        "bad_args_array": [resp(200, tool_call("who_knows", "[1, 2, 3]"))],
        "huge_args": [resp(200, tool_call("who_knows", json.dumps({"target": "x" * 200_000})))],
        "invented_person_and_email": [resp(200, answer(invented))],
        "invented_person_only": [resp(200, answer(f"Ask {INVENTED_NAMES[2]} at Harbor Freight Lines; she runs ops there."))],
        "invented_after_tool": [resp(200, tool_call("who_knows", '{"target": "harbor.example"}')),
                                resp(200, answer(f"{INVENTED_NAMES[0]} and Priya Natarajan both know Jordan Lee."))],
        "invented_email_only": [resp(200, answer(f"Write to {INVENTED_EMAILS[1]}, they expect you."))],
        "mrkdwn_injection": [resp(200, answer("<!channel> Priya Natarajan knows Jordan Lee <http://evil.example|here>"))],
        "tool_loop": [resp(200, tool_call("who_knows", '{"target": "harbor.example"}'))],
    }


class Endpoint:
    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.calls = 0

    def __call__(self, request: Any) -> Any:
        self.calls += 1
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return step(request)


def chat_model(endpoint: Endpoint, home: Path) -> tuple[Any, Any]:
    import httpx

    from agent.models import make_chat_model
    from warmintro.settings import Settings

    settings = Settings(home=home, openai_base_url="http://llm.local/v1", model="stub-model", model_timeout_s=5)
    model = make_chat_model(settings, http_client=httpx.Client(transport=httpx.MockTransport(endpoint)))
    return settings, model


def data_emails(store: Any) -> set[str]:
    from sqlalchemy import select

    from warmintro.store import models as m

    with store.session() as s:
        out = {str(e).lower() for e in s.scalars(select(m.Contact.email))}
        out |= {str(e).lower() for e in s.scalars(select(m.Person.email))}
        out |= {str(e).lower() for e in s.scalars(select(m.TeamMember.email))}
    return out


def ungrounded(text: str, known_emails: set[str], user_text: str = "") -> list[str]:
    """Invented names or addresses left in `text` (the planted ones, and any address not in the data)."""
    bad = [n for n in INVENTED_NAMES if n.lower() in text.lower()]
    bad += [e for e in EMAIL.findall(text) if e.lower() not in known_emails and e.lower() not in user_text.lower()]
    if "<!channel>" in text or "<http://evil" in text:
        bad.append("unescaped mrkdwn")
    return bad


def agent_cases(store: Any, home: Path) -> Counter[str]:
    from agent.identity import Identity
    from agent.service import AgentService

    known = data_emails(store)
    who_list = [Identity("ae", "U0ALEX", "alex@vendor.example", "Alex Romero"),
                Identity("csm", "U0DANA", "dana@vendor.example", "Dana Whitfield")]
    out: Counter[str] = Counter()
    for name, script in faults().items():
        for who in who_list:
            endpoint = Endpoint(script)
            settings, model = chat_model(endpoint, home)
            service = AgentService(settings, store, model=model, clock=lambda: NOW)
            text = "who knows someone at harbor.example?"
            out["cases"] += 1
            try:
                reply = service.respond(who, f"C1:{name}:{who.role}", text)
            except Exception as exc:
                out["crashes"] += 1
                out[f"crash:{name}:{type(exc).__name__}"] += 1
                continue
            bad = ungrounded(reply.text, known, text)
            if bad:
                out["ungrounded"] += 1
                out[f"ungrounded:{name}"] += 1
            if not reply.text.strip():
                out["lost"] += 1
            out[f"mode:{reply.mode}"] += 1
    return out


def drafter_cases(store: Any, home: Path) -> Counter[str]:
    from warmintro.voice.llm import LLMDrafter
    from warmintro.voice.service import build_facts, profile_for

    with store.session() as s:
        facts = build_facts(s, "priya.natarajan@northwind.example", "jordan.lee@harbor.example", now=NOW)
        profile = profile_for(s, "priya.natarajan@northwind.example")
    known = data_emails(store)
    out: Counter[str] = Counter()
    for name, script in faults().items():
        endpoint = Endpoint(script)
        _settings, model = chat_model(endpoint, home)
        drafter = LLMDrafter(model, name="stub-model", timeout_s=5, retry_wait=False)
        out["cases"] += 1
        try:
            draft = drafter.draft(facts, profile, [])
        except Exception as exc:
            out["crashes"] += 1
            out[f"crash:{name}:{type(exc).__name__}"] += 1
            continue
        text = "\n".join((draft.ask_text, draft.subject, draft.body))
        bad = [b for b in ungrounded(text, known) if b != "unescaped mrkdwn"]
        if bad or draft.violations:
            out["ungrounded"] += 1
            out[f"ungrounded:{name}"] += 1
        if not draft.body.strip() or not draft.ask_text.strip():
            out["lost"] += 1
        out[f"model:{'offline' if draft.model == drafter.fallback.name else 'llm'}"] += 1
    return out


def run(ctx: FaultContext) -> dict[str, int | float]:
    import logging

    from evals.faults.cadence import backend, fresh_database, root_on_path
    from warmintro.importer.run import import_folder
    from warmintro.store.db import Store

    root_on_path()
    for noisy in ("agent", "warmintro.voice", "httpx", "openai", "langchain"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    started = time.perf_counter()
    totals: Counter[str] = Counter()
    detail: Counter[str] = Counter()
    for url in ctx.database_urls[:1] if len(ctx.database_urls) == 1 else ctx.database_urls:
        with fresh_database(ctx, url, "llm") as db:
            store = Store.open(db)
            try:
                folder = ctx.workdir / f"northwind-llm-{backend(url)}"
                shutil.copytree(ROOT / "tests" / "fixtures" / "northwind", folder, dirs_exist_ok=True)
                import_folder(store, folder)
                agent = agent_cases(store, ctx.workdir / "home-llm")
                drafts = drafter_cases(store, ctx.workdir / "home-llm") if backend(url) == "sqlite" else Counter()
            finally:
                store.close()
        for res in (agent, drafts):
            totals["llm_fault_cases"] += res["cases"]
            totals["llm_fault_crashes"] += res["crashes"]
            totals["ungrounded_sent"] += res["ungrounded"]
            totals["llm_fault_lost"] += res["lost"]
        detail.update({f"agent {k}": v for k, v in agent.items() if ":" in k})
        detail.update({f"drafter {k}": v for k, v in drafts.items() if ":" in k})
    ctx.log(f"  llm faults: {dict(totals)} in {time.perf_counter() - started:.1f} s; {dict(detail)}")
    return dict(totals)
