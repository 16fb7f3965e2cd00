"""App Home queue cards, Send ask (cadence enforced), snooze / not now, and the champion's answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from slackapp import blocks as b
from warmintro.store import models as m
from warmintro.testing.slack_harness import ALEX, DANA, NOW, PRIYA, Harness, click, home_click

pytestmark = pytest.mark.store


def is_loading(call: Any) -> bool:
    """The "working on it" Home a slow queue shows first (on a busy CPU)."""
    return b.HOME_LOADING_TEXT in json.dumps(call.json_field("view"), ensure_ascii=False)


def open_home(slack: Harness, user: str) -> dict[str, Any]:
    """The Home published for `user` (past the "working on it" view, if one came first)."""
    def final(c: Any) -> bool:
        return not is_loading(c)

    before = len(slack.mock.calls_to("views.publish", where=final))
    slack.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": "1"})
    call = slack.mock.wait_for("views.publish", before + 1, where=final)[-1]
    assert call.body["user_id"] == user
    return call.json_field("view")


def card_actions(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """contact email -> the card's actions block."""
    out = {}
    for blk in view["blocks"]:
        parsed = b.parse_card_block_id(blk.get("block_id"))
        if blk["type"] == "actions" and parsed:
            out[parsed[1]] = blk
    return out


def asks(slack: Harness) -> list[m.Ask]:
    with slack.deps.store.session() as s:
        return list(s.scalars(select(m.Ask).where(m.Ask.source == "product").order_by(m.Ask.id)))


def send_ask(slack: Harness, view: dict[str, Any], email: str, user: str = DANA) -> None:
    actions = card_actions(view)[email]
    send = actions["elements"][0]
    assert send["action_id"] == b.SEND_ASK
    assert slack.action(home_click(user, send, actions["block_id"])).status_code == 200


def test_csm_home_shows_their_queue_with_cards(slack: Harness):
    view = open_home(slack, DANA)
    assert view["type"] == "home"
    text = json.dumps(view)
    cards = card_actions(view)
    assert set(cards) == {"priya@northwind.example", "sam@bluebird.example"}  # not Omar's Mei
    assert "Priya Natarajan" in text and "18 h ago" in text and "closes in 30 h" in text
    assert "power user" in text and "NPS" in text
    assert "Lee Fox" in text and "Jo Park" in text  # pre-loaded names from the targets engine
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text  # Sam's name is escaped
    assert "Bluebird &amp; Co &lt;Foods&gt;" in text
    assert "&lt;@U0DANA&gt;" in text  # a note quoting a mention does not ping
    assert [e["action_id"] for e in cards["priya@northwind.example"]["elements"]] == [b.SEND_ASK, b.EDIT_ASK, b.SNOOZE, b.NOT_NOW]


def test_rep_and_unknown_homes(slack: Harness):
    assert "who-knows" in json.dumps(open_home(slack, ALEX))
    assert "don't know you" in json.dumps(open_home(slack, "U0NOBODY"))
    champion_home = json.dumps(open_home(slack, PRIYA))
    assert "Thank you for being a customer" in champion_home and b.SEND_ASK not in champion_home


