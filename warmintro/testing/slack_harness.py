"""The Slack app harness: a mock Slack Web API, a fake agent service, a small imported workspace, and the real
Starlette app served by a real uvicorn server on a free port. Requests are signed exactly as Slack signs them
(v0 HMAC-SHA256 over "v0:{timestamp}:{raw body}"). The pytest fixtures over it are in tests/slackfixtures.py;
the fault suite uses it directly."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
import uvicorn
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import delete

from agent.identity import Identity
from agent.types import AgentReply, PendingAction
from slackapp.app import build_bolt_app
from slackapp.deps import Deps
from warmintro.settings import Settings
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.databases import postgres_schema
from warmintro.testing.mock_slack_api import TEAM_ID, MockSlackAPI
from warmintro.testing.workspace import Workspace
from web.server import create_web_app

ROOT = Path(__file__).resolve().parents[2]  # the repository
SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token-0000"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)

DANA, OMAR, ALEX = "U0DANA", "U0OMAR", "U0ALEX"
PRIYA = "U0PRIYA"


# ---------------------------------------------------------------------------------------------------
# Fake agent service (the shape of agent.service.AgentService)


class FakeAgent:
    def __init__(self) -> None:
        self.calls: list[tuple[Identity, str, str]] = []
        self.decisions: list[tuple[Identity, str, str, bool]] = []
        self.decided: dict[str, bool] = {}
        self.next_pending: PendingAction | None = None
        self.next_text: str | None = None
        self._lock = threading.Lock()

    def respond(self, who: Identity, thread_id: str, text: str, *, stream: Any = None) -> AgentReply:
        with self._lock:
            self.calls.append((who, thread_id, text))
            pending, self.next_pending = self.next_pending, None
            reply_text, self.next_text = self.next_text, None
        return AgentReply(text=reply_text or f"Here is what I found for you ({who.role}).", pending=pending)

    def decide(self, who: Identity, thread_id: str, action_id: str, approve: bool) -> AgentReply:
        with self._lock:
            self.decisions.append((who, thread_id, action_id, approve))
            if action_id in self.decided:
                state = "approved" if self.decided[action_id] else "cancelled"
                return AgentReply(text=f"Already decided: {state}.")
            self.decided[action_id] = approve
        return AgentReply(text="Done: the ask is recorded." if approve else "Cancelled; nothing changed.")


# ---------------------------------------------------------------------------------------------------
# Signing and posting


def signed_headers(body: str, *, secret: str = SECRET, timestamp: int | None = None,
                   content_type: str = "application/json") -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or ""
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


def event_body(event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID) -> str:
    return json.dumps({
        "token": "legacy", "team_id": team_id, "api_app_id": "A0APP", "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
        "event": event, "authorizations": [{"team_id": team_id, "user_id": "U0BOT", "is_bot": True}],
    })


def mention(user: str, text: str = "<@U0BOT> who knows someone at Stripe?", *, channel: str = "C0SALES",
            ts: str = "1764061200.000100", thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel,
             "event_ts": ts, "team": TEAM_ID}
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return event


def form_body(fields: dict[str, Any]) -> str:
    return urlencode(fields)


def action_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


@dataclass
class Harness:
    mock: MockSlackAPI
    deps: Deps
    agent: FakeAgent
    base_url: str
    http: httpx.Client
    bolt_app: Any = None
    stop: list[Any] = field(default_factory=list)

    def drain(self) -> None:
        """Wait until every ack and lazy listener started so far has finished (a barrier, not a sleep)."""
        self.bolt_app.listener_runner.listener_executor.shutdown(wait=True)

    def post(self, body: str, *, content_type: str = "application/json", headers: dict[str, str] | None = None,
             timestamp: int | None = None, secret: str = SECRET) -> httpx.Response:
        h = signed_headers(body, secret=secret, timestamp=timestamp, content_type=content_type)
        h.update(headers or {})
        return self.http.post(self.base_url + "/slack/events", content=body.encode("utf-8"), headers=h)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.post(event_body(event, event_id=event_id), headers=headers)

    def command(self, user: str, text: str, *, name: str = "cmd") -> httpx.Response:
        return self.post(form_body({
            "token": "legacy", "team_id": TEAM_ID, "team_domain": "vendor", "channel_id": "C0SALES",
            "channel_name": "sales", "user_id": user, "user_name": user.lower(), "command": "/referrals",
            "text": text, "api_app_id": "A0APP", "response_url": self.mock.response_url(name),
            "trigger_id": "1.2.3",
        }), content_type="application/x-www-form-urlencoded")

    def action(self, payload: dict[str, Any]) -> httpx.Response:
        return self.post(action_body(payload), content_type="application/x-www-form-urlencoded")


def click(user: str, action: dict[str, Any], *, container: dict[str, Any] | None = None,
          view: dict[str, Any] | None = None, message: dict[str, Any] | None = None,
          response_url: str | None = None, team_id: str = TEAM_ID) -> dict[str, Any]:
    """A block_actions payload for one clicked element (as Slack sends it)."""
    payload: dict[str, Any] = {
        "type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": team_id},
        "api_app_id": "A0APP", "token": "legacy", "trigger_id": "1.2.3",
        "team": {"id": TEAM_ID, "domain": "vendor"},
        "container": container or {"type": "view", "view_id": "V0VIEW"},
        "actions": [{"action_ts": "1764061200.1", **action}],
    }
    if view is not None:
        payload["view"] = view
    if message is not None:
        payload["message"] = message
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def home_click(user: str, element: dict[str, Any], block_id: str,
               view: dict[str, Any] | None = None) -> dict[str, Any]:
    """A click on an element of the App Home (taken from a published view; `view`: that view, which Slack
    sends with the click, with its id and hash)."""
    action = {"action_id": element["action_id"], "block_id": block_id, "type": element["type"]}
    if "value" in element:
        action["value"] = element["value"]
    return click(user, action, view={"type": "home", "blocks": [], **(view or {}), "id": "V0VIEW"})


# ---------------------------------------------------------------------------------------------------
# A small workspace


def small_workspace(*, s2_notes: str = "<@U0DANA> great") -> Workspace:
    """Three accounts, two CSMs and an AE on Slack, three promoters, Priya's network of two; `s2_notes`: the
    text of Sam's NPS note (the fault suite makes it hostile)."""
    ws = Workspace()
    ws.account("A", name="Northwind Logistics", domain="northwind.example", industry="Logistics", employees=1200,
               csm_email="dana@vendor.example")
    ws.account("B", name="Bluebird & Co <Foods>", domain="bluebird.example", industry="Logistics", employees=400,
               csm_email="dana@vendor.example")
    ws.account("C", name="Kestrel Health", domain="kestrel.example", industry="Logistics", employees=300,
               csm_email="omar@vendor.example")
    ws.contact("priya@northwind.example", "A", name="Priya Natarajan", title="VP Operations",
               crm_role="economic_buyer", slack_user_id=PRIYA)
    ws.contact("sam@bluebird.example", "B", name="Sam <!channel> Okafor", title="Operations Analyst")
    ws.contact("mei@kestrel.example", "C", name="Mei Chen", title="Head of RevOps", slack_user_id="U0MEI")
    for acc, email in (("A", "priya@northwind.example"), ("B", "sam@bluebird.example"), ("C", "mei@kestrel.example")):
        ws.daily_usage(acc, email, days=45, end=NOW)
    ws.signal("S1", "A", "nps", NOW - 18 * H, contact_email="priya@northwind.example", score=10,
              notes="Cut our dispatch planning from 3 hours to 20 minutes")
    ws.signal("S2", "B", "nps", NOW - 3 * H, contact_email="sam@bluebird.example", score=9, notes=s2_notes)
    ws.signal("S3", "C", "nps", NOW - 5 * H, contact_email="mei@kestrel.example", score=10)
    for email, name, role, slack in (("dana@vendor.example", "Dana Whitfield", "csm", DANA),
                                     ("omar@vendor.example", "Omar Haddad", "csm", OMAR),
                                     ("alex@vendor.example", "Alex Romero", "ae", ALEX)):
        ws.add("team.csv", email=email, name=name, role=role, slack_user_id=slack)
    # Priya's network: two people who fit the ICP
    for email, name, company, domain, title in (
            ("jo@acme-freight.example", "Jo Park", "Acme Freight", "acme-freight.example", "VP Operations"),
            ("lee@roadrunner.example", "Lee Fox", "Roadrunner", "roadrunner.example", "Director of Logistics")):
        ws.add("people.csv", email=email, name=name, company=company, domain=domain, title=title,
               seniority="vp" if "VP" in title else "director", function="ops", industry="Logistics",
               company_employees=900)
        ws.add("relationships.csv", a_email="priya@northwind.example", b_email=email, kind="coworker", weight=12,
               first_at=NOW - timedelta(days=900), last_at=NOW - timedelta(days=30))
    return ws


