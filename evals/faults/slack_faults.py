"""Slack faults, against the real Starlette + bolt app served by uvicorn on 127.0.0.1 and a real store
(SQLite, and PostgreSQL when reachable), with the shared mock Slack Web API (warmintro/testing/mock_slack_api.py, which can also reset
connections):

- `forged_requests` / `forged_accepted`: signed-request variants Slack would never send (wrong secret, old
  and future timestamps, altered bodies, missing headers, malformed signatures, replays of an old signature)
  for events, slash commands and button clicks; accepted = any 2xx, or any effect (agent call, post, store row).
- `duplicate_posts`: 429 with Retry-After, 5xx and connection resets on chat.postMessage, retried events
  (X-Slack-Retry-Num, same event_id, also concurrently), double clicks on a champion's Approve and on an
  agent's pending-action Approve: each message is posted once and each click recorded once.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from evals.faults import FaultContext

ROOT = Path(__file__).resolve().parents[2]
SECRET = "faults-signing-secret"
TOKEN = "xoxb-faults-token-0000"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
TEAM_ID = "T0VENDOR"
DANA, OMAR, ALEX, PRIYA, MEI = "U0DANA", "U0OMAR", "U0ALEX", "U0PRIYA", "U0MEI"
EXTERNAL = "U0EXTERN"  # a Slack Connect user from another organisation
USERS = {DANA: "dana@vendor.example", OMAR: "omar@vendor.example", ALEX: "alex@vendor.example",
         PRIYA: "priya@northwind.example", MEI: "mei@kestrel.example"}


# ---------------------------------------------------------------------------------------------------
# The mock Slack Web API, plus connection resets


def start_mock() -> Any:
    """The shared mock Slack Web API (warmintro.testing.mock_slack_api; `reset_next` resets a connection) with
    the workspace's users and a Slack Connect guest."""
    from warmintro.testing.mock_slack_api import MockSlackAPI

    mock = MockSlackAPI().start()
    for uid, email in USERS.items():
        mock.add_user(uid, email)
    mock.add_user(EXTERNAL, "guest@elsewhere.example", team_id="T0CUSTOMER")  # Slack Connect, not a contact
    return mock


# ---------------------------------------------------------------------------------------------------
# A small workspace (as warmintro/testing/slack_harness.py builds it), with hostile text in names and notes


def small_workspace() -> Any:
    """The Slack tests' small workspace (warmintro.testing.slack_harness), with hostile text in Sam's NPS note."""
    from warmintro.testing.slack_harness import small_workspace as tests_workspace

    return tests_workspace(s2_notes="<!channel> =HYPERLINK(\"http://evil.example\",\"click\") great")


def reset(store: Any) -> None:
    """Remove everything the Slack app writes, leaving the imported workspace as it was (the Slack tests'
    own reset, so the two never drift apart)."""
    from evals.faults.import_fuzz import slack_conftest

    slack_conftest().reset(store)


# ---------------------------------------------------------------------------------------------------
# The app over HTTP


