"""Outgoing webhooks: the transactional outbox (an event iff its change committed), signed delivery to a local
receiver, backoff computed from `now` (never slept), dead letters and the CLI, crashed senders, several
senders delivering each event once, and the emit points (ledger, hooks, approval)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from warmintro.engines import webhooks as wh
from warmintro.engines.ledger import ReferralBlocked, create_referral, update_referral
from warmintro.importer.run import import_folder
from warmintro.settings import Settings
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.workspace import Workspace
from web.hooks import sign as hook_sign
from web.hooks import verify

pytestmark = pytest.mark.store

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SECRET = "webhook-secret"
PRIYA = "priya.natarajan@northwind.example"


class Receiver:
    """A local HTTP endpoint that records every request and can fail the next N with a 500."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_next = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    fail = receiver.fail_next > 0
                    if fail:
                        receiver.fail_next -= 1
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                              "body": body, "failed": fail})
                self.send_response(500 if fail else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/warmintro-events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if not r["failed"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def settings(receiver: Receiver, tmp_path: Path) -> Settings:
    return Settings(WARMINTRO_HOME=tmp_path / "home", WARMINTRO_WEBHOOK_URL=receiver.url,
                    WARMINTRO_WEBHOOK_SECRET=SECRET)


def add_event(store: Store, n: int = 0, event_type: str = "referral_created") -> str:
    with store.session() as s:
        return wh.enqueue(s, event_type, {"referral_id": f"R-{n}", "n": n}, f"{event_type}:R-{n}", at=T0)


def row(store: Store, event_id: str) -> m.WebhookDelivery:
    with store.session() as s:
        found = s.scalars(select(m.WebhookDelivery).where(m.WebhookDelivery.event_id == event_id)).one()
        s.expunge(found)
        return found


def rows(store: Store) -> list[m.WebhookDelivery]:
    with store.session() as s:
        return list(s.scalars(select(m.WebhookDelivery).order_by(m.WebhookDelivery.id)))


# --- the outbox ---------------------------------------------------------------------------------------------


def test_an_event_exists_only_if_the_callers_transaction_commits(store: Store):
    with pytest.raises(RuntimeError), store.session() as s:
        wh.enqueue(s, "referral_created", {"referral_id": "R-x"}, "referral_created:R-x", at=T0)
        raise RuntimeError("the change failed")
    assert rows(store) == []
    add_event(store, 1)
    add_event(store, 1)  # a known event id is a no-op
    assert [r.event_id for r in rows(store)] == ["referral_created:R-1"]
    with pytest.raises(Exception, match="unknown webhook event"), store.session() as s:
        wh.enqueue(s, "nope", {})


def test_a_delivery_is_signed_like_the_incoming_hooks_and_recorded(store: Store, receiver: Receiver, settings):
    eid = add_event(store, 1)
    result = wh.deliver_due(store, settings, T0)
    assert result["delivered"] == 1 and result["claimed"] == 1 and result["pending"] == 0
    [req] = receiver.requests
    h = req["headers"]
    assert req["path"] == "/warmintro-events"
    assert h["X-Warmintro-Event"] == "referral_created" and h["X-Warmintro-Delivery"] == eid
    assert h["X-Warmintro-Timestamp"] == str(int(T0.timestamp()))
    assert verify(SECRET, h["X-Warmintro-Timestamp"], h["X-Warmintro-Signature"], req["body"], T0) is None
    assert h["X-Warmintro-Signature"] == hook_sign(SECRET, h["X-Warmintro-Timestamp"], req["body"])
    assert verify("another-secret", h["X-Warmintro-Timestamp"], h["X-Warmintro-Signature"], req["body"], T0)
    body = json.loads(req["body"])
    assert body == {"id": eid, "type": "referral_created", "created_at": "2026-11-25T10:00:00Z",
                    "data": {"referral_id": "R-1", "n": 1}}
    done = row(store, eid)
    assert (done.status, done.attempts, done.delivered_at, done.last_error) == ("delivered", 1, T0, None)
    assert wh.deliver_due(store, settings, T0 + timedelta(hours=1))["claimed"] == 0  # never sent twice


def test_no_url_configured_leaves_events_pending(store: Store, tmp_path: Path):
    eid = add_event(store, 1)
    result = wh.deliver_due(store, Settings(WARMINTRO_HOME=tmp_path / "home"), T0)
    assert result["configured"] is False and result["pending"] == 1 and "WARMINTRO_WEBHOOK_URL" in result["reason"]
    assert row(store, eid).status == "pending"


def test_failures_are_retried_with_backoff_from_now_then_delivered(store: Store, receiver: Receiver, settings):
    eid = add_event(store, 1)
    receiver.fail_next = 3
    now = T0
    waits = []
    for _ in range(3):
        assert wh.deliver_due(store, settings, now)["retrying"] == 1
        r = row(store, eid)
        assert r.status == "pending" and r.last_error == "HTTP 500"
        waits.append(r.next_attempt_at - now)
        # not due a moment before the backoff is over
        assert wh.deliver_due(store, settings, r.next_attempt_at - timedelta(seconds=1))["claimed"] == 0
        now = r.next_attempt_at
    assert waits == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert wh.deliver_due(store, settings, now)["delivered"] == 1
    r = row(store, eid)
    assert (r.status, r.attempts, r.delivered_at) == ("delivered", 4, now)
    assert len(receiver.requests) == 4 and len(receiver.ok()) == 1


def test_backoff_is_capped_at_an_hour():
    assert [wh.backoff(n).total_seconds() for n in range(9)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def cli_app() -> Any:
    from warmintro.cli import _ensure_registered, app

    _ensure_registered()  # the real `warmintro` app, "webhooks" registered through COMMAND_MODULES
    return app


def cli(args: list[str]) -> Any:
    res = CliRunner().invoke(cli_app(), args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def test_eight_failures_are_dead_listed_by_the_cli_and_retry_brings_it_back(
        store: Store, receiver: Receiver, settings, database_url: str, monkeypatch: pytest.MonkeyPatch):
    ok = add_event(store, 2)
    assert wh.deliver_due(store, settings, T0)["delivered"] == 1
    eid = add_event(store, 1)
    receiver.fail_next = 1000
    now = T0
    for attempt in range(1, 9):
        wh.deliver_due(store, settings, now)
        r = row(store, eid)
        assert r.attempts == attempt
        now = r.next_attempt_at if r.status == "pending" else now
    r = row(store, eid)
    assert r.status == "dead" and r.attempts == 8 and r.last_error == "HTTP 500"
    assert wh.deliver_due(store, settings, now + timedelta(days=1))["claimed"] == 0  # dead stays dead

    monkeypatch.setenv("WARMINTRO_DATABASE_URL", database_url)
    monkeypatch.setenv("WARMINTRO_HOME", str(Path(settings.home)))
    monkeypatch.setenv("WARMINTRO_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("WARMINTRO_WEBHOOK_SECRET", SECRET)
    dead = json.loads(cli(["webhooks", "list", "--status", "dead", "--json"]).stdout)["deliveries"]
    assert [(d["event_id"], d["attempts"], d["last_error"]) for d in dead] == [(eid, 8, "HTTP 500")]
    table = cli(["webhooks", "list", "--status", "dead"]).stdout
    assert "dead" in table and "HTTP 500" in table
    assert {d["event_id"] for d in json.loads(cli(["webhooks", "list", "--json"]).stdout)["deliveries"]} == {eid, ok}

    revived = json.loads(cli(["webhooks", "retry", str(r.id), "--json"]).stdout)
    assert revived["status"] == "pending" and revived["attempts"] == 8
    receiver.fail_next = 0
    sent = json.loads(cli(["webhooks", "deliver", "--json"]).stdout)
    assert sent["delivered"] == 1 and sent["pending"] == 0
    assert row(store, eid).status == "delivered"
    assert json.loads(cli(["webhooks", "list", "--status", "dead", "--json"]).stdout)["deliveries"] == []
    assert CliRunner().invoke(cli_app(), ["webhooks", "retry", "99999"]).exit_code != 0
    assert CliRunner().invoke(cli_app(), ["webhooks", "retry", str(r.id)]).exit_code != 0  # delivered: refused


def test_a_crashed_senders_row_goes_back_to_pending_after_ten_minutes(store: Store, receiver: Receiver, settings):
    eid = add_event(store, 1)
    assert wh._claim(store, row(store, eid).id, T0) is not None  # claimed, then the sender died
    assert row(store, eid).status == "sending"
    assert wh.deliver_due(store, settings, T0 + timedelta(minutes=9))["claimed"] == 0
    result = wh.deliver_due(store, settings, T0 + timedelta(minutes=10))
    assert result["recovered"] == 1 and result["delivered"] == 1
    assert row(store, eid).status == "delivered" and len(receiver.requests) == 1


def test_two_concurrent_senders_deliver_each_event_once(store: Store, receiver: Receiver, settings,
                                                        database_url: str):
    ids = {add_event(store, n) for n in range(30)}
    stores = [Store.open(database_url), Store.open(database_url)]
    barrier = threading.Barrier(len(stores))
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def run(s: Store) -> None:
        try:
            barrier.wait(timeout=20)
            results.append(wh.deliver_due(s, settings, T0))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for s in stores:
            s.close()
    assert errors == []
    sent = [r["headers"]["X-Warmintro-Delivery"] for r in receiver.requests]
    assert sorted(sent) == sorted(ids)  # each once
    assert sum(r["delivered"] for r in results) == 30
    assert {r.status for r in rows(store)} == {"delivered"}


# --- the emit points ----------------------------------------------------------------------------------------


def test_ledger_enqueues_one_event_per_change_and_none_for_a_blocked_referral(store: Store, northwind: Path):
    import_folder(store, northwind)
    with pytest.raises(ReferralBlocked):
        create_referral(store, referrer_email=PRIYA, referee_email="someone@northwind.example", at=T0)
    assert rows(store) == []
    view = create_referral(store, referrer_email=PRIYA, referee_email="jo@newco.example", at=T0,
                           idempotency_key="k1")
    again = create_referral(store, referrer_email=PRIYA, referee_email="jo@newco.example", at=T0,
                            idempotency_key="k1")
    assert not again.created
    [created] = rows(store)
    assert created.event_type == "referral_created" and created.event_id == f"referral_created:{view.referral_id}"
    assert created.payload["referral_id"] == view.referral_id and created.payload["referee_email"] == "jo@newco.example"
    assert created.payload["status"] == "approved" and created.created_at == T0

    update_referral(store, view.referral_id, status="meeting", at=T0 + timedelta(days=1), actor="ae@vendor.example")
    update_referral(store, view.referral_id, status="meeting", at=T0 + timedelta(days=2))  # no change, no event
    changed = [r for r in rows(store) if r.event_type == "referral_stage_changed"]
    assert len(changed) == 1
    assert changed[0].payload["status"] == "meeting" and changed[0].payload["previous_status"] == "approved"
    assert changed[0].payload["actor"] == "ae@vendor.example"
    assert len(rows(store)) == 2


def test_a_hooked_promoter_score_enqueues_ask_opened_and_the_in_product_prompt(store: Store, tmp_path: Path):
    from slackapp.app import build_bolt_app
    from slackapp.deps import Deps, UnavailableAgent
    from web.server import create_web_app

    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    ws = Workspace().account("A", name="Northwind Logistics", domain="northwind.example")
    ws.contact("lena@northwind.example", "A", name="Lena Roy", title="Operations Analyst")
    ws.daily_usage("A", "lena@northwind.example", days=40, end=now)
    ws.load(store, tmp_path / "ws")
    settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s",
                        SLACK_API_URL="http://127.0.0.1:9/", WARMINTRO_HOOK_SECRET="hs")
    deps = Deps(settings=settings, store=store, agent=UnavailableAgent(), clock=lambda: now)
    body = json.dumps([{"signal_id": "H1", "account_id": "A", "contact_email": "lena@northwind.example",
                        "type": "nps", "occurred_at": (now - timedelta(minutes=1)).isoformat(), "score": 10,
                        "notes": "Cut our dispatch planning from 3 hours to 20 minutes"}]).encode()
    ts = int(now.timestamp())
    headers = {"X-Warmintro-Timestamp": str(ts), "X-Warmintro-Signature": hook_sign("hs", ts, body),
               "Content-Type": "application/json"}
    with TestClient(create_web_app(build_bolt_app(deps), deps)) as client:
        r = client.post("/hooks/signals", content=body, headers=headers)
        assert r.status_code == 200, r.text
        [ask] = r.json()["asks_opened"]
        assert client.post("/hooks/signals", content=body, headers=headers).json()["asks_opened"] == []
    got = {x.event_type: x for x in rows(store)}
    assert set(got) == {"ask_opened", "in_product_prompt"}
    assert got["ask_opened"].event_id == "ask_opened:H1:lena@northwind.example"
    assert got["ask_opened"].payload["place"]["kind"] == "in_product"
    assert got["in_product_prompt"].payload == ask["place"]["payload"]
    assert got["in_product_prompt"].payload["signal_id"] == "H1"


def test_approving_an_ask_enqueues_ask_approved(store: Store, tmp_path: Path):
    from warmintro.flows.approval import approve

    Workspace().account("A", name="Northwind", domain="northwind.example") \
        .contact("lena@northwind.example", "A", name="Lena Roy").load(store, tmp_path / "ws")
    with store.session() as s:
        ask = m.Ask(contact_email="lena@northwind.example", asked_at=T0, source="product", account_id="A")
        s.add(ask)
        s.flush()
        s.expunge(ask)
    approve(store, Settings(WARMINTRO_HOME=tmp_path / "home"), ask, [], actor="lena@northwind.example", now=T0)
    [ev] = rows(store)
    assert ev.event_type == "ask_approved" and ev.event_id == f"ask_approved:{ask.id}"
    assert ev.payload["ask_id"] == ask.id and ev.payload["contact_email"] == "lena@northwind.example"
    assert ev.payload["approved_at"] == "2026-11-25T10:00:00Z"
