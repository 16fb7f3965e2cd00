"""Deployment: /readyz and /metrics through the real Starlette app, scheduler election through a PostgreSQL
advisory lock (two processes, only one leads), and the compose file's services and healthchecks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from slackapp.app import build_bolt_app
from slackapp.deps import Deps, UnavailableAgent
from warmintro.settings import Settings
from warmintro.store.leader import Leader, lock_key
from web.ops import instrument
from web.server import ROUTE_MODULES, create_web_app

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("WARMINTRO_TEST_DATABASE_URL")


def _client(store, tmp_path: Path, **env: object) -> TestClient:
    settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s",
                        SLACK_API_URL="http://127.0.0.1:9/", **env)  # type: ignore[arg-type]
    deps = Deps(settings=settings, store=store, agent=UnavailableAgent())
    return TestClient(instrument(create_web_app(build_bolt_app(deps), deps)))


@pytest.mark.store
def test_readyz_and_metrics(store, tmp_path):
    assert "web.ops" in ROUTE_MODULES
    from warmintro.metrics import metrics

    def healthz_count() -> float:
        return metrics().registry.get_sample_value(
            "warmintro_http_request_duration_seconds_count", {"method": "GET", "route": "/healthz"}) or 0.0

    before = healthz_count()  # the registry is the process's: other tests' requests count too
    with _client(store, tmp_path) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"ready": True, "checks": {"store": "ok", "vectors": "ok"}}
        client.get("/healthz")
        client.post("/slack/events", content=b"{}")  # unsigned: bolt refuses it, and it is counted
        body = client.get("/metrics")
        assert body.status_code == 200
        assert body.headers["content-type"].startswith("text/plain")
        text = body.text
        assert healthz_count() == before + 2
        assert 'warmintro_http_request_duration_seconds_count{method="GET",route="/healthz"}' in text
        assert 'warmintro_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/readyz"}' in text
        assert 'route="/slack/events",status="401"' in text


def test_readyz_fails_when_the_vector_server_is_down(tmp_path):
    from warmintro.store.db import Store

    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite3'}")
    try:
        with _client(store, tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=9) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["store"] == "ok"
            assert ready.json()["checks"]["vectors"].startswith("unavailable")
            assert client.get("/healthz").status_code == 200  # liveness is not readiness
    finally:
        store.close()


def test_readyz_waits_for_the_warm_up(tmp_path):
    import threading

    from warmintro.store.db import Store
    from warmintro.warmup import Warmup

    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite3'}")
    gate = threading.Event()
    try:
        settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s",
                            SLACK_API_URL="http://127.0.0.1:9/")
        warmup = Warmup(store, lambda: None)  # type: ignore[arg-type]
        warmup.steps = lambda: [("gate", lambda: gate.wait(60) and None)]  # type: ignore[method-assign]
        deps = Deps(settings=settings, store=store, agent=UnavailableAgent(), warmup=warmup.start())
        with TestClient(create_web_app(build_bolt_app(deps), deps)) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["warmup"] == "warming up"
            assert client.get("/healthz").status_code == 200  # alive (and answering) while warming up
            gate.set()
            assert warmup.wait(60)
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"store": "ok", "vectors": "ok", "warmup": "ok"}
    finally:
        gate.set()
        store.close()


def _sample(name: str, labels: dict[str, str]) -> float:
    from warmintro.metrics import metrics

    return metrics().registry.get_sample_value(name, labels) or 0.0


@pytest.mark.store
def test_metrics_count_slack_calls_events_and_llm_usage(store, northwind, tmp_path, tmp_path_factory, monkeypatch):
    """Real code paths, then GET /metrics: Slack Web API requests (a 429 retried, through a client made the way
    bolt makes one per request), an ask opened, an approval, a referral created (once, not on its retry),
    the drafter's and the agent's tokens from the answers' usage metadata, and model fallbacks."""
    import httpx
    from fakes import ScriptedChatModel
    from langchain_core.messages import AIMessage
    from slack_sdk import WebClient
    from test_agent_openai import ALEX, NOW, Endpoint, completion
    from test_drafting import FORMAL, GOOD_ASK, GOOD_NOTE, profile_of

    from agent.models import make_chat_model
    from agent.service import AgentService
    from warmintro.engines.cadence import record_ask
    from warmintro.engines.ledger import create_referral
    from warmintro.flows.approval import approve
    from warmintro.importer.run import import_folder
    from warmintro.program import load_program
    from warmintro.store import models as m
    from warmintro.testing.mock_slack_api import MockSlackAPI
    from warmintro.tokens import ensure_tiktoken_cache
    from warmintro.voice.llm import LLMDrafter

    mock = MockSlackAPI().start()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "tiktoken"))
    ensure_tiktoken_cache(tmp_path_factory.getbasetemp() / "tiktoken")
    import_folder(store, northwind)
    settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s",
                        SLACK_API_URL=mock.api_url)  # type: ignore[call-arg]
    deps = Deps(settings=settings, store=store, agent=UnavailableAgent())
    post = {"method": "chat.postMessage"}
    before = {
        "ok": _sample("warmintro_slack_api_requests_total", post | {"outcome": "ok"}),
        "429": _sample("warmintro_slack_api_requests_total", post | {"outcome": "ratelimited"}),
        "retry": _sample("warmintro_slack_api_retries_total", post | {"reason": "ratelimited"}),
        "slack_error": _sample("warmintro_slack_api_requests_total",
                               {"method": "conversations.info", "outcome": "slack_error"}),
        **{e: _sample("warmintro_events_total", {"event": e}) for e in ("ask_opened", "approval", "referral_created")},
        **{f"{k}:{s}": _sample("warmintro_llm_tokens_total", {"kind": k, "source": s})
           for k in ("prompt", "completion") for s in ("drafter", "agent")},
        "fallback": _sample("warmintro_llm_fallbacks_total", {"source": "agent", "reason": "model_error"}),
        "draft_fallback": _sample("warmintro_llm_fallbacks_total", {"source": "drafter_note", "reason": "model_error"}),
    }
    try:
        with TestClient(instrument(create_web_app(build_bolt_app(deps), deps))) as client:
            # Slack: the app's client, and a per-request one as bolt builds it (a copy of the handler list)
            assert deps.client is not None
            mock.fail_next("chat.postMessage", 429, retry_after=0)
            assert deps.client.chat_postMessage(channel="C1", text="hello")["ok"] is True
            per_request = WebClient(token="xoxb-test", base_url=deps.client.base_url,
                                    retry_handlers=deps.client.retry_handlers.copy())
            assert per_request.chat_postMessage(channel="C1", text="again")["ok"] is True
            mock.fail_next("conversations.info", 200, body={"ok": False, "error": "channel_not_found"})
            with pytest.raises(Exception, match="channel_not_found"):
                per_request.conversations_info(channel="C404")

            # product events: an ask opened, approved, and a referral (created once, its retry not counted)
            with store.session() as s:
                rules = load_program(s).rules
            ask_id = record_ask(store, rules, contact_email="priya.natarajan@northwind.example",
                                asked_at=NOW, channel="slack")
            with store.session() as s:
                ask = s.get(m.Ask, ask_id)
                assert ask is not None
                s.expunge(ask)
            approve(store, settings, ask, [], actor="priya.natarajan@northwind.example", now=NOW)
            for _ in range(2):
                create_referral(store, referrer_email="priya.natarajan@northwind.example",
                                referee_email="newperson@oldmill.example", at=NOW, idempotency_key="ops-metrics-1")

            # the drafter: a fake model whose answers report usage metadata
            fx, _ = FORMAL
            usage = {"input_tokens": 120, "output_tokens": 30, "total_tokens": 150}
            model = ScriptedChatModel.of([AIMessage(content=GOOD_NOTE, usage_metadata=usage),  # type: ignore[arg-type]
                                          AIMessage(content=GOOD_ASK, usage_metadata=usage)])  # type: ignore[arg-type]
            assert LLMDrafter(model, name="scripted", retry_wait=False).draft(fx, profile_of(FORMAL), []).model == "scripted"
            down_model = ScriptedChatModel.of([RuntimeError("reset"), RuntimeError("reset")])
            assert LLMDrafter(down_model, retry_wait=False).draft(fx, profile_of(FORMAL), []).model == "offline"

            # the agent through the real ChatOpenAI client (usage 10 + 5 per answer), then one that falls back
            endpoint = Endpoint([httpx.Response(200, json=completion({"role": "assistant", "content": "Hello."},
                                                                      "stop"))])
            llm_settings = Settings(home=tmp_path, openai_base_url="http://llm.local/v1", model="stub-model")
            chat = make_chat_model(llm_settings, http_client=httpx.Client(transport=httpx.MockTransport(endpoint)))
            AgentService(llm_settings, store, model=chat, clock=lambda: NOW).respond(ALEX, "C1:1", "hello?")
            down = Endpoint([httpx.Response(500, json={"error": {"message": "boom"}})] * 3)
            chat = make_chat_model(llm_settings, http_client=httpx.Client(transport=httpx.MockTransport(down)))
            reply = AgentService(llm_settings, store, model=chat, clock=lambda: NOW).respond(
                ALEX, "C1:2", "who knows someone at harbor.example?")
            assert reply.mode == "offline"

            text = client.get("/metrics").text
    finally:
        mock.stop()

    def delta(key: str, name: str, labels: dict[str, str]) -> float:
        return _sample(name, labels) - before[key]

    assert delta("ok", "warmintro_slack_api_requests_total", post | {"outcome": "ok"}) == 2
    assert delta("429", "warmintro_slack_api_requests_total", post | {"outcome": "ratelimited"}) == 1
    assert delta("retry", "warmintro_slack_api_retries_total", post | {"reason": "ratelimited"}) == 1
    assert delta("slack_error", "warmintro_slack_api_requests_total",
                 {"method": "conversations.info", "outcome": "slack_error"}) == 1
    for event in ("ask_opened", "approval", "referral_created"):
        assert delta(event, "warmintro_events_total", {"event": event}) == 1, event
    assert delta("prompt:drafter", "warmintro_llm_tokens_total", {"kind": "prompt", "source": "drafter"}) == 240
    assert delta("completion:drafter", "warmintro_llm_tokens_total", {"kind": "completion", "source": "drafter"}) == 60
    assert delta("prompt:agent", "warmintro_llm_tokens_total", {"kind": "prompt", "source": "agent"}) == 10
    assert delta("completion:agent", "warmintro_llm_tokens_total", {"kind": "completion", "source": "agent"}) == 5
    assert delta("fallback", "warmintro_llm_fallbacks_total", {"source": "agent", "reason": "model_error"}) == 1
    assert delta("draft_fallback", "warmintro_llm_fallbacks_total",
                 {"source": "drafter_note", "reason": "model_error"}) == 1
    for series in ('warmintro_slack_api_requests_total{method="chat.postMessage",outcome="ratelimited"}',
                   'warmintro_slack_api_retries_total{method="chat.postMessage",reason="ratelimited"}',
                   'warmintro_events_total{event="referral_created"}', 'warmintro_events_total{event="approval"}',
                   'warmintro_events_total{event="ask_opened"}',
                   'warmintro_llm_tokens_total{kind="prompt",source="drafter"}',
                   'warmintro_llm_fallbacks_total{reason="model_error",source="agent"}'):
        assert series in text, series


