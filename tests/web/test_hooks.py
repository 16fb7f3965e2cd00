"""Signal hooks through the real Starlette app: signing, freshness, validation with the importer's code
(nothing stored on a bad row), idempotency, usage rollup, and the survey-tool presets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from storeutil import dump

from slackapp.app import build_bolt_app
from slackapp.deps import Deps, UnavailableAgent
from warmintro.settings import Settings
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.workspace import Workspace
from web.hooks import service_of, sign
from web.server import create_web_app

pytestmark = pytest.mark.store

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SECRET = "hook-secret-default"
DELIGHTED_SECRET = "hook-secret-delighted"
TYPEFORM_SECRET = "hook-secret-typeform"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def workspace() -> Workspace:
    ws = Workspace().account("A", name="Northwind Logistics", domain="northwind.example")
    ws.contact("lena@northwind.example", "A", name="Lena Roy", title="Operations Analyst")
    ws.daily_usage("A", "lena@northwind.example", days=40, end=NOW)
    return ws


class Hooks:
    def __init__(self, client: TestClient, clock: Clock, store: Store) -> None:
        self.client = client
        self.clock = clock
        self.store = store

    def post(self, path: str, payload: Any, *, secret: str = SECRET, ts: int | None = None,
             headers: dict[str, str] | None = None, raw: bytes | None = None) -> Any:
        body = raw if raw is not None else json.dumps(payload).encode()
        stamp = int(self.clock.now.timestamp()) if ts is None else ts
        h = {"X-Warmintro-Timestamp": str(stamp), "X-Warmintro-Signature": sign(secret, stamp, body),
             "Content-Type": "application/json"}
        h.update(headers or {})
        return self.client.post(path, content=body, headers=h)


@pytest.fixture
def hooks(store: Store, tmp_path: Path) -> Iterator[Hooks]:
    workspace().load(store, tmp_path / "ws")
    clock = Clock()
    settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s",
                        SLACK_API_URL="http://127.0.0.1:9/", WARMINTRO_HOOK_SECRET=SECRET,
                        WARMINTRO_HOOK_SECRETS={"delighted": DELIGHTED_SECRET, "typeform": TYPEFORM_SECRET})
    # these tests read the evaluated answer: a budget no loaded machine runs out of (the answer still comes as
    # soon as the evaluation is done; the "pending" answer is tested in tests/slack/test_slack_hooks.py)
    deps = Deps(settings=settings, store=store, agent=UnavailableAgent(), clock=clock, hook_answer_budget_s=30.0)
    app = create_web_app(build_bolt_app(deps), deps)
    with TestClient(app) as client:
        yield Hooks(client, clock, store)
    service = service_of(app)
    if service is not None:  # background evaluations finish before the test's schema is dropped
        service.drain()


def nps(signal_id: str = "H1", **kw: Any) -> dict[str, Any]:
    row = {"signal_id": signal_id, "account_id": "A", "contact_email": "lena@northwind.example", "type": "nps",
           "occurred_at": (NOW - timedelta(minutes=1)).isoformat(), "score": 10,
           "notes": "Cut our dispatch planning from 3 hours to 20 minutes"}
    row.update(kw)
    return row


def signal(store: Store, signal_id: str) -> m.Signal | None:
    with store.session() as s:
        return s.get(m.Signal, signal_id)


def test_a_signed_promoter_score_is_stored_and_opens_an_ask_with_its_place(hooks: Hooks):
    r = hooks.post("/hooks/signals", nps())
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["accepted"] == 1 and data["duplicates"] == 0
    [ask] = data["asks_opened"]
    assert ask["contact_email"] == "lena@northwind.example" and ask["trigger"]["signal_id"] == "H1"
    assert ask["place"]["kind"] == "in_product" and ask["place"]["payload"]["signal_id"] == "H1"
    stored = signal(hooks.store, "H1")
    assert stored is not None and stored.score == 10 and stored.extra == {"via": "hook", "source": "default"}


def test_the_same_signal_twice_is_a_duplicate_and_opens_nothing_more(hooks: Hooks):
    assert hooks.post("/hooks/signals", [nps()]).json()["accepted"] == 1
    hooks.clock.now += timedelta(seconds=30)  # re-sent (re-signed) by the tool
    again = hooks.post("/hooks/signals", [nps(score=9)]).json()
    assert again == {"accepted": 0, "duplicates": 1, "asks_opened": []}
    assert signal(hooks.store, "H1").score == 10  # idempotent: the first one stands


def test_forged_stale_and_replayed_requests_are_refused_and_change_nothing(hooks: Hooks):
    before = dump(hooks.store)
    body = json.dumps(nps()).encode()
    assert hooks.post("/hooks/signals", None, raw=body, secret="wrong").status_code == 401
    ts = int(NOW.timestamp())
    assert hooks.post("/hooks/signals", None, raw=body, ts=ts - 301).status_code == 401
    assert hooks.post("/hooks/signals", None, raw=body, ts=ts + 301).status_code == 401
    tampered = hooks.client.post("/hooks/signals", content=body.replace(b"10", b"11"), headers={
        "X-Warmintro-Timestamp": str(ts), "X-Warmintro-Signature": sign(SECRET, ts, body)})
    assert tampered.status_code == 401
    unsigned = hooks.client.post("/hooks/signals", content=body)
    assert unsigned.status_code == 401 and "missing" in unsigned.json()["error"]
    assert dump(hooks.store) == before
    # a captured request replayed six minutes later
    headers = {"X-Warmintro-Timestamp": str(ts), "X-Warmintro-Signature": sign(SECRET, ts, body)}
    assert hooks.client.post("/hooks/signals", content=body, headers=headers).status_code == 200
    hooks.clock.now = NOW + timedelta(minutes=6)
    replay = hooks.client.post("/hooks/signals", content=body, headers=headers)
    assert replay.status_code == 401 and "5 minutes" in replay.json()["error"]


def test_a_malformed_row_is_rejected_naming_index_and_field_and_nothing_is_stored(hooks: Hooks):
    before = dump(hooks.store)
    r = hooks.post("/hooks/signals", [nps("OK1"), nps("BAD", score=11, contact_email="not-an-email"),
                                      nps("BAD2", type="party", occurred_at="yesterday-ish")])
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert {(e["index"], e["field"]) for e in errors} == {(1, "score"), (1, "contact_email"), (2, "type"),
                                                          (2, "occurred_at")}
    assert all(e["reason"] for e in errors)
    assert next(e for e in errors if e["field"] == "score")["reason"].startswith("above the maximum 10")
    for payload, field in (([nps(account_id="ZZZ")], "account_id"), ([nps(score=None)], "score"),
                           ([nps(signal_id=None)], "signal_id"), ([nps("D"), nps("D")], "signal_id"),
                           ([nps(resolved_at=(NOW - timedelta(days=2)).isoformat())], "resolved_at"),
                           ([nps(notes={"nested": True})], "notes")):
        r = hooks.post("/hooks/signals", payload)
        assert r.status_code == 422 and field in {e["field"] for e in r.json()["errors"]}, (payload, r.text)
    not_json = hooks.post("/hooks/signals", None, raw=b"{nope")
    assert not_json.status_code == 422 and not_json.json()["errors"][0]["index"] is None
    assert hooks.post("/hooks/signals", ["just a string"]).status_code == 422
    assert dump(hooks.store) == before


def test_usage_is_added_to_the_daily_rollup_once_per_delivery(hooks: Hooks):
    key = ("A", "lena@northwind.example", "report_shared", NOW.date())

    def count() -> int | None:
        with hooks.store.session() as s:
            row = s.get(m.UsageDaily, key)
            return row.count if row else None

    rows = [{"account_id": "A", "contact_email": "Lena@Northwind.example", "event": "report_shared",
             "occurred_at": NOW.isoformat(), "count": 2},
            {"account_id": "A", "contact_email": "lena@northwind.example", "event": "report_shared",
             "occurred_at": (NOW - timedelta(minutes=5)).isoformat()}]
    body = json.dumps(rows).encode()
    r = hooks.post("/hooks/usage", None, raw=body)
    assert r.status_code == 200 and r.json() == {"accepted": 2, "duplicates": 0, "asks_opened": []}
    assert count() == 3  # 2 + the default count of 1
    assert hooks.post("/hooks/usage", None, raw=body).json()["duplicates"] == 2  # the identical delivery
    assert count() == 3
    hooks.clock.now += timedelta(seconds=1)
    assert hooks.post("/hooks/usage", rows[1]).json()["accepted"] == 1  # a new delivery adds
    assert count() == 4
    login = ("A", "lena@northwind.example", "login", NOW.date())
    with hooks.store.session() as s:
        before_login = s.get(m.UsageDaily, login).count
    hooks.post("/hooks/usage", {"account_id": "A", "contact_email": "lena@northwind.example", "event": "login",
                                "occurred_at": NOW.isoformat(), "count": 5})
    with hooks.store.session() as s:
        assert s.get(m.UsageDaily, login).count == before_login + 5
    # The account's usage days (the active-weeks reads) follow usage_daily.
    old_day = NOW - timedelta(days=400)
    with hooks.store.session() as s:
        assert s.get(m.UsageAccountDay, ("A", old_day.date())) is None
    hooks.clock.now += timedelta(seconds=1)
    hooks.post("/hooks/usage", {"account_id": "A", "contact_email": "lena@northwind.example", "event": "login",
                                "occurred_at": old_day.isoformat()})
    with hooks.store.session() as s:
        assert s.get(m.UsageAccountDay, ("A", old_day.date())) is not None
    before = dump(hooks.store)
    bad = hooks.post("/hooks/usage", [rows[0], {**rows[0], "count": -1}, {**rows[0], "account_id": "NOPE"}])
    assert bad.status_code == 422 and bad.json()["errors"][0] == {
        "index": 1, "field": "count", "reason": "below the minimum 0: -1"}
    assert hooks.post("/hooks/usage", {**rows[0], "account_id": "NOPE"}).json()["errors"][0]["field"] == "account_id"
    assert dump(hooks.store) == before


DELIGHTED = {
    "event_type": "survey_response.created",
    "event_id": "b8d057c59327541d7ec2104c0a9a255ad1997fb00831b9c6bbf09561e6d5cbd0",
    "event_data": {
        "id": "5435",
        "person": {"id": "5975", "email": "lena@northwind.example", "name": "Lena Roy", "created_at": 1764061000},
        "survey_type": "nps", "score": 10, "comment": "Routing is finally painless",
        "permalink": "https://app.delighted.com/r/abc", "created_at": int(NOW.timestamp()) - 60,
        "updated_at": int(NOW.timestamp()) - 60, "person_properties": None, "notes": [], "tags": [],
        "additional_answers": [],
    },
}


def typeform(token: str = "tf-token-1", score: int = 9, field_type: str = "nps") -> dict[str, Any]:
    return {
        "event_id": "LtWXD3crgy", "event_type": "form_response",
        "form_response": {
            "form_id": "lT4Z3j", "token": token, "landed_at": "2026-11-25T08:57:00Z",
            "submitted_at": "2026-11-25T08:58:30Z",
            "hidden": {"email": "lena@northwind.example", "account_id": "A"},
            "definition": {"id": "lT4Z3j", "title": "How are we doing?", "fields": []},
            "answers": [
                {"type": "number", "number": score, "field": {"id": "f1", "type": field_type, "ref": "q1"}},
                {"type": "text", "text": "Dispatch planning takes minutes now", "field": {"id": "f2", "type": "long_text"}},
            ],
        },
    }


def test_delighted_preset_by_path_with_its_own_secret(hooks: Hooks):
    assert hooks.post("/hooks/signals/delighted", DELIGHTED).status_code == 401  # the default secret is not its secret
    r = hooks.post("/hooks/signals/delighted", DELIGHTED, secret=DELIGHTED_SECRET)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["accepted"] == 1 and data["asks_opened"][0]["place"]["kind"] == "in_product"
    stored = signal(hooks.store, "delighted:5435")
    assert stored is not None and stored.account_id == "A" and stored.type == "nps" and stored.score == 10
    assert stored.notes == "Routing is finally painless" and stored.occurred_at.replace(tzinfo=UTC) == NOW - timedelta(minutes=1)
    updated = {**DELIGHTED, "event_type": "survey_response.updated"}
    unsubscribe = {"event_type": "unsubscribe.created", "event_id": "x", "event_data": {"person": {}}}
    again = hooks.post("/hooks/signals/delighted", [updated, unsubscribe], secret=DELIGHTED_SECRET).json()
    assert again["accepted"] == 0 and again["duplicates"] == 1 and again["ignored"] == 1
    stranger = json.loads(json.dumps(DELIGHTED))
    stranger["event_data"]["id"] = "9999"
    stranger["event_data"]["person"]["email"] = "who@else.example"
    bad = hooks.post("/hooks/signals/delighted", stranger, secret=DELIGHTED_SECRET)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "account_id"
    assert hooks.post("/hooks/signals/nosuch", DELIGHTED).status_code == 404
    only_ignored = hooks.post("/hooks/signals/delighted", unsubscribe, secret=DELIGHTED_SECRET)
    assert only_ignored.json() == {"accepted": 0, "duplicates": 0, "asks_opened": [], "ignored": 1}


def test_typeform_preset_by_query_parameter_and_by_its_native_signature(hooks: Hooks):
    r = hooks.post("/hooks/signals?preset=typeform", typeform(), secret=TYPEFORM_SECRET)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    stored = signal(hooks.store, "typeform:tf-token-1")
    assert stored is not None and stored.score == 9 and stored.notes == "Dispatch planning takes minutes now"
    assert stored.extra == {"via": "hook", "source": "typeform", "preset": "typeform"}
    # Typeform's own signature (sha256=base64 of the body), as Typeform sends it
    body = json.dumps(typeform("tf-token-2", 10, "opinion_scale")).encode()
    native = "sha256=" + base64.b64encode(hmac.new(TYPEFORM_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    ok = hooks.client.post("/hooks/signals/typeform", content=body, headers={"Typeform-Signature": native})
    assert ok.status_code == 200 and ok.json()["accepted"] == 1
    forged = hooks.client.post("/hooks/signals/typeform", content=body, headers={"Typeform-Signature": "sha256=AAAA"})
    assert forged.status_code == 401
    no_score = typeform("tf-token-3")
    no_score["form_response"]["answers"] = no_score["form_response"]["answers"][1:]
    r = hooks.post("/hooks/signals/typeform", no_score, secret=TYPEFORM_SECRET)
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "index": 0, "field": "form_response.answers",
        "reason": "no NPS answer (a number answer to a field of type nps, ref 'nps' or an opinion scale)"}
    with hooks.store.session() as s:
        assert sorted(s.scalars(select(m.Signal.signal_id).where(m.Signal.signal_id.like("typeform:%")))) == [
            "typeform:tf-token-1", "typeform:tf-token-2"]


def test_no_secret_configured_refuses_everything(store: Store, tmp_path: Path):
    settings = Settings(WARMINTRO_HOME=tmp_path / "home", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s",
                        SLACK_API_URL="http://127.0.0.1:9/")
    deps = Deps(settings=settings, store=store, agent=UnavailableAgent(), clock=lambda: NOW)
    with TestClient(create_web_app(build_bolt_app(deps), deps)) as client:
        body = json.dumps(nps()).encode()
        ts = int(NOW.timestamp())
        r = client.post("/hooks/signals", content=body, headers={
            "X-Warmintro-Timestamp": str(ts), "X-Warmintro-Signature": sign("", ts, body)})
        assert r.status_code == 401
