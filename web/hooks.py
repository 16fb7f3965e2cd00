"""Signal hooks: signals and usage pushed in real time by the vendor's product and survey tools.

    POST /hooks/signals            one object or an array, the columns of signals.csv as keys
    POST /hooks/signals/{preset}   a survey tool's own webhook payload (delighted, typeform); or ?preset=
    POST /hooks/usage              one object or an array, the columns of usage.csv as keys

Every request is signed (../shared/design/contract.md, "Signal hooks"): `X-Warmintro-Timestamp` (unix
seconds) and `X-Warmintro-Signature: v1=<hex HMAC-SHA256 of "{timestamp}.{raw body}">`, with the source's
secret (`WARMINTRO_HOOK_SECRETS` by source, a preset's name being its source, else `WARMINTRO_HOOK_SECRET`).
A bad signature or a timestamp more than 5 minutes off -> 401. Rows are checked by the importer's own
column validation (`warmintro.importer.validate.validate_batch`) plus the importer's cross-checks; any bad
row -> 422 `{"errors": [{"index", "field", "reason"}]}` and nothing is stored. Accepted -> 200
`{"accepted", "duplicates", "asks_opened"}` (plus `ignored` and `warnings`, additive).

Signals are idempotent by signal_id (a known id is a duplicate and changes nothing). Usage rows are rolled
up per (account, contact, event, UTC day) and ADDED to the importer's `usage_daily` counts; an identical
signed delivery (same timestamp and body) is counted once.

A new positive signal runs the signals engine at once (the same triggers, gates and cadence as the daily
scan); each ask it opens is returned in `asks_opened` (with its `place`) and the owning CSM gets the queue
card by DM from a background thread. Each card is claimed in the store first (`hookask:{signal_id}:
{contact}`), so several processes send it once. Not durable: a process that dies between the 200 and the
DM loses that card (the ask is still in the CSM's App Home and the next digest).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from slackapp.deps import Deps
from slackapp.hook_cards import deliver_cards
from warmintro.engines.webhooks import sign  # one signing scheme for incoming hooks and outgoing webhooks
from warmintro.flows.signal_intake import (
    BODY_KEY,
    PRESETS,
    TOLERANCE_S,
    Rejected,
    apply_preset,
    cross_checks,
    evaluate,
    parse_body,
    resolve_accounts,
    store_signals,
    store_usage_once,
    validate_rows,
)
from warmintro.importer.schema import FILES

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Warmintro-Timestamp"
SIGNATURE_HEADER = "X-Warmintro-Signature"
MAX_BODY = 2_000_000


# ---------------------------------------------------------------------------------------------------
# Signing


def signed_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body),
            "Content-Type": "application/json"}


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes, now: datetime) -> str | None:
    """None when the request is authentic and fresh, else why not."""
    if not timestamp or not signature:
        return f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}"
    try:
        ts = int(timestamp.strip())
    except ValueError:
        return f"{TIMESTAMP_HEADER} is not unix seconds"
    if abs(now.timestamp() - ts) > TOLERANCE_S:
        return "timestamp is more than 5 minutes off (replayed or clock skew)"
    expected = sign(secret, ts, body)
    # several comma-separated signatures are allowed (secret rotation)
    if any(hmac.compare_digest(expected, s.strip()) for s in signature.split(",")):
        return None
    return "bad signature"


def verify_typeform(secret: str, signature: str, body: bytes) -> bool:
    """Typeform's own scheme: `Typeform-Signature: sha256=<base64 HMAC-SHA256 of the raw body>`."""
    digest = base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest("sha256=" + digest, signature.strip())


def _secret_value(value: Any) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return (str(getter()) if callable(getter) else str(value)) or None


def secret_for(settings: Any, source: str | None) -> str | None:
    per_source = getattr(settings, "hook_secrets", None) or {}
    if source and source in per_source:
        return _secret_value(per_source[source])
    return _secret_value(getattr(settings, "hook_secret", None))


# ---------------------------------------------------------------------------------------------------
# HTTP