class RecordingAgent:
    """The shape of agent.service.AgentService; records every call (forged requests must cause none)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, str, str]] = []
        self.decisions: list[tuple[Any, str, str, bool]] = []
        self._lock = threading.Lock()

    def respond(self, who: Any, thread_id: str, text: str, *, stream: Any = None) -> Any:
        from agent.types import AgentReply

        with self._lock:
            self.calls.append((who, thread_id, text))
        return AgentReply(text=f"Here is what I found for you ({who.role}).")

    def decide(self, who: Any, thread_id: str, action_id: str, approve: bool) -> Any:
        from agent.types import AgentReply

        with self._lock:
            self.decisions.append((who, thread_id, action_id, approve))
        return AgentReply(text="Done.")


def serve(app: Any, *, lifespan: Literal["auto", "on", "off"] = "off") -> tuple[Any, threading.Thread, int]:
    """`app` on a free port of 127.0.0.1 in a thread: (the uvicorn server, its thread, the port).
    `lifespan="on"` for apps that run something while they serve (the MCP endpoint's session manager)."""
    from warmintro.testing.slack_harness import serve as serve_app

    # log_level critical: the faults' own 5xx are counted (forged_server_errors), not printed
    return serve_app(app, log_level="critical", start_timeout=15, thread_name="uvicorn-faults", lifespan=lifespan)


def signature(body: str, ts: str, secret: str = SECRET) -> str:
    """Slack's v0 signature: HMAC-SHA256 over "v0:{timestamp}:{raw body}" (any secret, even an empty one)."""
    import hashlib
    import hmac

    digest = hmac.new(secret.encode("utf-8"), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(body: str, *, secret: str = SECRET, timestamp: int | None = None,
                   content_type: str = "application/json") -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(body, ts, secret),
            "Content-Type": content_type}


def event_body(event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID) -> str:
    from warmintro.testing.slack_harness import event_body as harness_event_body

    return harness_event_body(event, event_id=event_id, team_id=team_id)


def mention(user: str, text: str = "<@U0BOT> who knows someone at Acme Freight?", *, channel: str = "C0SALES",
            ts: str | None = None, **extra: Any) -> dict[str, Any]:
    ts = ts or f"{int(time.time())}.{uuid.uuid4().int % 10**6:06d}"
    event = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts,
             "team": TEAM_ID}
    event.update(extra)
    return event


def command_body(user: str, text: str, response_url: str, team_id: str = TEAM_ID) -> str:
    return urlencode({"token": "legacy", "team_id": team_id, "team_domain": "vendor", "channel_id": "C0SALES",
                      "channel_name": "sales", "user_id": user, "user_name": user.lower(), "command": "/referrals",
                      "text": text, "api_app_id": "A0APP", "response_url": response_url, "trigger_id": "1.2.3"})


def click(user: str, action: dict[str, Any], *, container: dict[str, Any] | None = None,
          view: dict[str, Any] | None = None, message: dict[str, Any] | None = None,
          response_url: str | None = None, team_id: str = TEAM_ID, channel: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": team_id},
        "api_app_id": "A0APP", "token": "legacy", "trigger_id": "1.2.3", "team": {"id": TEAM_ID, "domain": "vendor"},
        "container": container or {"type": "view", "view_id": "V0VIEW"}, "actions": [{"action_ts": "1.1", **action}],
    }
    for key, value in (("view", view), ("message", message), ("response_url", response_url)):
        if value is not None:
            payload[key] = value
    if channel:
        payload["channel"] = {"id": channel}
    return payload


def action_body(payload: dict[str, Any]) -> str:
    from warmintro.testing.slack_harness import action_body as harness_action_body

    return harness_action_body(payload)


@dataclass
class Harness:
    mock: Any
    deps: Any
    agent: Any
    base_url: str
    http: Any
    bolt_app: Any
    stop_: list[Any] = field(default_factory=list)
    server_error_variants: list[str] = field(default_factory=list)

    def post_raw(self, body: str | bytes, headers: dict[str, str]) -> Any:
        content = body.encode("utf-8") if isinstance(body, str) else body
        return self.http.post(self.base_url + "/slack/events", content=content, headers=headers)

    def post(self, body: str, *, content_type: str = "application/json", headers: dict[str, str] | None = None) -> Any:
        h = signed_headers(body, content_type=content_type)
        h.update(headers or {})
        return self.post_raw(body, h)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, headers: dict[str, str] | None = None) -> Any:
        return self.post(event_body(event, event_id=event_id), headers=headers)

    def action(self, payload: dict[str, Any]) -> Any:
        return self.post(action_body(payload), content_type="application/x-www-form-urlencoded")

    def command(self, user: str, text: str, *, name: str = "cmd", team_id: str = TEAM_ID) -> Any:
        return self.post(command_body(user, text, self.mock.response_url(name), team_id),
                         content_type="application/x-www-form-urlencoded")

    def drain(self) -> None:
        """Wait for every ack and lazy listener started so far (the executor is shut down: stop after this)."""
        self.bolt_app.listener_runner.listener_executor.shutdown(wait=True)

    def stop(self) -> None:
        server, thread = self.stop_
        self.http.close()
        self.drain()
        server.should_exit = True
        thread.join(timeout=10)


