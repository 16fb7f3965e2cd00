"""`slack_ack`: 50 concurrent signed app_mention events through the real HTTP app (uvicorn + Starlette +
bolt, with the dedupe and identity middleware on the benchmark's store) against a mock Web API; the
time from sending each request to its HTTP answer (the ack), against Slack's 3,000 ms limit."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.util import log, pct
from benchmarks.workspace import Workspace
from warmintro.testing.mock_slack_api import TEAM_ID, MockSlackAPI

SECRET = "bench-signing-secret"
CONCURRENCY = 50
SLACK_LIMIT_MS = 3000.0


class _Agent:
    """The agent service's shape, answering at once (the benchmark measures the ack, not the agent)."""

    def respond(self, who: Any, thread_id: str, text: str, *, stream: Any = None) -> Any:
        from agent.types import AgentReply

        return AgentReply(text="Here is what I found.")

    def decide(self, who: Any, thread_id: str, action_id: str, approve: bool) -> Any:
        from agent.types import AgentReply

        return AgentReply(text="Done.")


def _serve(app: Any) -> tuple[Any, threading.Thread, int]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                           backlog=512))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="bench-uvicorn")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return server, thread, port


def _body(user: str, i: int) -> str:
    ts = f"{1764061200 + i}.000100"
    return json.dumps({
        "token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0APP", "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}", "event_time": int(time.time()),
        "event": {"type": "app_mention", "user": user, "text": "<@U0BOT> who knows someone at Stripe?",
                  "ts": ts, "channel": "C0SALES", "event_ts": ts, "team": TEAM_ID},
        "authorizations": [{"team_id": TEAM_ID, "user_id": "U0BOT", "is_bot": True}],
    })


def run(ws: Workspace) -> dict[str, Any]:
    import httpx
    from slack_sdk.signature import SignatureVerifier
    from sqlalchemy import select

    from slackapp.app import build_bolt_app
    from slackapp.deps import Deps
    from warmintro.settings import Settings
    from warmintro.store import models as m
    from web.server import create_web_app

    with ws.store.session() as s:
        team = [(u, e) for e, u in s.execute(select(m.TeamMember.email, m.TeamMember.slack_user_id)) if u]
    if not team:
        raise RuntimeError("no team member with a slack_user_id to mention the bot")
    mock = MockSlackAPI().start()
    for uid, email in team:
        mock.add_user(uid, email)
    settings = Settings(WARMINTRO_HOME=ws.dir / "slack-home", SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET,
                        SLACK_API_URL=mock.api_url)
    deps = Deps(settings=settings, store=ws.store, agent=_Agent(), clock=lambda: ws.as_of)
    bolt = build_bolt_app(deps)
    server, thread, port = _serve(create_web_app(bolt, deps))
    url = f"http://127.0.0.1:{port}/slack/events"
    verifier = SignatureVerifier(SECRET)
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY * 2)
    client = httpx.Client(timeout=30, limits=limits)
    samples: list[float] = []
    statuses: dict[int, int] = {}
    posted = 0
    try:
        def one(args: tuple[int, threading.Barrier]) -> tuple[int, float]:
            i, barrier = args
            user = team[i % len(team)][0]
            body = _body(user, i)
            ts = str(int(time.time()))
            headers = {"X-Slack-Request-Timestamp": ts, "Content-Type": "application/json",
                       "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body)}
            barrier.wait()
            t0 = time.perf_counter()
            r = client.post(url, content=body.encode(), headers=headers)
            return r.status_code, (time.perf_counter() - t0) * 1000.0

        # warm-up: one request (bolt's first auth.test, identity caches), not counted
        one((0, threading.Barrier(1)))
        mock.wait_for_count("chat.postMessage", 1, 30)
        posted = mock.count("chat.postMessage")
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            for r in range(ws.size.slack_rounds):
                barrier = threading.Barrier(CONCURRENCY)
                got = list(pool.map(one, [(1 + r * CONCURRENCY + i, barrier) for i in range(CONCURRENCY)]))
                for code, ms in got:
                    statuses[code] = statuses.get(code, 0) + 1
                    samples.append(ms)
                posted += CONCURRENCY
                mock.wait_for_count("chat.postMessage", posted, 60)  # let the lazy answers finish between rounds
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)
        bolt.listener_runner.listener_executor.shutdown(wait=True)
        mock.stop()
    p99 = pct(samples, 99)
    log(f"slack_ack: p99 {p99:.1f} ms over {len(samples)} requests")
    return {"value": p99, "unit": "ms (p99)", "p50_ms": pct(samples, 50), "p95_ms": pct(samples, 95),
            "max_ms": max(samples), "baseline_value": SLACK_LIMIT_MS, "baseline_name": "Slack's 3,000 ms ack limit",
            "ratio": SLACK_LIMIT_MS / p99, "ratio_meaning": "limit / ours p99", "n": len(samples),
            "concurrency": CONCURRENCY, "rounds": ws.size.slack_rounds, "statuses": statuses,
            "answers_posted": mock.count("chat.postMessage"), "target": "p99 < 50 ms"}
