"""A local mock of Slack's Web API (and of response_url webhooks), in a thread, on a free port: the one the
tests, the fault suite and the benchmarks share.

It records every call (method, path, parsed body, headers) and answers the way Slack does for the
methods the app uses. A test can queue faults (`fail_next("chat.postMessage", 429, retry_after=1)`), have the
next call's TCP connection reset before any reply (`reset_next(method)`), and wait for calls with a timeout (a
condition variable, never a fixed sleep): `wait_for` raises when they do not come, `wait_for_count` (the
benchmarks) returns how many came.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TEAM_ID = "T0VENDOR"


def _worker_stacks() -> str:
    """Where every other thread is (listeners, jobs): a wait that timed out says what it was waiting behind."""
    import sys
    import traceback

    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        stack = "".join(traceback.format_stack(frame, limit=12))
        parts.append(f"--- thread {names.get(ident, ident)}\n{stack}")
    return "\n".join(parts)
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"


@dataclass
class Call:
    method: str  # "chat.postMessage", or "response_url" for webhook posts
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    def json_field(self, name: str) -> Any:
        """A field that WebClient may send JSON-encoded inside a form (blocks, view)."""
        value = self.body.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


@dataclass
class Fault:
    method: str
    status: int
    retry_after: int | None = None
    body: dict[str, Any] | None = None


class MockSlackAPI:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.resets: list[str] = []  # methods whose next call gets its connection reset
        # OAuth install flow (several workspaces): oauth.v2.access answers per code, auth.test per bot token
        self.installs: dict[str, dict[str, Any]] = {}
        self.bots: dict[str, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._ts = 1_700_000_000_000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- setup -------------------------------------------------------------------------------------
    def add_user(self, user_id: str, email: str | None, team_id: str = TEAM_ID, **extra: Any) -> None:
        user: dict[str, Any] = {"id": user_id, "team_id": team_id, "name": user_id.lower(),
                                "profile": {"email": email} if email else {}, "is_bot": False}
        user.update(extra)
        self.users[user_id] = user

    def add_workspace(self, code: str, team_id: str, token: str, name: str = "") -> None:
        """A workspace that can install the app: oauth.v2.access with `code` returns `token`, and auth.test
        with that token answers for `team_id`."""
        bot = {"team_id": team_id, "team": name or team_id, "user_id": f"UB{team_id}", "bot_id": f"B{team_id}"}
        self.bots[token] = bot
        self.installs[code] = {
            "ok": True, "app_id": "A0APP", "authed_user": {"id": "U0ADMIN"}, "scope": "chat:write,commands",
            "token_type": "bot", "access_token": token, "bot_user_id": bot["user_id"],
            "team": {"id": team_id, "name": bot["team"]}, "enterprise": None, "is_enterprise_install": False}

    def fail_next(self, method: str, status: int, *, retry_after: int | None = None,
                  body: dict[str, Any] | None = None) -> None:
        with self._cond:
            self.faults.append(Fault(method, status, retry_after, body))

    def reset_next(self, method: str) -> None:
        """The next call to `method` gets its TCP connection reset (RST) before any reply, and is not processed
        (recorded with method "reset:<method>")."""
        with self._cond:
            self.resets.append(method)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def api_url(self) -> str:
        return self.url + "api/"

    def response_url(self, name: str = "r") -> str:
        return self.url + f"response/{name}"

    def start(self) -> MockSlackAPI:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                mock._handle(self, "GET")

            def do_POST(self) -> None:
                mock._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = lambda *_a: None  # type: ignore[method-assign]  # a reset connection is the point
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="mock-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- inspection --------------------------------------------------------------------------------
    def calls_to(self, method: str, where: Callable[[Call], bool] | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method and (where is None or where(c))]

    def wait_for(self, method: str, count: int = 1, *, where: Callable[[Call], bool] | None = None,
                 timeout: float = 30.0) -> list[Call]:
        # 30 s: it returns as soon as the calls came; a lazy listener on PostgreSQL on a loaded 2-core CI
        # machine took over 10 s (only a failure waits the whole time)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method and (where is None or where(c))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(f"timed out waiting for {count} x {method}; got {len(found)} (calls: {seen})"
                                         f"\n{_worker_stacks()}")
                self._cond.wait(left)

    def count(self, method: str) -> int:
        with self._cond:
            return sum(1 for c in self.calls if c.method == method)

    def wait_for_count(self, method: str, count: int, timeout: float) -> int:
        """Wait until `count` calls to `method` came or `timeout` passed; how many came."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                n = sum(1 for c in self.calls if c.method == method)
                left = deadline - time.monotonic()
                if n >= count or left <= 0:
                    return n
                self._cond.wait(left)

    def clear(self) -> None:
        with self._cond:
            self.calls.clear()

    # -- serving -----------------------------------------------------------------------------------
    def _next_ts(self) -> str:
        with self._cond:
            self._ts += 100
            return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def _handle(self, h: BaseHTTPRequestHandler, verb: str) -> None:
        parsed = urlparse(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        ctype = h.headers.get("Content-Type") or ""
        body: dict[str, Any] = {}
        if parsed.path.startswith("/upload/"):  # files.upload v2: the file's bytes go to the upload URL
            body = {"bytes": len(raw), "png": b"\x89PNG" in raw[:1024]}
            raw = b""
        if raw and "json" in ctype:
            body = json.loads(raw.decode("utf-8"))
        elif raw:
            body = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
        for k, v in parse_qs(parsed.query, keep_blank_values=True).items():
            body.setdefault(k, v[0])
        if parsed.path.startswith("/api/"):
            method = parsed.path[len("/api/"):]
        elif parsed.path.startswith("/response/"):
            method = "response_url"
        elif parsed.path.startswith("/upload/"):
            method = "file_upload"
        else:
            method = parsed.path
        with self._cond:
            reset = method in self.resets
            if reset:
                self.resets.remove(method)
        if reset:
            with self._cond:
                self.calls.append(Call(f"reset:{method}", parsed.path, {}, {}))
                self._cond.notify_all()
            with contextlib.suppress(OSError):
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                h.connection.close()
            h.close_connection = True
            return
        call = Call(method, parsed.path, body, {k.lower(): v for k, v in h.headers.items()})
        with self._cond:
            fault = next((f for f in self.faults if f.method == method), None)
            if fault is not None:
                self.faults.remove(fault)
            self.calls.append(call)
            self._cond.notify_all()
        if fault is not None:
            payload = fault.body or {"ok": False, "error": "ratelimited" if fault.status == 429 else "internal_error"}
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            self._send(h, fault.status, payload, headers)
            return
        if method in ("response_url", "file_upload"):
            h.send_response(200)
            h.send_header("Content-Type", "text/plain")
            h.send_header("Content-Length", "2")
            h.end_headers()
            h.wfile.write(b"ok")
            return
        self._send(h, 200, self._answer(method, body, call.headers))

    def _answer(self, method: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        if method == "oauth.v2.access":
            return self.installs.get(str(body.get("code")), {"ok": False, "error": "invalid_code"})
        bot = self.bots.get((headers or {}).get("authorization", "").removeprefix("Bearer "))
        if method == "auth.test" and bot is not None:
            return {"ok": True, "url": f"https://{bot['team_id'].lower()}.slack.example/", "user": "warmintro",
                    "is_enterprise_install": False, **bot}
        if method == "auth.test":
            return {"ok": True, "url": "https://vendor.slack.example/", "team": "Vendor", "user": "warmintro",
                    "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "users.info":
            user = self.users.get(str(body.get("user")))
            # A workspace's bot sees only its own members (no Enterprise Grid), when the user is in one of the
            # workspaces add_workspace made.
            teams = {b["team_id"] for b in self.bots.values()}
            if user and bot is not None and user.get("team_id") in teams and user["team_id"] != bot["team_id"]:
                user = None
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.open":
            users = str(body.get("users") or "")
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0].lstrip("UW")}}
        if method in ("chat.postMessage", "chat.update"):
            ts = str(body.get("ts") or "") if method == "chat.update" else self._next_ts()
            return {"ok": True, "channel": body.get("channel"), "ts": ts,
                    "message": {"text": body.get("text"), "ts": ts}}
        if method == "files.getUploadURLExternal":
            n = sum(1 for c in self.calls if c.method == method)
            return {"ok": True, "upload_url": f"{self.url}upload/F{n:04d}", "file_id": f"F{n:04d}"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": "F0000", "title": body.get("files", "")}]}
        if method == "chat.startStream":  # a streamed message: its ts, then appendStream / stopStream on it
            ts = self._next_ts()
            return {"ok": True, "channel": body.get("channel"), "ts": ts}
        if method in ("chat.appendStream", "chat.stopStream"):
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("views.publish", "views.open", "views.update"):
            return {"ok": True, "view": {"id": "V0VIEW", "type": "home" if method == "views.publish" else "modal"}}
        return {"ok": True}

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
