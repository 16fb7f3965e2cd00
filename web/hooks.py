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

A hook answers within 2 s whatever the store's size and however cold the process: the rows are stored and a
durable evaluation job is written before the answer (warmintro.flows.signal_intake.start_job). The job runs in
a background thread (slackapp.hook_cards.run_job: the signals engine limited to the contacts the signals
touch, `ask_opened` webhooks, the CSM's card once across processes; replayed by any process after a crash).
The request waits for it at most `Deps.hook_answer_budget_s` (0.5 s): evaluated by then, the asks are in
`asks_opened` (with their `place`); otherwise `asks_opened` lists what is known so far and `"pending": n` says
how many signals are still being evaluated, and the cards follow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from slackapp.deps import Deps
from slackapp.hook_cards import run_job
from warmintro.engines.webhooks import sign  # one signing scheme for incoming hooks and outgoing webhooks
from warmintro.flows import jobs
from warmintro.flows.signal_intake import (
    BODY_KEY,
    PRESETS,
    TOLERANCE_S,
    Rejected,
    apply_preset,
    checked_rows,
    job_signal_count,
    parse_body,
    resolve_accounts,
    start_job,
    store_signals,
    store_usage_once,
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
    """The endpoints for one app: its deps and the threads that evaluate batches after (or while) answering."""

    deps: Deps
    workers: int = 2
    _executor: ThreadPoolExecutor | None = None
    _pending: list[Future[list[Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, job_id: str) -> Future[list[Any]]:
        """Run the job in the background; the returned future holds its asks once evaluated (before the DMs)."""
        evaluated: Future[list[Any]] = Future()
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="hook-eval")
            self._pending = [f for f in self._pending if not f.done()]
            self._pending.append(self._executor.submit(self._run, job_id, evaluated))
        return evaluated

    def _run(self, job_id: str, evaluated: Future[list[Any]]) -> list[Any]:
        try:
            job = jobs.lease(self.deps.store, job_id, self.deps.now())
            if job is None:
                return []  # done, or another process holds it
            try:
                return run_job(self.deps, job, evaluated.set_result)
            except Exception:
                log.exception("hook: evaluating the new signals failed (stored; the job is replayed)")
                jobs.unlease(self.deps.store, job_id)
                return []
        finally:
            if not evaluated.done():
                evaluated.set_result([])

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
            frame, warnings = checked_rows(self.deps.store, FILES["signals.csv"], rows)
        except Rejected as exc:
            return JSONResponse({"errors": [e.to_json() for e in exc.errors]}, status_code=422)
        stored = store_signals(self.deps.store, frame, source=source, preset=preset, at=now) if frame.height else []
        asks: list[Any] = []
        pending = 0
        job_id = start_job(self.deps.store, stored, now) if stored else None
        if job_id is not None:
            # Evaluate in the background; answer with the asks if they are known within the budget, else with
            # how many signals are still pending (the contract's 2 s answer, cold or at any store size).
            try:
                asks = self.submit(job_id).result(timeout=self.deps.hook_answer_budget_s)
            except FutureTimeout:
                pending = job_signal_count(self.deps.store, job_id)
        out: dict[str, Any] = {"accepted": len(stored), "duplicates": frame.height - len(stored),
                               "asks_opened": [a.to_json() for a in asks]}
        if pending:
            out["pending"] = pending
        if ignored:
            out["ignored"] = ignored
        if warnings:
            out["warnings"] = warnings
        return JSONResponse(out)

    def _usage(self, body: bytes, source: str, key: str) -> Response:
        now = self.deps.now()
        try:
            items = parse_body(body)
            frame, warnings = checked_rows(self.deps.store, FILES["usage.csv"], list(enumerate(items)))
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