def test_send_ask_records_the_ask_and_dms_the_champion_then_refuses_a_second(slack: Harness):
    view = open_home(slack, DANA)
    send_ask(slack, view, "priya@northwind.example")
    [dm] = slack.mock.wait_for("chat.postMessage")
    [opened] = slack.mock.calls_to("conversations.open")
    assert opened.body["users"] == PRIYA
    assert dm.body["channel"] == "D0PRIYA"
    blocks = dm.json_field("blocks")
    text = json.dumps(blocks)
    assert "Lee Fox" in text and "Jo Park" in text and "dispatch planning" in text
    assert [e["action_id"] for e in blocks[-1]["elements"]] == [b.CHAMPION_APPROVE, b.CHAMPION_NOT_A_FIT,
                                                                b.CHAMPION_NOT_NOW]
    # the CSM's home is republished with a notice, and the card is gone (the scan now says too_soon)
    home = slack.mock.wait_for("views.publish", 2)[-1].json_field("view")
    assert "Ask sent to Priya" in json.dumps(home)
    assert "priya@northwind.example" not in card_actions(home)
    [ask] = asks(slack)
    assert (ask.contact_email, ask.asked_by, ask.channel, ask.outcome) == (
        "priya@northwind.example", "dana@vendor.example", "slack", "pending")
    assert ask.trigger_signal_id == "S1" and ask.account_id == "A" and ask.asked_at == NOW

    # a second click on the (stale) card: refused with the reason, nothing recorded, no second DM
    send_ask(slack, view, "priya@northwind.example")
    notice = slack.mock.wait_for("views.publish", 3)[-1].json_field("view")
    assert "Not sent" in json.dumps(notice) and "asked less than 90 days ago" in json.dumps(notice)
    slack.drain()
    assert len(asks(slack)) == 1
    assert len(slack.mock.calls_to("chat.postMessage")) == 1


def test_only_a_csm_can_send_an_ask(slack: Harness):
    view = open_home(slack, DANA)
    send_ask(slack, view, "priya@northwind.example", user=ALEX)
    slack.mock.wait_for("views.publish", 2)
    slack.drain()
    assert asks(slack) == []
    assert slack.mock.calls_to("chat.postMessage") == []


def test_champion_without_slack_is_recorded_and_the_csm_told(slack: Harness):
    view = open_home(slack, DANA)
    send_ask(slack, view, "sam@bluebird.example")
    home = slack.mock.wait_for("views.publish", 2)[-1].json_field("view")
    assert "not on Slack" in json.dumps(home)
    assert [a.channel for a in asks(slack)] == ["email"]
    assert slack.mock.calls_to("conversations.open") == []


def test_send_ask_shows_sending_on_the_card_at_once_then_the_answer_replaces_the_home(slack: Harness):
    view = open_home(slack, DANA)
    actions = card_actions(view)["priya@northwind.example"]
    click_on = home_click(DANA, actions["elements"][0], actions["block_id"], view={**view, "hash": "h1"})
    assert slack.action(click_on).status_code == 200
    slack.mock.wait_for("views.publish", where=lambda c: "Ask sent" in str(c.body.get("view")))
    slack.drain()
    # in order: the card's buttons give way to "Sending the ask…" on the Home as it was (its hash), then the
    # champion's DM, then the Home republished with the answer
    assert [c.method for c in slack.mock.calls if c.method in ("views.update", "chat.postMessage", "views.publish")
            and not is_loading(c)] == ["views.publish", "views.update", "chat.postMessage", "views.publish"]
    [working] = slack.mock.calls_to("views.update")
    assert working.body["view_id"] == "V0VIEW" and working.body["hash"] == "h1"
    shown = working.json_field("view")["blocks"]
    assert set(card_actions({"blocks": shown})) == {"sam@bluebird.example"}  # only the clicked card changed
    assert "Sending the ask…" in json.dumps(shown, ensure_ascii=False)
    home = slack.mock.calls_to("views.publish")[-1].json_field("view")
    assert "Ask sent to Priya Natarajan" in json.dumps(home)


