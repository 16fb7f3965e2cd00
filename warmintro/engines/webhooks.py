"""Outgoing webhooks (docs/hooks.md, "Outgoing webhooks"): a transactional outbox, delivered signed and
retried with backoff.

`enqueue(session, ...)` adds a `webhook_deliveries` row inside the caller's transaction, so an event exists
if and only if the change it reports committed. `deliver_due` sends the due rows: each is claimed first
(`UPDATE ... WHERE id = :id AND status = 'pending' ... RETURNING`), so several processes never send one
twice; the POST happens outside any transaction. 2xx -> delivered; anything else -> attempts + 1 and due
again after min(30 s * 2**attempts, 1 h) (attempts counted before this one: 30 s, 1 min, 2 min, ...); the
8th failure -> dead (the dead-letter list, `warmintro webhooks list --status dead`; `retry` revives one).

While a row is `sending`, `next_attempt_at` is the sender's lease (claim time + 10 minutes): a row still
`sending` past it belongs to a sender that crashed, and goes back to pending. No URL configured -> nothing
is sent and rows stay pending until one is.

The signature is the incoming hooks' scheme (web/hooks.py): `X-Warmintro-Signature: v1=<hex
HMAC-SHA256 of "{timestamp}.{body}">` with `X-Warmintro-Timestamp` in unix seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from warmintro.engines.timeutil import iso, utc
from warmintro.errors import NotFoundError, WarmintroError
from warmintro.store import models as m
from warmintro.store.db import Store

log = logging.getLogger(__name__)

EVENTS = ("ask_opened", "ask_approved", "referral_created", "referral_stage_changed", "in_product_prompt")
STATUSES = ("pending", "sending", "delivered", "dead")
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
LEASE = timedelta(minutes=10)  # a `sending` row older than this: its sender crashed
BATCH = 100
TIMEOUT_S = 10.0
MAX_ERROR = 500

EVENT_HEADER = "X-Warmintro-Event"
DELIVERY_HEADER = "X-Warmintro-Delivery"
TIMESTAMP_HEADER = "X-Warmintro-Timestamp"
SIGNATURE_HEADER = "X-Warmintro-Signature"

# (url, body, headers) -> HTTP status code; raises on a transport error.
Http = Callable[[str, bytes, dict[str, str]], int]


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """`v1=<hex HMAC-SHA256 of "{timestamp}.{body}">`, the `X-Warmintro-Signature` of a body sent at
    `timestamp`: outgoing webhooks and the incoming signal hooks (web.hooks) share it."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def backoff(attempts: int) -> timedelta:
    """The wait after a failed attempt, `attempts` being the attempts made before it."""
    return min(BASE_DELAY * (2 ** max(attempts, 0)), MAX_DELAY)


# ---------------------------------------------------------------------------------------------------
# Enqueue (inside the caller's transaction)


def enqueue(session: Session, event_type: str, payload: dict[str, Any], event_id: str | None = None,
            *, at: datetime | None = None) -> str:
    """Add the event to the outbox in `session`'s transaction (it commits or rolls back with the caller's
    change). A known `event_id` is a no-op, so an event with a natural id is enqueued once. Returns the id."""
    if event_type not in EVENTS:
        raise WarmintroError(f"unknown webhook event {event_type!r}; one of {', '.join(EVENTS)}")
    when = utc(at) if at is not None else datetime.now(UTC)
    eid = event_id or f"{event_type}:{uuid.uuid4().hex}"
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(m.WebhookDelivery).values(
        event_id=eid, event_type=event_type, payload=json.loads(json.dumps(payload, default=_json_default)),
        status="pending", attempts=0, next_attempt_at=when, created_at=when,
    ).on_conflict_do_nothing(index_elements=["event_id"])
    session.execute(stmt)
    return eid


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def referral_payload(r: m.Referral) -> dict[str, Any]:
    return {"referral_id": r.referral_id, "status": r.status, "program": r.program,
            "referrer_email": r.referrer_email, "referee_email": r.referee_email, "referee_name": r.referee_name,
            "referee_company": r.referee_company, "referee_domain": r.referee_domain,
            "owner_email": r.owner_email, "sla_due_at": iso(r.sla_due_at), "trigger_type": r.trigger_type,
            "persona": r.persona, "source_tag": r.source_tag, "created_at": iso(r.created_at),
            "updated_at": iso(r.updated_at)}