# ---------------------------------------------------------------------------------------------------
# Servers


def serve(app: Any, *, log_level: str = "warning", start_timeout: float = 10.0, thread_name: str = "uvicorn",
          lifespan: Literal["auto", "on", "off"] = "off") -> tuple[uvicorn.Server, threading.Thread, int]:
    """`app` on uvicorn on a free port, in a thread: (server, thread, port) once it accepts connections.
    `lifespan="on"` for apps that run something while they serve (the MCP endpoint's session manager)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan=lifespan, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=thread_name, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)  # start-up poll, not a wait on the app's behaviour
    return server, thread, port


def make_settings(mock: MockSlackAPI, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", slack_bot_token=SecretStr(TOKEN), slack_signing_secret=SecretStr(SECRET),
                    slack_api_url=mock.api_url)


def make_deps(store: Store, mock: MockSlackAPI, tmp_path: Path, agent: FakeAgent | None = None) -> Deps:
    return Deps(settings=make_settings(mock, tmp_path), store=store, agent=agent or FakeAgent(), clock=lambda: NOW)


def reset(store: Store) -> None:
    """Remove everything the Slack app writes, leaving the imported workspace as it was."""
    with store.session() as s:
        s.execute(delete(m.SlackEvent))
        s.execute(delete(m.CadenceLock))
        s.execute(delete(m.Ask))
        s.execute(delete(m.ReferralEvent))
        s.execute(delete(m.Referral))
        s.execute(delete(m.PendingActionRow))
        s.execute(delete(m.SlackJob))
        s.execute(delete(m.AgentFeedback))
        s.execute(delete(m.AuditLog).where(m.AuditLog.action != "import"))


def start_harness(store: Store, mock: MockSlackAPI, tmp_path: Path) -> Harness:
    agent = FakeAgent()
    deps = make_deps(store, mock, tmp_path, agent)
    bolt_app = build_bolt_app(deps)
    server, thread, port = serve(create_web_app(bolt_app, deps))
    harness = Harness(mock, deps, agent, f"http://127.0.0.1:{port}", httpx.Client(timeout=10), bolt_app)
    harness.stop = [server, thread]
    return harness


def stop_harness(h: Harness) -> None:
    server, thread = h.stop
    h.http.close()
    h.drain()  # nothing may still write to the store when it is reset
    server.should_exit = True
    thread.join(timeout=10)


@contextmanager
def slack_database(backend: str, tmp: Path, pg_url: str | None = None) -> Iterator[tuple[str, Store]]:
    """The small workspace imported into a fresh database: a SQLite file under `tmp`, or on PostgreSQL (`pg_url`)
    a schema of its own, dropped at the end."""
    with ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp / 'store.sqlite3'}"
        else:
            assert pg_url, "PostgreSQL needs a server URL"
            url = stack.enter_context(postgres_schema(pg_url))
        store = Store.open(url)
        stack.callback(store.close)
        small_workspace().load(store, tmp / "ws")
        yield url, store