def test_send_ask_from_a_message_shows_sending_then_gives_the_buttons_back_with_the_answer(slack: Harness):
    view = open_home(slack, DANA)
    actions = card_actions(view)["priya@northwind.example"]
    blocks = [blk for blk in view["blocks"] if blk["type"] != "actions" or blk is actions]
    payload = click(DANA, {"action_id": b.SEND_ASK, "block_id": actions["block_id"], "type": "button",
                           "value": actions["elements"][0]["value"]},
                    container={"type": "message", "message_ts": "1764061900.000100", "channel_id": "D0DANA"},
                    message={"ts": "1764061900.000100", "text": "Your queue", "blocks": blocks},
                    response_url=slack.mock.response_url("digest"))
    assert slack.action(payload).status_code == 200
    slack.mock.wait_for("chat.update", 2)
    slack.drain()
    assert [c.method for c in slack.mock.calls if c.method in ("chat.update", "chat.postMessage", "response_url")
            ] == ["chat.update", "chat.postMessage", "response_url", "chat.update"]
    working, back = slack.mock.calls_to("chat.update")
    assert working.body["ts"] == "1764061900.000100" and "Sending the ask…" in json.dumps(working.json_field("blocks"),
                                                                                         ensure_ascii=False)
    assert card_actions({"blocks": working.json_field("blocks")}) == {}
    assert back.json_field("blocks") == blocks  # the card as it was; the answer is the line under it
    assert "Ask sent to Priya Natarajan" in slack.mock.calls_to("response_url")[0].body["text"]


def test_snooze_and_not_now_hide_the_card(slack: Harness):
    view = open_home(slack, DANA)
    actions = card_actions(view)["priya@northwind.example"]
    snooze = next(e for e in actions["elements"] if e["action_id"] == b.SNOOZE)
    slack.action(home_click(DANA, snooze, actions["block_id"]))
    home = slack.mock.wait_for("views.publish", 2)[-1].json_field("view")
    assert "Snoozed" in json.dumps(home)
    assert set(card_actions(home)) == {"sam@bluebird.example"}

    sam = card_actions(home)["sam@bluebird.example"]
    select_el = next(e for e in sam["elements"] if e["action_id"] == b.NOT_NOW)
    payload = click(DANA, {"action_id": b.NOT_NOW, "block_id": sam["block_id"], "type": "static_select",
                           "selected_option": select_el["options"][2]},
                    view={"id": "V0VIEW", "type": "home", "blocks": []})
    slack.action(payload)
    home = slack.mock.wait_for("views.publish", 3)[-1].json_field("view")
    assert "Set aside (already asked offline)" in json.dumps(home)
    assert card_actions(home) == {}
    assert asks(slack) == []  # neither touches the ledger