def enqueue_ask_opened(session: Session, ask: Any, at: datetime) -> list[str]:
    """`ask_opened` for a `warmintro.engines.scan.Ask` (its `to_json()`, place included), plus
    `in_product_prompt` with the place's payload when the place is in the product. Idempotent per signal
    and champion."""
    data = ask.to_json()
    key = f"{ask.trigger.signal_id}:{ask.contact_email}"
    ids = [enqueue(session, "ask_opened", data, f"ask_opened:{key}", at=at)]
    place = data.get("place") or {}
    if place.get("kind") == "in_product" and place.get("payload") is not None:
        ids.append(enqueue(session, "in_product_prompt", place["payload"], f"in_product_prompt:{key}", at=at))
    return ids


# ---------------------------------------------------------------------------------------------------
# Delivery


def _default_http(url: str, body: bytes, headers: dict[str, str]) -> int:
    import httpx

    return httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_S).status_code


def _secret(settings: Any) -> str | None:
    for value in (getattr(settings, "webhook_secret", None), getattr(settings, "hook_secret", None)):
        if value is not None:
            raw = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
            if raw:
                return str(raw)
    return None


def envelope(event_id: str, event_type: str, created_at: datetime, data: dict[str, Any]) -> bytes:
    """The POSTed body: {"id", "type", "created_at", "data"}."""
    return json.dumps({"id": event_id, "type": event_type, "created_at": iso(created_at), "data": data},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def recover_stale(store: Store, now: datetime) -> int:
    """Rows left `sending` past their lease (a sender crashed mid-delivery) go back to pending, due now."""
    with store.session(write=True) as s:
        res = s.execute(update(m.WebhookDelivery)
                        .where(m.WebhookDelivery.status == "sending", m.WebhookDelivery.next_attempt_at <= now)
                        .values(status="pending", next_attempt_at=now)
                        .execution_options(synchronize_session=False))
        return int(getattr(res, "rowcount", 0) or 0)


def _claim(store: Store, row_id: int, now: datetime) -> Any:
    """Take one due pending row for this sender (atomic: a second sender's UPDATE matches nothing)."""
    with store.session(write=True) as s:
        return s.execute(
            update(m.WebhookDelivery)
            .where(m.WebhookDelivery.id == row_id, m.WebhookDelivery.status == "pending",
                   m.WebhookDelivery.next_attempt_at <= now)
            .values(status="sending", next_attempt_at=now + LEASE)
            .returning(m.WebhookDelivery.id, m.WebhookDelivery.event_id, m.WebhookDelivery.event_type,
                       m.WebhookDelivery.payload, m.WebhookDelivery.attempts, m.WebhookDelivery.created_at)
            .execution_options(synchronize_session=False)
        ).first()


def _finish(store: Store, row_id: int, values: dict[str, Any]) -> None:
    with store.session(write=True) as s:
        s.execute(update(m.WebhookDelivery)
                  .where(m.WebhookDelivery.id == row_id, m.WebhookDelivery.status == "sending")
                  .values(**values).execution_options(synchronize_session=False))


def deliver_due(store: Store, settings: Any, now: datetime, *, http: Http | None = None,
                limit: int = BATCH) -> dict[str, Any]:
    """One delivery round: recover stale `sending` rows, then claim and POST each due pending row.
    Returns counts: {"configured", "recovered", "claimed", "delivered", "retrying", "dead", "pending"}."""
    now = utc(now)
    url = getattr(settings, "webhook_url", None)
    secret = _secret(settings)
    result: dict[str, Any] = {"configured": bool(url and secret), "recovered": 0, "claimed": 0, "delivered": 0,
                              "retrying": 0, "dead": 0}
    if not url or not secret:
        result["reason"] = "WARMINTRO_WEBHOOK_URL is not set" if not url else \
            "no WARMINTRO_WEBHOOK_SECRET (or WARMINTRO_HOOK_SECRET) to sign with"
        result["pending"] = _count(store, "pending")
        return result
    send = http or _default_http
    result["recovered"] = recover_stale(store, now)
    with store.session() as s:
        due = list(s.scalars(select(m.WebhookDelivery.id)
                             .where(m.WebhookDelivery.status == "pending", m.WebhookDelivery.next_attempt_at <= now)
                             .order_by(m.WebhookDelivery.next_attempt_at, m.WebhookDelivery.id).limit(limit)))
    for row_id in due:
        row = _claim(store, row_id, now)
        if row is None:
            continue  # another sender has it
        result["claimed"] += 1
        body = envelope(row.event_id, row.event_type, row.created_at, row.payload)
        ts = str(int(now.timestamp()))
        headers = {"Content-Type": "application/json", EVENT_HEADER: row.event_type, DELIVERY_HEADER: row.event_id,
                   TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sign(secret, ts, body)}
        error: str | None = None
        try:
            status = send(url, body, headers)
            if not 200 <= int(status) < 300:
                error = f"HTTP {status}"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempts = int(row.attempts) + 1
        if error is None:
            _finish(store, row.id, {"status": "delivered", "attempts": attempts, "delivered_at": now,
                                    "last_error": None})
            result["delivered"] += 1
        elif attempts >= MAX_ATTEMPTS:
            _finish(store, row.id, {"status": "dead", "attempts": attempts, "last_error": error[:MAX_ERROR]})
            result["dead"] += 1
            log.warning("webhook dead", extra={"fields": {"event_id": row.event_id, "error": error[:200]}})
        else:
            _finish(store, row.id, {"status": "pending", "attempts": attempts, "last_error": error[:MAX_ERROR],
                                    "next_attempt_at": now + backoff(int(row.attempts))})
            result["retrying"] += 1
    result["pending"] = _count(store, "pending")
    return result


def _count(store: Store, status: str) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(m.WebhookDelivery)
                            .where(m.WebhookDelivery.status == status)) or 0)