def test_counting_without_a_server_does_nothing():
    """The engines count through warmintro.metrics; with no sink (the CLI) that is a no-op, and a sink that
    fails never breaks the caller."""
    from warmintro import metrics as hook

    previous = hook.set_sink(None)
    try:
        hook.count("ask_opened")  # nothing registered: nothing happens
        seen: list[tuple[str, float, dict[str, str]]] = []
        hook.set_sink(lambda e, n, labels: seen.append((e, n, labels)))
        hook.count("llm_tokens", 3, kind="prompt", source="x")
        hook.count("llm_tokens", 0, kind="completion", source="x")  # zero is not counted
        assert seen == [("llm_tokens", 3, {"kind": "prompt", "source": "x"})]

        def boom(*_: object) -> None:
            raise RuntimeError("sink down")

        hook.set_sink(boom)
        hook.count("approval")  # swallowed
    finally:
        hook.set_sink(previous)


def test_sqlite_always_leads(tmp_path):
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    a, b = Leader(engine), Leader(engine)
    assert a.try_lead() and b.try_lead()
    a.release()
    engine.dispose()
    assert lock_key("warmintro.scheduler") == lock_key("warmintro.scheduler") != lock_key("other")


CONTENDER = """
import sys, time
from sqlalchemy import create_engine
from warmintro.store.leader import Leader
engine = create_engine(sys.argv[1].replace("postgresql://", "postgresql+psycopg://", 1))
leader = Leader(engine, sys.argv[2])
print("leads" if leader.try_lead() else "follows", flush=True)
sys.stdin.readline()  # hold (or not) until told to stop
leader.release()
print("released", flush=True)
"""