def start_harness(store: Any, mock: Any, home: Path, agent: Any | None = None) -> Harness:
    import httpx

    from evals.faults.cadence import root_on_path

    root_on_path()
    from slackapp.app import build_bolt_app
    from slackapp.deps import Deps
    from warmintro.settings import Settings
    from web.server import create_web_app

    settings = Settings(WARMINTRO_HOME=home, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
                        SLACK_API_URL=mock.api_url)
    if agent == "real":
        from agent.service import AgentService

        agent = AgentService(settings, store, clock=lambda: NOW)
    agent = agent or RecordingAgent()
    deps = Deps(settings=settings, store=store, agent=agent, clock=lambda: NOW)
    bolt_app = build_bolt_app(deps)
    server, thread, port = serve(create_web_app(bolt_app, deps))
    return Harness(mock, deps, agent, f"http://127.0.0.1:{port}", httpx.Client(timeout=20), bolt_app, [server, thread])


@contextlib.contextmanager
def harness(store: Any, mock: Any, home: Path, agent: Any | None = None) -> Iterator[Harness]:
    reset(store)
    mock.clear()
    h = start_harness(store, mock, home, agent)
    try:
        yield h
    finally:
        h.stop()
        reset(store)


def store_effects(store: Any) -> int:
    """Rows the app writes on a request (asks, referrals, pending actions, event claims, audit)."""
    from sqlalchemy import func, select

    from warmintro.store import models as m

    with store.session() as s:
        return sum(int(s.scalar(select(func.count()).select_from(t)) or 0) for t in (
            m.SlackEvent, m.Ask, m.Referral, m.PendingActionRow)) + int(s.scalar(
                select(func.count()).select_from(m.AuditLog).where(m.AuditLog.action != "import")) or 0)


# ---------------------------------------------------------------------------------------------------
# Forged and stale requests


