"""The "place" lever: where each ask is made, with ready text and the reason (warmintro/engines/place.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from warmintro.engines.place import KINDS, choose_place, place_for_ask, place_line
from warmintro.engines.scan import scan
from warmintro.testing.workspace import T, Workspace

EXPIRES = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("trigger", "kind"), [
    ("qbr", "qbr_talk_track"), ("go_live", "thread_reply"), ("public_win", "thread_reply"), ("nps", "in_product"),
    ("expansion", "dm"), ("renewal", "dm"), ("milestone", "dm"), ("offboarding", "dm"), ("something_new", "dm"),
])
def test_the_default_place_follows_the_trigger_type(trigger, kind):
    place = choose_place(trigger, contact_name="Priya Natarajan", account_name="Northwind",
                         dealing_with="dispatch planning that still takes 3 hours")
    assert place.kind == kind and place.kind in KINDS
    assert place.text.startswith(("Before we wrap up, Priya", "Congratulations on the", "Thanks for the score, Priya",
                                  "Hi Priya"))
    assert "dispatch planning that still takes 3 hours" in place.text
    assert place.why and place.why[0].isupper()
    data = place.to_json()
    assert set(data) >= {"kind", "text", "why"}


def test_qbr_is_a_talk_track_for_the_meeting_itself():
    place = choose_place("qbr", contact_name="Sam Okafor", dealing_with=None)
    assert place.kind == "qbr_talk_track"
    assert "who in your network could use the same help?" in place.text  # no invented problem, no tagline
    assert "meeting itself" in place.why and "before it ends" in place.why


def test_go_live_and_win_reply_in_their_thread():
    live = choose_place("go_live", contact_name="Mei Chen", account_name="Kestrel Health")
    win = choose_place("public_win", contact_name="Mei Chen", account_name="Kestrel Health")
    assert "go-live" in live.text and "Kestrel Health" in live.text and "live" in live.text
    assert "win" in win.text
    assert "thread" in live.why and "Slack Connect" in live.why


def test_nps_is_an_in_product_prompt_with_a_renderable_payload():
    place = choose_place("nps", contact_name="Lena Roy", dealing_with="manual routing", signal_id="S9",
                         contact_email="lena@a.example", account_id="A", expires_at=EXPIRES)
    assert place.kind == "in_product" and "right after the answer" in place.why
    payload = place.to_json()["payload"]
    assert payload["type"] == "referral_prompt" and payload["signal_id"] == "S9"
    assert payload["contact_email"] == "lena@a.example" and payload["account_id"] == "A"
    assert payload["expires_at"] == "2026-11-27T09:00:00Z"
    assert payload["body"] == place.text and payload["cta"]["action"] == "open_referral_form"
    json.dumps(payload)  # serialisable as is
    assert "payload" not in choose_place("qbr", contact_name="x").to_json()


def test_no_name_and_odd_names_still_read():
    assert choose_place("renewal", contact_name="", account_name=None).text.startswith("Hi there, thank you")
    assert choose_place("expansion", contact_name="  Jo  ", account_name="Acme").text.startswith(
        "Hi Jo, great to see Acme growing")


def test_place_line_is_one_short_line():
    place = choose_place("nps", contact_name="Lena", dealing_with="x " * 400)
    line = place_line(place, limit=120)
    assert line.startswith("Where: in the product, right after the NPS answer: ")
    assert "\n" not in line and len(line) < 200 and line.endswith("\u201d")


def test_place_for_ask_uses_the_asks_own_fields():
    class Trigger:
        type = "go_live"
        signal_id = "S1"

    class FakeAsk:
        trigger = Trigger()
        contact_name = "Priya N"
        account_name = "Northwind"
        contact_email = "priya@n.example"
        account_id = "A"
        dealing_with = None
        expires_at = EXPIRES

    assert place_for_ask(FakeAsk()).kind == "thread_reply"


@pytest.mark.store
def test_every_ask_in_the_scan_json_carries_its_place(store, tmp_path):
    ws = Workspace().account("A", name="Northwind")
    for email, sig, typ in (("nps@a.example", "S1", "nps"), ("qbr@a.example", "S2", "qbr"),
                            ("live@a.example", "S3", "go_live"), ("grow@a.example", "S4", "expansion")):
        ws.contact(email, "A", title="Operations Analyst")
        ws.daily_usage("A", email, days=40)
        ws.signal(sig, "A", typ, T - timedelta(hours=2), contact_email=email, score=10 if typ == "nps" else None,
                  sentiment="positive", notes="Cut our dispatch planning from 3 hours to 20 minutes")
    ws.load(store, tmp_path / "ws")
    with store.session() as s:
        data = scan(s, T, sentiment=lambda texts: ["positive"] * len(texts)).to_json()
    kinds = {a["trigger"]["signal_id"]: a["place"]["kind"] for a in data["asks"]}
    assert kinds == {"S1": "in_product", "S2": "qbr_talk_track", "S3": "thread_reply", "S4": "dm"}
    for a in data["asks"]:
        assert set(a["place"]) >= {"kind", "text", "why"} and a["place"]["text"]
    nps = next(a for a in data["asks"] if a["trigger"]["signal_id"] == "S1")
    assert nps["place"]["payload"]["signal_id"] == "S1"