@dataclass
class HookService:
    """The endpoints for one app: its deps and the thread that sends cards after the response."""

    deps: Deps
    workers: int = 2
    _executor: ThreadPoolExecutor | None = None
    _pending: list[Future[list[str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, asks: Sequence[Any], now: datetime) -> None:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="hook-cards")
            self._pending = [f for f in self._pending if not f.done()]
            self._pending.append(self._executor.submit(self._deliver, list(asks), now))

    def _deliver(self, asks: list[Any], now: datetime) -> list[str]:
        try:
            return deliver_cards(self.deps, asks, now)
        except Exception:
            log.exception("hook card delivery failed")
            return []

    def drain(self, timeout: float = 30.0) -> None:
        """Wait for every card delivery started so far (tests; shutdown)."""
        with self._lock:
            pending = list(self._pending)
        for f in pending:
            f.result(timeout=timeout)

    # -- request handling ---------------------------------------------------------------------------

    async def _read(self, request: Request, source: str | None) -> tuple[bytes | None, Response | None]:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            return None, JSONResponse({"error": "body too large"}, status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return None, JSONResponse({"error": "body too large"}, status_code=413)
        secret = secret_for(self.deps.settings, source)
        if not secret:
            return None, JSONResponse({"error": "no hook secret is configured for this source"}, status_code=401)
        typeform_sig = request.headers.get("typeform-signature")
        if source == "typeform" and typeform_sig and not request.headers.get(SIGNATURE_HEADER):
            if verify_typeform(secret, typeform_sig, body):
                return body, None
            return None, JSONResponse({"error": "bad signature"}, status_code=401)
        problem = verify(secret, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER),
                         body, self.deps.now())
        if problem:
            log.info("hook refused", extra={"fields": {"path": request.url.path, "why": problem}})
            return None, JSONResponse({"error": problem}, status_code=401)
        return body, None

    async def signals(self, request: Request) -> Response:
        preset = request.path_params.get("preset") or request.query_params.get("preset")
        if preset is not None and preset not in PRESETS:
            return JSONResponse({"error": f"unknown preset {preset!r}; known: {', '.join(PRESETS)}"}, status_code=404)
        source = preset or request.query_params.get("source")
        body, refused = await self._read(request, source)
        if refused is not None or body is None:
            return refused or Response(status_code=400)
        return await run_in_threadpool(self._signals, body, source or "default", preset)

    async def usage(self, request: Request) -> Response:
        source = request.query_params.get("source")
        body, refused = await self._read(request, source)
        if refused is not None or body is None:
            return refused or Response(status_code=400)
        key = BODY_KEY + hashlib.sha256(
            (request.headers.get(TIMESTAMP_HEADER) or "").encode() + b"." + body).hexdigest()
        return await run_in_threadpool(self._usage, body, source or "default", key)

    def _signals(self, body: bytes, source: str, preset: str | None) -> Response:
        now = self.deps.now()
        try:
            items = parse_body(body)
            ignored = 0
            if preset:
                rows, ignored, errors = apply_preset(preset, items)
                errors += resolve_accounts(self.deps.store, rows)
                if errors:
                    raise Rejected(errors)
            else:
                rows = list(enumerate(items))
            spec = FILES["signals.csv"]
            frame, errors, warnings = validate_rows(spec, rows)
            if errors:
                raise Rejected(errors)
            errors = cross_checks(self.deps.store, spec, frame)
            if errors:
                raise Rejected(errors)
        except Rejected as exc:
            return JSONResponse({"errors": [e.to_json() for e in exc.errors]}, status_code=422)
        stored = store_signals(self.deps.store, frame, source=source, preset=preset, at=now) if frame.height else []
        asks: list[Any] = []
        try:
            asks = evaluate(self.deps.store, stored, now)
        except Exception:
            log.exception("hook: evaluating the new signals failed (they are stored; the daily scan will see them)")
        if asks:
            try:  # the asks are computed, not stored: their events go in their own transaction
                from warmintro.engines.webhooks import enqueue_ask_opened

                with self.deps.store.session() as s:
                    for ask in asks:
                        enqueue_ask_opened(s, ask, now)
            except Exception:
                log.exception("hook: enqueueing the ask_opened webhooks failed")
            self.submit(asks, now)
        out: dict[str, Any] = {"accepted": len(stored), "duplicates": frame.height - len(stored),
                               "asks_opened": [a.to_json() for a in asks]}
        if ignored:
            out["ignored"] = ignored
        if warnings:
            out["warnings"] = warnings
        return JSONResponse(out)

    def _usage(self, body: bytes, source: str, key: str) -> Response:
        now = self.deps.now()
        try:
            items = parse_body(body)
            spec = FILES["usage.csv"]
            frame, errors, warnings = validate_rows(spec, list(enumerate(items)))
            if errors:
                raise Rejected(errors)
            errors = cross_checks(self.deps.store, spec, frame)
            if errors:
                raise Rejected(errors)
        except Rejected as exc:
            return JSONResponse({"errors": [e.to_json() for e in exc.errors]}, status_code=422)
        if not store_usage_once(self.deps.store, frame, source=source, key=key, at=now):
            return JSONResponse({"accepted": 0, "duplicates": frame.height, "asks_opened": []})
        out: dict[str, Any] = {"accepted": frame.height, "duplicates": 0, "asks_opened": []}
        if warnings:
            out["warnings"] = warnings
        return JSONResponse(out)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/hooks/signals", self.signals, methods=["POST"]),
            Route("/hooks/signals/{preset}", self.signals, methods=["POST"]),
            Route("/hooks/usage", self.usage, methods=["POST"]),
        ]


def routes(deps: Deps) -> list[BaseRoute]:
    """Mounted by `web.server.ROUTE_MODULES`."""
    return HookService(deps).routes()


def service_of(app: Any) -> HookService | None:
    """The HookService behind an app's hook routes (tests drain it)."""
    for route in getattr(app, "routes", []):
        owner = getattr(getattr(route, "endpoint", None), "__self__", None)
        if isinstance(owner, HookService):
            return owner
    return None