# ---------------------------------------------------------------------------------------------------
# Listing and dead letters


def to_json(row: m.WebhookDelivery) -> dict[str, Any]:
    return {"id": row.id, "event_id": row.event_id, "event_type": row.event_type, "status": row.status,
            "attempts": row.attempts, "next_attempt_at": iso(row.next_attempt_at), "last_error": row.last_error,
            "created_at": iso(row.created_at), "delivered_at": iso(row.delivered_at), "payload": row.payload}


def list_deliveries(store: Store, *, status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise WarmintroError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    with store.session() as s:
        q = select(m.WebhookDelivery).order_by(m.WebhookDelivery.id)
        if status:
            q = q.where(m.WebhookDelivery.status == status)
        if limit:
            q = q.limit(limit)
        return [to_json(r) for r in s.scalars(q)]


def retry(store: Store, delivery_id: int, now: datetime) -> dict[str, Any]:
    """A dead (or pending) delivery -> pending and due now; its attempts are kept (a revived dead row gets
    one more try before it is dead again)."""
    now = utc(now)
    with store.session(write=True) as s:
        row = s.get(m.WebhookDelivery, delivery_id)
        if row is None:
            raise NotFoundError(f"no webhook delivery {delivery_id}")
        if row.status not in ("dead", "pending"):
            raise WarmintroError(f"webhook delivery {delivery_id} is {row.status}; only dead or pending ones are retried")
        row.status = "pending"
        row.next_attempt_at = now
        s.add(m.AuditLog(at=now, actor=None, action="webhook_retry", subject=row.event_id,
                         detail={"id": row.id, "attempts": row.attempts}))
        s.flush()
        return to_json(row)