@pytest.mark.skipif(not PG, reason="WARMINTRO_TEST_DATABASE_URL not set")
def test_two_processes_only_one_leads(tmp_path):
    """Two replicas race for the scheduler on PostgreSQL: one leads, the other follows; when the leader stops
    (or dies), the follower takes over on its next try."""
    from sqlalchemy import create_engine

    assert PG
    name = f"test.scheduler.{os.getpid()}.{tmp_path.name}"
    script = tmp_path / "contender.py"
    script.write_text(CONTENDER, encoding="utf-8")
    procs = [subprocess.Popen([sys.executable, str(script), PG, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=ROOT) for _ in range(2)]
    try:
        first = [p.stdout.readline().strip() for p in procs if p.stdout]
        assert sorted(first) == ["follows", "leads"], first
        engine = create_engine(PG.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            third = Leader(engine, name)
            assert third.try_lead() is False  # the lock is held by the leading process
            leader = procs[first.index("leads")]
            assert leader.stdin and leader.stdout
            leader.kill()  # a replica that dies frees the lock with its connection
            leader.wait(timeout=30)
            took_over = False
            for _ in range(200):  # the server notices the closed connection promptly; bounded retries
                if third.try_lead():
                    took_over = True
                    break
                import time

                time.sleep(0.05)
            assert took_over
            assert third.try_lead() is True  # still leading: idempotent
            third.release()
        finally:
            engine.dispose()
    finally:
        for p in procs:
            if p.poll() is None:
                assert p.stdin
                p.stdin.write("\n")
                p.stdin.flush()
                p.wait(timeout=30)


def _interpolate(text: str, env: dict[str, str]) -> str:
    """What `docker compose config` does to ${VAR}, ${VAR:-default} and $$ (the compose spec's rules)."""
    import re

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, default = m.group(1), m.group(3)
        return env.get(name) or (default if default is not None else "")

    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", sub, text)


def test_compose_services_and_healthchecks():
    raw = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(raw)["services"]
    compose = yaml.safe_load(_interpolate(raw, {}))
    assert yaml.safe_load(_interpolate(raw, {"WARMINTRO_REPLICAS": "7"}))["services"]["bot"]["deploy"]["replicas"] == 7
    services = compose["services"]
    assert {"bot", "postgres", "chroma", "proxy", "migrate"} <= set(services)
    bot = services["bot"]
    assert bot["deploy"]["replicas"] >= 2
    assert "ports" not in bot  # replicas share the one port the proxy publishes
    env = bot["environment"]
    assert env["WARMINTRO_DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["WARMINTRO_DATABASE_URL"]
    assert env["CHROMA_HOST"] == "chroma"
    assert "/readyz" in " ".join(bot["healthcheck"]["test"])
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert bot["depends_on"]["chroma"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["chroma"]["healthcheck"]["test"]
    assert services["proxy"]["ports"] and services["proxy"]["depends_on"]["bot"]["condition"] == "service_healthy"
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["warmintro", "migrate"]
    proxy_conf = compose["configs"]["nginx"]["content"]
    assert "server bot:3000 resolve" in proxy_conf and "listen 3000" in proxy_conf
    assert "proxy_set_header Host $host;" in proxy_conf  # $$ escapes nginx's variables from compose
    for name, service in services.items():  # every long-running service says when it is healthy
        if name != "migrate":
            assert service["healthcheck"]["test"], name
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.startswith("# syntax=") or "FROM python:3.11-slim" in dockerfile
    assert "USER " in dockerfile and "HEALTHCHECK" in dockerfile
    assert "HF_HUB_OFFLINE=1" in dockerfile
