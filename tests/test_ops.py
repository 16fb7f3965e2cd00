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
from slackapp.ops import instrument
from slackapp.server import ROUTE_MODULES, create_web_app
from warmintro.settings import Settings
from warmintro.store.leader import Leader, lock_key

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("WARMINTRO_TEST_DATABASE_URL")


def _client(store, tmp_path: Path, **env: object) -> TestClient:
    settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s",
                        SLACK_API_URL="http://127.0.0.1:9/", **env)  # type: ignore[arg-type]
    deps = Deps(settings=settings, store=store, agent=UnavailableAgent())
    return TestClient(instrument(create_web_app(build_bolt_app(deps), deps)))


@pytest.mark.store
def test_readyz_and_metrics(store, tmp_path):
    assert "slackapp.ops" in ROUTE_MODULES
    from slackapp.ops import metrics

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
