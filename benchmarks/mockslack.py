"""A small mock of Slack's Web API for the ack benchmark: answers the methods the app calls, counts them.

Self-contained (the tests' richer mock lives in tests/slack/); runs in a thread on a free port.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TEAM_ID = "T0BENCH"
BOT_USER_ID = "U0BOT"


class MockWebAPI:
    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, int] = {}
        self._cond = threading.Condition()
        self._ts = 1_700_000_000_000
        self._server: ThreadingHTTPServer | None = None

    def add_user(self, user_id: str, email: str) -> None:
        self.users[user_id] = {"id": user_id, "team_id": TEAM_ID, "name": user_id.lower(),
                               "profile": {"email": email}, "is_bot": False}

    @property
    def api_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def start(self) -> MockWebAPI:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                mock._handle(self)

            do_GET = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name="bench-mock-slack").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(self, method: str, count: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.counts.get(method, 0) < count and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            return self.counts.get(method, 0)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body: dict[str, Any] = {}
        if raw and "json" in (h.headers.get("Content-Type") or ""):
            body = json.loads(raw.decode("utf-8"))
        elif raw:
            body = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
        for k, v in parse_qs(parsed.query).items():
            body.setdefault(k, v[0])
        method = parsed.path.rsplit("/", 1)[-1]
        with self._cond:
            self.counts[method] = self.counts.get(method, 0) + 1
            self._ts += 100
            ts = f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"
            self._cond.notify_all()
        answer: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            answer = {"ok": True, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": "B0BOT", "team": "Bench",
                      "user": "warmintro", "url": "https://bench.slack.example/"}
        elif method == "users.info":
            user = self.users.get(str(body.get("user")))
            answer = {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        elif method == "conversations.open":
            answer = {"ok": True, "channel": {"id": "D" + str(body.get("users") or "X").split(",")[0]}}
        elif method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            answer = {"ok": True, "channel": body.get("channel"), "ts": ts, "message_ts": ts, "message": {"ts": ts}}
        elif method.startswith("views."):
            answer = {"ok": True, "view": {"id": "V0VIEW"}}
        data = json.dumps(answer).encode("utf-8")
        h.send_response(200)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