def champion_click(slack: Harness, dm_blocks: list[dict[str, Any]], action_id: str, user: str = PRIYA,
                   team_id: str = "T0VENDOR") -> None:
    actions = dm_blocks[-1]
    element = next(e for e in actions["elements"] if e["action_id"] == action_id)
    payload = click(user, {"action_id": action_id, "block_id": actions["block_id"], "value": element["value"],
                           "type": "button"},
                    container={"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
                    message={"ts": "1764061200.000500", "blocks": dm_blocks},
                    response_url=slack.mock.response_url("champion"), team_id=team_id)
    assert slack.action(payload).status_code == 200


def sent_dm(slack: Harness) -> list[dict[str, Any]]:
    send_ask(slack, open_home(slack, DANA), "priya@northwind.example")
    [dm] = slack.mock.wait_for("chat.postMessage")
    return dm.json_field("blocks")


def test_champion_not_now_records_a_decline(slack: Harness):
    blocks = sent_dm(slack)
    champion_click(slack, blocks, b.CHAMPION_NOT_NOW)
    [update] = slack.mock.wait_for("chat.update")
    assert update.body["channel"] == "D0PRIYA" and "No problem" in update.body["text"]
    assert not any(blk["type"] == "actions" for blk in update.json_field("blocks"))
    [ask] = asks(slack)
    assert ask.outcome == "declined"
    # the CSM hears about it
    dana_dm = slack.mock.wait_for("chat.postMessage", 2)[-1]
    assert dana_dm.body["channel"] == "D0DANA" and "not now" in dana_dm.body["text"]
    # a second answer is refused, once recorded
    champion_click(slack, blocks, b.CHAMPION_APPROVE)
    reply = slack.mock.wait_for("response_url")[-1]
    assert "already answered" in reply.body["text"]
    slack.drain()
    assert asks(slack)[0].outcome == "declined"


def test_champion_approve_gives_a_note_with_mailto_and_an_audit_row(slack: Harness):
    blocks = sent_dm(slack)
    champion_click(slack, blocks, b.CHAMPION_APPROVE)
    # at once the buttons give way to "Drafting your note…" in the DM; then the notes replace it
    [working, update] = slack.mock.wait_for("chat.update", 2)
    assert working.body["ts"] == update.body["ts"] == "1764061200.000500"
    assert "Drafting your note…" in json.dumps(working.json_field("blocks"), ensure_ascii=False)
    assert not [blk for blk in working.json_field("blocks") if blk["type"] == "actions"]
    new_blocks = update.json_field("blocks")
    urls = [e.get("url", "") for blk in new_blocks if blk["type"] == "actions" for e in blk["elements"]]
    assert len(urls) == 2 and all(u.startswith("mailto:") for u in urls)
    assert any("lee%40roadrunner.example" in u or "lee@roadrunner.example" in u for u in urls)
    text = json.dumps(new_blocks)
    assert "Lee" in text and "Jo" in text and "Plain draft" not in text  # the voice drafter wrote both notes
    slack.drain()
    with slack.deps.store.session() as s:
        row = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "champion_approved")).one()
        assert row.actor == "priya@northwind.example" and row.detail["ask_id"] == asks(slack)[0].id
        assert sorted(row.detail["targets"]) == ["jo@acme-freight.example", "lee@roadrunner.example"]
        assert row.detail["drafts"] == ["drafter", "drafter"]
        referrals = s.scalars(select(m.Referral).order_by(m.Referral.referee_email)).all()
        assert [(r.referrer_email, r.referee_email, r.status) for r in referrals] == [
            ("priya@northwind.example", "jo@acme-freight.example", "approved"),
            ("priya@northwind.example", "lee@roadrunner.example", "approved")]
        assert sorted(row.detail["referrals"]) == sorted(r.referral_id for r in referrals)
    assert asks(slack)[0].outcome == "accepted"


def test_someone_else_cannot_answer_the_champions_ask(slack: Harness):
    blocks = sent_dm(slack)
    champion_click(slack, blocks, b.CHAMPION_NOT_NOW, user=DANA)
    reply = slack.mock.wait_for("response_url")[-1]
    assert "isn't something I can do" in reply.body["text"]
    slack.drain()
    assert asks(slack)[0].outcome == "pending"
    assert slack.mock.calls_to("chat.update") == []


def test_a_slow_queue_shows_working_on_it_first_then_replaces_it(slack: Harness, monkeypatch: pytest.MonkeyPatch):
    import threading

    from slackapp import home

    gate = threading.Event()
    real = home.csm_queue

    def slow(*args: Any, **kwargs: Any) -> Any:  # a queue that is not ready at once (cold process, big store)
        assert gate.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(home, "csm_queue", slow)
    slack.deps.home_placeholder_s = 0.0
    try:
        slack.event({"type": "app_home_opened", "user": DANA, "channel": "D0HOME", "tab": "home", "event_ts": "1"})
        [first] = slack.mock.wait_for("views.publish")
        assert b.HOME_LOADING_TEXT in json.dumps(first.json_field("view"), ensure_ascii=False)
    finally:
        gate.set()
    second = json.dumps(slack.mock.wait_for("views.publish", 2)[-1].json_field("view"), ensure_ascii=False)
    assert "Priya Natarajan" in second and b.HOME_LOADING_TEXT not in second
    slack.drain()
    assert len(slack.mock.calls_to("views.publish")) == 2


def test_a_ready_queue_is_published_once_without_a_placeholder(slack: Harness):
    slack.deps.home_placeholder_s = 600.0  # the queue is always ready before this
    view = open_home(slack, DANA)
    assert "Priya Natarajan" in json.dumps(view)
    slack.drain()
    assert len(slack.mock.calls_to("views.publish")) == 1