def forged_variants(mock: Any) -> list[tuple[str, bytes, dict[str, str]]]:
    """(name, body, headers): each one a request Slack never sent."""
    now = int(time.time())
    bodies = {
        "event": (event_body(mention(ALEX)), "application/json"),
        "command": (command_body(DANA, "who-knows Acme Freight", mock.response_url("forged")),
                    "application/x-www-form-urlencoded"),
        "action": (action_body(click(DANA, {"action_id": "home_refresh", "block_id": "b", "value": "x",
                                            "type": "button"})), "application/x-www-form-urlencoded"),
    }
    out: list[tuple[str, bytes, dict[str, str]]] = []
    for kind, (body, ctype) in bodies.items():
        def add(name: str, headers: dict[str, str], raw: str | bytes = body, *, k: str = kind,
                ctype: str = ctype) -> None:
            h = {"Content-Type": ctype, **headers}
            out.append((f"{k}:{name}", raw.encode("utf-8") if isinstance(raw, str) else raw, h))

        ts = str(now)
        good = signature(body, ts)
        for i, secret in enumerate(["", "wrong", SECRET.upper(), SECRET + " ", " " + SECRET, SECRET[:-1],
                                    SECRET + "x", "xoxb-faults-token-0000"]):
            add(f"wrong_secret_{i}", {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(body, ts, secret)})
        # a minute past the 5-minute window each way, so the seconds the run takes cannot bring one back inside
        for delta in (-360, -600, -3600, -86400, -10 * 365 * 86400, 360, 900, 86400):
            t = str(now + delta)
            add(f"timestamp_{delta:+d}", {"X-Slack-Request-Timestamp": t, "X-Slack-Signature": signature(body, t)})
        for name, t in (("zero", "0"), ("negative", "-1"), ("huge", "99999999999999"), ("text", "yesterday"),
                        ("float", f"{now}.5"), ("inner_space", f"{now} 1"), ("empty", "")):
            add(f"timestamp_{name}", {"X-Slack-Request-Timestamp": t, "X-Slack-Signature": signature(body, t)})
        # a valid signature over the current timestamp, sent with another timestamp (and the reverse)
        add("timestamp_swapped", {"X-Slack-Request-Timestamp": str(now - 1), "X-Slack-Signature": good})
        altered = [body.replace("e", "E", 1), body + " ", " " + body, body[:-1], body + "&x=1", body.replace("U0", "U1", 1),
                   body.upper(), body[: len(body) // 2], ""]
        for i, b_ in enumerate(altered):
            add(f"altered_body_{i}", {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": good}, b_)
        add("missing_signature", {"X-Slack-Request-Timestamp": ts})
        add("missing_timestamp", {"X-Slack-Signature": good})
        add("missing_both", {})
        hexpart = good.split("=", 1)[1]
        for name, sig in (("v1_prefix", "v1=" + hexpart), ("no_prefix", hexpart), ("empty_hex", "v0="),
                          ("not_hex", "v0=" + "z" * 64), ("upper_hex", "v0=" + hexpart.upper()),
                          ("double_prefix", "v0=" + good), ("short", good[:-2]), ("long", good + "00"),
                          ("inner_space", "v0= " + hexpart), ("empty", ""), ("sha1_length", "v0=" + hexpart[:40]),
                          ("base64", "v0=" + "A" * 44)):
            add(f"bad_signature_{name}", {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
        # replay: a signature that was valid 10 minutes ago, sent again as it was, or with a fresh timestamp
        old = str(now - 600)
        old_sig = signature(body, old)
        add("replay_old", {"X-Slack-Request-Timestamp": old, "X-Slack-Signature": old_sig})
        add("replay_fresh_timestamp", {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": old_sig})
        add("replay_other_body", {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(
            event_body(mention(ALEX, "hello")), ts)})
    return out


def forged(h: Harness) -> dict[str, int]:
    variants = forged_variants(h.mock)
    accepted = server_errors = 0
    rejected: Counter[int] = Counter()
    import httpx

    for _name, body, headers in variants:
        try:
            status = h.post_raw(body, headers).status_code
        except httpx.TransportError:  # the server dropped the connection: not accepted, but not a clean 4xx
            status = 599
        if status < 400:
            accepted += 1
            h.server_error_variants.append(f"ACCEPTED {_name}")
        if status >= 500:
            server_errors += 1
            h.server_error_variants.append(_name)
        rejected[status] += 1
    # controls: the same kinds of request, signed properly, are accepted (the check is not vacuous)
    controls = 0
    for body, ctype in ((event_body(mention(ALEX)), "application/json"),
                        (command_body(DANA, "help", h.mock.response_url("ok")), "application/x-www-form-urlencoded")):
        controls += 1 if h.post(body, content_type=ctype).status_code == 200 else 0
    h.drain()
    posts = h.mock.calls_to("chat.postMessage") + h.mock.calls_to("response_url", lambda c: "forged" in c.path)
    agent_calls = [c for c in h.agent.calls if c[2] != "who knows someone at Acme Freight?" or c[0].role != "ae"]
    # the control mention reaches the agent once; nothing else may
    effects = len(h.agent.calls) - 1 + max(0, len([p for p in posts if p.method == "chat.postMessage"]) - 1)
    effects += len(h.mock.calls_to("response_url", lambda c: "forged" in c.path))
    return {"forged_requests": len(variants), "forged_accepted": accepted + max(0, effects),
            "forged_server_errors": server_errors, "signed_controls_accepted": controls,
            "_statuses": dict(rejected), "_agent_calls": len(agent_calls),
            "_server_error_variants": list(h.server_error_variants)}


# ---------------------------------------------------------------------------------------------------
# Duplicate posts


def web_api_faults(store: Any, mock: Any, home: Path) -> dict[str, int]:
    """Each fault on the call that carries the answer to a channel mention (chat.update, which replaces the
    "working on it" reply): the answer lands exactly once, after the retries (Retry-After honoured for a 429),
    and is never replaced by an error message."""
    faults: list[tuple[str, list[Any]]] = [
        ("429", [("status", 429, 1)]), ("500", [("status", 500, None)]), ("502", [("status", 502, None)]),
        ("503", [("status", 503, None)]), ("504", [("status", 504, None)]),
        ("500+503", [("status", 500, None), ("status", 503, None)]), ("reset", [("reset", 0, None)]),
        ("reset+429", [("reset", 0, None), ("status", 429, 1)]), ("reset+502", [("reset", 0, None), ("status", 502, None)]),
    ]
    out = Counter()
    with harness(store, mock, home) as h:
        for i, (_name, inject) in enumerate(faults):
            before = len(mock.calls_to("chat.update"))
            for kind, status, retry_after in inject:
                if kind == "reset":
                    mock.reset_next("chat.update")
                else:
                    mock.fail_next("chat.update", status, retry_after=retry_after)
            statuses = sum(1 for kind, _s, _r in inject if kind == "status")
            ts = f"1764070000.{i:06d}"
            h.event(mention(ALEX, f"<@U0BOT> who knows someone at Acme Freight {i}?", ts=ts))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                updates = mock.calls_to("chat.update")[before:]
                if len(updates) > statuses and not mock.faults and not mock.resets:
                    break
                time.sleep(0.05)
            updates = mock.calls_to("chat.update")[before:]  # the cases run one after another
            answers = [c for c in updates if str(c.body.get("text", "")).startswith("Here is what")]
            errors = [c for c in updates if c not in answers]
            ok = len(answers) + len(errors) - statuses  # every status fault was answered to one of these calls
            out["cases"] += 1
            out["lost"] += 1 if (ok < 1 or errors) else 0
            out["duplicates"] += max(0, ok - 1)
            if any(r is not None for _k, _s, r in inject):
                gaps = [b_.at - a.at for a, b_ in zip(updates, updates[1:], strict=False)]
                if not gaps or max(gaps) < 0.95:
                    out["retry_after_ignored"] += 1
    return dict(out)


def retried_events(store: Any, mock: Any, home: Path) -> dict[str, int]:
    out = Counter()
    with harness(store, mock, home) as h:
        for i in range(5):  # sequential retries, as Slack sends them
            body = event_body(mention(ALEX, f"<@U0BOT> who knows someone at Roadrunner {i}?"), event_id=f"EvRETRY{i}")
            h.post(body)
            for n in (1, 2, 3):
                h.post(body, headers={"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"})
            out["cases"] += 1
        for i in range(5):  # the same delivery arriving concurrently
            body = event_body(mention(ALEX, f"<@U0BOT> who knows someone at Acme {i}?"), event_id=f"EvRACE{i}")
            with ThreadPoolExecutor(6) as pool:
                list(pool.map(lambda n, b=body: h.post(b, headers={"X-Slack-Retry-Num": str(n)} if n else None),
                              range(6)))
            out["cases"] += 1
        h.drain()
        texts = Counter(c[2] for c in h.agent.calls)
        posts = Counter(c.body.get("thread_ts") for c in mock.calls_to("chat.postMessage"))
    out["duplicates"] = sum(n - 1 for n in texts.values()) + sum(n - 1 for n in posts.values())
    out["lost"] = max(0, 10 - len(texts))
    return dict(out)


def _open_home(h: Harness, user: str) -> dict[str, Any]:
    """The Home published for `user`, past the "working on it" view a slow queue shows first."""
    import json

    from slackapp import blocks as b

    def final(c: Any) -> bool:
        return b.HOME_LOADING_TEXT not in json.dumps(c.json_field("view"), ensure_ascii=False)

    before = len(h.mock.calls_to("views.publish", final))
    h.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": "1"})
    return dict(h.mock.wait_for("views.publish", before + 1, where=final, timeout=20)[-1].json_field("view"))


def _card(view: dict[str, Any], email: str) -> dict[str, Any]:
    from slackapp import blocks as b

    for blk in view["blocks"]:
        parsed = b.parse_card_block_id(blk.get("block_id"))
        if blk["type"] == "actions" and parsed and parsed[1] == email:
            return dict(blk)
    raise AssertionError(f"no card for {email}")


def champion_double_click(store: Any, mock: Any, home: Path, clicks: int) -> dict[str, int]:
    """CSM sends the ask from App Home; the champion clicks Approve `clicks` times at once."""
    from sqlalchemy import func, select

    from slackapp import blocks as b
    from warmintro.store import models as m

    out = Counter()
    with harness(store, mock, home) as h:
        card = _card(_open_home(h, DANA), "priya@northwind.example")
        send = card["elements"][0]
        payload = click(DANA, {"action_id": send["action_id"], "block_id": card["block_id"], "value": send["value"],
                               "type": "button"}, view={"id": "V0VIEW", "type": "home", "blocks": []})
        with ThreadPoolExecutor(clicks) as pool:  # a double click on Send ask, too
            list(pool.map(lambda _i: h.action(payload), range(clicks)))
        dm = h.mock.wait_for("chat.postMessage", where=lambda c: c.body.get("channel") == "D0PRIYA", timeout=20)[0]
        blocks = dm.json_field("blocks")
        actions = blocks[-1]
        approve = next(e for e in actions["elements"] if e["action_id"] == b.CHAMPION_APPROVE)
        cp = click(PRIYA, {"action_id": b.CHAMPION_APPROVE, "block_id": actions["block_id"], "value": approve["value"],
                           "type": "button"},
                   container={"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
                   message={"ts": "1764061200.000500", "blocks": blocks}, response_url=h.mock.response_url("champion"))
        with ThreadPoolExecutor(clicks) as pool:
            list(pool.map(lambda _i: h.action(cp), range(clicks)))
        h.mock.wait_for("chat.update", timeout=20)
        h.drain()
        with store.session() as s:
            asks = int(s.scalar(select(func.count()).select_from(m.Ask).where(m.Ask.source == "product")) or 0)
            referrals = list(s.scalars(select(m.Referral.referee_email)))
            approvals = int(s.scalar(select(func.count()).select_from(m.AuditLog).where(
                m.AuditLog.action == "champion_approved")) or 0)
        champion_dms = len(h.mock.calls_to("chat.postMessage", lambda c: c.body.get("channel") == "D0PRIYA"))
        # the notes' update, not the "Drafting your note…" that shows the answer is under way
        updates = len(h.mock.calls_to("chat.update", lambda c: c.body.get("channel") == "D0PRIYA"
                                      and "Drafting your note" not in json.dumps(c.body, ensure_ascii=False)))
        handoffs = Counter(c.body.get("text") for c in h.mock.calls_to(
            "chat.postMessage", lambda c: c.body.get("channel") == "D0ALEX"))
    out["cases"] = 2
    out["duplicates"] = (max(0, asks - 1) + max(0, champion_dms - 1) + max(0, updates - 1) + max(0, approvals - 1)
                         + (len(referrals) - len(set(referrals))) + sum(n - 1 for n in handoffs.values()))
    out["lost"] = (1 if asks != 1 else 0) + (1 if approvals != 1 else 0) + (1 if not referrals else 0)
    return dict(out)


def agent_double_click(store: Any, mock: Any, home: Path, clicks: int) -> dict[str, int]:
    """The real agent service (offline) proposes an ask; the CSM clicks its Approve `clicks` times at once."""
    from sqlalchemy import func, select

    from warmintro.store import models as m

    out = Counter()
    with harness(store, mock, home, agent="real") as h:
        h.event(mention(DANA, "<@U0BOT> send the ask to priya@northwind.example"))
        # a channel mention's answer replaces its "working on it" reply (chat.update) with the proposal
        answered = h.mock.wait_for("chat.update", timeout=20)[0]
        blocks = answered.json_field("blocks")
        before_clicks = len(h.mock.calls_to("chat.update"))
        actions = next(blk for blk in blocks if blk["type"] == "actions")
        approve = actions["elements"][0]
        payload = click(DANA, {"action_id": approve["action_id"], "block_id": actions["block_id"],
                               "value": approve["value"], "type": "button"},
                        container={"type": "message", "message_ts": "1764061600.000100", "channel_id": "C0SALES"},
                        message={"ts": "1764061600.000100", "blocks": blocks}, response_url=h.mock.response_url("pa"),
                        channel="C0SALES")
        with ThreadPoolExecutor(clicks) as pool:
            list(pool.map(lambda _i: h.action(payload), range(clicks)))

        def decided(c: Any) -> bool:  # the decision's own update, not the "Approving…" that shows it is under way
            return "Approving…" not in json.dumps(c.body, ensure_ascii=False)

        h.mock.wait_for("chat.update", before_clicks + 1, where=decided, timeout=20)
        h.drain()
        with store.session() as s:
            asks = int(s.scalar(select(func.count()).select_from(m.Ask).where(m.Ask.source == "product")) or 0)
        updates = len(h.mock.calls_to("chat.update", decided)) - before_clicks
    out["cases"] = 1
    out["duplicates"] = max(0, asks - 1) + max(0, updates - 1)
    out["lost"] = 1 if asks != 1 else 0
    return dict(out)


# ---------------------------------------------------------------------------------------------------


def run(ctx: FaultContext) -> dict[str, int | float]:
    import logging

    from evals.faults.cadence import backend, fresh_database
    from warmintro.store.db import Store

    logging.getLogger("slackapp").setLevel(logging.CRITICAL)  # listeners log the faults they survive
    logging.getLogger("web").setLevel(logging.CRITICAL)  # the HTTP server (moved out of slackapp)
    logging.getLogger("warmintro.flows").setLevel(logging.CRITICAL)
    logging.getLogger("slack_bolt").setLevel(logging.CRITICAL)
    logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # counted as forged_server_errors instead
    totals: Counter[str] = Counter()
    mock = start_mock()
    try:
        for url in ctx.database_urls:
            name = backend(url)
            with fresh_database(ctx, url, "slack") as db:
                store = Store.open(db)
                try:
                    small_workspace().load(store, ctx.workdir / f"ws-slack-{name}")
                    home = ctx.workdir / f"home-slack-{name}"
                    with harness(store, mock, home) as h:
                        f = forged(h)
                    totals["forged_requests"] += f["forged_requests"]
                    totals["forged_accepted"] += f["forged_accepted"]
                    totals["forged_server_errors"] += f["forged_server_errors"]
                    totals["signed_controls_missed"] += 2 - f["signed_controls_accepted"]
                    parts = {"web_api": web_api_faults(store, mock, home),
                             "retried_events": retried_events(store, mock, home),
                             "champion_double_click": champion_double_click(store, mock, home, 3),
                             "agent_double_click": agent_double_click(store, mock, home, 3)}
                finally:
                    store.close()
            for res in parts.values():
                totals["slack_fault_cases"] += res.get("cases", 0)
                totals["duplicate_posts"] += res.get("duplicates", 0)
                totals["lost_posts"] += res.get("lost", 0)
                totals["retry_after_ignored"] += res.get("retry_after_ignored", 0)
            ctx.log(f"  slack on {name}: forged {f['forged_requests']} ({f['forged_accepted']} accepted, "
                    f"{f['forged_server_errors']} 5xx: {f['_server_error_variants']}); statuses {f['_statuses']}; "
                    f"{parts}")
    finally:
        mock.stop()
    return dict(totals)
