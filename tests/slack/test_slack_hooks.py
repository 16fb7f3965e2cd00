"""A hooked promoter score reaches the owning CSM as one Slack card, with the in-product place, even when
the same signal arrives at several processes (two Store objects on one database)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from slackapp.app import build_bolt_app
from slackapp.deps import Deps
from slackapp.hook_cards import deliver_cards
from warmintro.engines.scan import scan
from warmintro.settings import Settings
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import NOW, SECRET, TOKEN, FakeAgent, serve, small_workspace
from web.hooks import service_of, sign
from web.server import create_web_app

pytestmark = pytest.mark.store

HOOK = "hook-secret"


@dataclass
class Process:
    deps: Deps
    app: Any
    server: Any
    thread: threading.Thread
    url: str
    http: httpx.Client

    def post(self, path: str, body: bytes, *, secret: str = HOOK) -> httpx.Response:
        ts = int(NOW.timestamp())
        return self.http.post(self.url + path, content=body, headers={
            "X-Warmintro-Timestamp": str(ts), "X-Warmintro-Signature": sign(secret, ts, body),
            "Content-Type": "application/json"})

    def drain(self) -> None:
        service = service_of(self.app)
        assert service is not None
        service.drain()

    def stop(self) -> None:
        self.http.close()
        self.drain()
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start(store: Store, mock: MockSlackAPI, home: Path, budget_s: float = 60.0) -> Process:
    """A process whose hooks wait up to `budget_s` for the evaluation (a loaded test machine must not turn the
    asks these tests check into `pending`; the deployed default is 1 s, tested below)."""
    settings = Settings(WARMINTRO_HOME=home, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
                        SLACK_API_URL=mock.api_url, WARMINTRO_HOOK_SECRET=HOOK)
    deps = Deps(settings=settings, store=store, agent=FakeAgent(), clock=lambda: NOW, hook_answer_budget_s=budget_s)
    app = create_web_app(build_bolt_app(deps), deps)
    server, thread, port = serve(app)
    return Process(deps, app, server, thread, f"http://127.0.0.1:{port}", httpx.Client(timeout=30))


@pytest.fixture
def hook_store(store: Store, tmp_path: Path) -> Store:
    ws = small_workspace()
    ws.contact("lena@northwind.example", "A", name="Lena Roy", title="Operations Analyst")
    ws.daily_usage("A", "lena@northwind.example", days=45, end=NOW)
    ws.account("D", name="Dunlin Freight", domain="dunlin.example", industry="Logistics", csm_email="ghost@vendor.example")
    ws.contact("ravi@dunlin.example", "D", name="Ravi Das", title="Operations Analyst")
    ws.daily_usage("D", "ravi@dunlin.example", days=45, end=NOW)
    ws.load(store, tmp_path / "ws")
    return store


def promoter(signal_id: str = "HOOK1", email: str = "lena@northwind.example", account: str = "A") -> bytes:
    return json.dumps({"signal_id": signal_id, "account_id": account, "contact_email": email, "type": "nps",
                       "occurred_at": (NOW - timedelta(minutes=2)).isoformat(), "score": 10,
                       "notes": "Cut our dispatch planning from 3 hours to 20 minutes"}).encode()


def test_a_signed_nps_10_gives_the_csm_one_card_with_the_in_product_place(hook_store: Store, mock_slack: MockSlackAPI,
                                                                          tmp_path: Path):
    p = start(hook_store, mock_slack, tmp_path / "home")
    try:
        r = p.post("/hooks/signals", promoter())
        assert r.status_code == 200, r.text
        [ask] = r.json()["asks_opened"]
        assert ask["csm_email"] == "dana@vendor.example" and ask["place"]["kind"] == "in_product"
        [post] = mock_slack.wait_for("chat.postMessage", timeout=30)
        assert post.body["channel"] == "D0DANA"  # Dana owns Northwind (accounts.csm_email -> team.csv)
        blocks = json.dumps(post.json_field("blocks"))
        assert "Lena Roy" in blocks and "home_send_ask" in blocks
        assert "Where: in the product, right after the NPS answer" in blocks
        assert "Lena Roy" in post.body["text"]
        # the same signal again, a forged copy, a malformed one: no second card
        again = p.post("/hooks/signals", promoter())
        assert again.json() == {"accepted": 0, "duplicates": 1, "asks_opened": []}
        assert p.post("/hooks/signals", promoter("HOOK2"), secret="forged").status_code == 401
        bad = p.post("/hooks/signals", promoter("HOOK3").replace(b'"score": 10', b'"score": "ten"'))
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "score"
        p.drain()
        assert len(mock_slack.calls_to("chat.postMessage")) == 1
    finally:
        p.stop()


def test_two_processes_send_the_card_once(hook_store: Store, database_url: str, mock_slack: MockSlackAPI,
                                          tmp_path: Path):
    second = Store.open(database_url)  # the second "process": its own engine and pool on the same database
    procs = [start(hook_store, mock_slack, tmp_path / "a"), start(second, mock_slack, tmp_path / "b")]
    try:
        body = promoter()
        barrier = threading.Barrier(2)
        responses: list[httpx.Response] = []

        def post(p: Process) -> None:
            barrier.wait()
            responses.append(p.post("/hooks/signals", body))

        threads = [threading.Thread(target=post, args=(p,)) for p in procs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(r.status_code for r in responses) == [200, 200]
        assert sorted(r.json()["accepted"] for r in responses) == [0, 1]
        mock_slack.wait_for("chat.postMessage", timeout=30)
        for p in procs:
            p.drain()
        assert [c.body["channel"] for c in mock_slack.calls_to("chat.postMessage")] == ["D0DANA"]

        # the same ask delivered by both processes at once (e.g. two different hooks): still one card
        with hook_store.session() as s:
            asks = [a for a in scan(s, NOW).asks if a.trigger.signal_id == "S3"]
        assert len(asks) == 1
        sent: list[list[str]] = []
        barrier = threading.Barrier(2)

        def deliver(p: Process) -> None:
            barrier.wait()
            sent.append(deliver_cards(p.deps, asks, NOW))

        threads = [threading.Thread(target=deliver, args=(p,)) for p in procs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(len(x) for x in sent) == [0, 1]
        assert [c.body["channel"] for c in mock_slack.calls_to("chat.postMessage")] == ["D0DANA", "D0OMAR"]
    finally:
        for p in procs:
            p.stop()
        second.close()


def test_an_ask_whose_csm_is_not_on_slack_is_returned_but_not_dmed(hook_store: Store, mock_slack: MockSlackAPI,
                                                                   tmp_path: Path):
    p = start(hook_store, mock_slack, tmp_path / "home")
    try:
        r = p.post("/hooks/signals", promoter("HOOK9", "ravi@dunlin.example", "D"))
        assert r.status_code == 200 and [a["contact_email"] for a in r.json()["asks_opened"]] == ["ravi@dunlin.example"]
        p.drain()
        assert mock_slack.calls_to("chat.postMessage") == []
    finally:
        p.stop()


def test_a_failed_dm_gives_the_claim_back(hook_store: Store, mock_slack: MockSlackAPI, tmp_path: Path):
    p = start(hook_store, mock_slack, tmp_path / "home")
    try:
        with hook_store.session() as s:
            asks = [a for a in scan(s, NOW).asks if a.trigger.signal_id == "S1"]
        mock_slack.fail_next("conversations.open", 200, body={"ok": False, "error": "user_disabled"})
        assert deliver_cards(p.deps, asks, NOW) == []
        assert deliver_cards(p.deps, asks, NOW) == ["hookask:S1:priya@northwind.example"]
        assert deliver_cards(p.deps, asks, NOW) == []
    finally:
        p.stop()


def test_a_slow_evaluation_answers_pending_at_once_and_the_card_follows(hook_store: Store, mock_slack: MockSlackAPI,
                                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from slackapp import hook_cards

    gate = threading.Event()
    real = hook_cards.evaluate

    def slow(*args: Any) -> list[Any]:  # a cold process or a huge store: still evaluating when the budget ends
        assert gate.wait(60)
        return real(*args)

    monkeypatch.setattr(hook_cards, "evaluate", slow)
    p = start(hook_store, mock_slack, tmp_path / "home", budget_s=0.2)
    try:
        r = p.post("/hooks/signals", promoter())
        assert r.status_code == 200, r.text
        assert r.json() == {"accepted": 1, "duplicates": 0, "asks_opened": [], "pending": 1}  # stored, evaluating
        with hook_store.session() as s:
            assert s.get(m.Signal, "HOOK1") is not None  # stored before the answer
        gate.set()
        [post] = mock_slack.wait_for("chat.postMessage", timeout=30)
        assert post.body["channel"] == "D0DANA" and "Lena Roy" in post.body["text"]
        p.drain()
        with hook_store.session() as s:
            assert [j.status for j in s.query(m.SlackJob).filter(m.SlackJob.kind == "hook_eval")] == ["done"]
        assert len(mock_slack.calls_to("chat.postMessage")) == 1
    finally:
        gate.set()
        p.stop()


def test_an_evaluation_a_dead_process_left_is_replayed_once_across_processes(
        hook_store: Store, database_url: str, mock_slack: MockSlackAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from slackapp.hook_cards import replay_hook_jobs
    from web.hooks import HookService

    # The process that answered dies before evaluating: its job is written but never run.
    monkeypatch.setattr(HookService, "submit", lambda self, job_id: Future())
    p = start(hook_store, mock_slack, tmp_path / "home", budget_s=0.1)
    try:
        assert p.post("/hooks/signals", promoter()).json()["pending"] == 1
    finally:
        p.stop()
    monkeypatch.undo()
    assert mock_slack.calls_to("chat.postMessage") == []
    second = Store.open(database_url)
    try:
        later = NOW + timedelta(minutes=1)
        replicas = [Deps(settings=p.deps.settings, store=store, agent=FakeAgent(), clock=lambda: later, client=p.deps.client)
                    for store in (hook_store, second)]
        barrier = threading.Barrier(2)
        done: list[int] = []

        def replay(deps: Deps) -> None:
            barrier.wait()
            done.append(replay_hook_jobs(deps))

        threads = [threading.Thread(target=replay, args=(d,)) for d in replicas]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(done) == [0, 1]  # the lease gives the job to one replica
        assert [c.body["channel"] for c in mock_slack.calls_to("chat.postMessage")] == ["D0DANA"]
        assert replay_hook_jobs(replicas[1]) == 0  # done: nothing left to replay
    finally:
        second.close()
