"""The editable surfaces: the champion's "Use this note" modal (approve one name with their own words), the
CSM's Edit-the-ask modal, and a rep's "Request intro" on a warm path (routed to the owning CSM, within
cadence). All through signed HTTP requests to the real bolt app, the real store and the mock Web API."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from test_slack_home import asks, card_actions, open_home, sent_dm

from slackapp import blocks as b
from warmintro.store import models as m
from warmintro.testing.slack_harness import ALEX, DANA, NOW, PRIYA, Harness, click, event_body, mention

pytestmark = pytest.mark.store


def _view_submission(user: str, view: dict[str, Any], values: dict[str, dict[str, str]]) -> dict[str, Any]:
    state = {block: {action: {"type": "plain_text_input", "value": value}} for block, (action, value) in
             ((blk, next(iter(v.items()))) for blk, v in values.items())}
    return {"type": "view_submission", "team": {"id": "T0VENDOR", "domain": "vendor"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0VENDOR"}, "api_app_id": "A0APP",
            "token": "legacy", "trigger_id": "4.5.6",
            "view": {**view, "id": "V0MODAL", "state": {"values": state}}}


def _use_note(slack: Harness, dm_blocks: list[dict[str, Any]], index: int, user: str = PRIYA) -> dict[str, Any]:
    buttons = [blk["accessory"] for blk in dm_blocks if blk.get("accessory", {}).get("action_id") == b.CHAMPION_USE_NOTE]
    assert len(buttons) == 2  # one per pre-loaded name
    element = buttons[index]
    payload = click(user, {"action_id": element["action_id"], "block_id": "x", "value": element["value"], "type": "button"},
                    container={"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
                    message={"ts": "1764061200.000500", "blocks": dm_blocks})
    assert slack.action(payload).status_code == 200
    [opened] = slack.mock.wait_for("views.open")
    assert opened.body["trigger_id"] == "1.2.3"
    assert "Drafting" in json.dumps(opened.json_field("view"))
    [update] = slack.mock.wait_for("views.update")
    return update.json_field("view")


def test_use_this_note_opens_the_drafted_note_and_approving_it_records_one_referral(slack: Harness):
    blocks = sent_dm(slack)
    view = _use_note(slack, blocks, 0)
    assert view["callback_id"] == b.NOTE_MODAL
    meta = json.loads(view["private_metadata"])
    target = meta["t"]
    body_input = next(blk for blk in view["blocks"] if blk.get("block_id") == b.NOTE_BODY_BLOCK)
    drafted = body_input["element"]["initial_value"]
    person_first = {"jo@acme-freight.example": "Jo", "lee@roadrunner.example": "Lee"}[target]
    assert person_first in drafted  # the draft names the target

    edited = f"{person_first}, you should talk to Relaydesk. My own words here.\n\nPriya"
    submit = _view_submission(PRIYA, view, {b.NOTE_SUBJECT_BLOCK: {b.NOTE_SUBJECT_INPUT: "Quick intro"},
                                            b.NOTE_BODY_BLOCK: {b.NOTE_BODY_INPUT: edited}})
    resp = slack.action(submit)
    assert resp.status_code == 200 and resp.content in (b"", b"{}")  # the modal closes at once
    [note_msg] = slack.mock.wait_for("chat.postMessage", where=lambda c: "your note, ready" in c.body["text"])
    assert note_msg.body["channel"] == "D0PRIYA"
    [handoff] = slack.mock.wait_for("chat.postMessage", where=lambda c: c.body["channel"] == "D0ALEX")
    assert "New referral for you" in handoff.body["text"] and "Priya Natarajan" in handoff.body["text"]
    urls = [e.get("url", "") for blk in note_msg.json_field("blocks") if blk["type"] == "actions" for e in blk["elements"]]
    assert urls and urls[0].startswith("mailto:") and "My%20own%20words" in urls[0] and "Quick%20intro" in urls[0]
    # The same submission again (a double click or a retry): the note comes back, nothing is recorded twice.
    slack.action(submit)
    slack.mock.wait_for("chat.postMessage", 2, where=lambda c: "your note, ready" in c.body["text"])
    slack.drain()
    assert asks(slack)[0].outcome == "accepted"
    with slack.deps.store.session() as s:
        referrals = s.scalars(select(m.Referral)).all()
        assert [(r.referrer_email, r.referee_email, r.status) for r in referrals] == [
            ("priya@northwind.example", target, "approved")]
    assert len(slack.mock.calls_to("chat.postMessage", where=lambda c: c.body["channel"] == "D0ALEX")) == 1


def test_only_the_champion_can_use_their_note(slack: Harness):
    blocks = sent_dm(slack)
    buttons = [blk["accessory"] for blk in blocks if blk.get("accessory", {}).get("action_id") == b.CHAMPION_USE_NOTE]
    payload = click(DANA, {"action_id": b.CHAMPION_USE_NOTE, "block_id": "x", "value": buttons[0]["value"],
                           "type": "button"},
                    container={"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
                    response_url=slack.mock.response_url("dana"))
    slack.action(payload)
    reply = slack.mock.wait_for("response_url")[-1]
    assert "isn't something I can do" in reply.body["text"]
    slack.drain()
    assert slack.mock.calls_to("views.open") == []


def test_csm_edits_the_ask_and_the_champion_reads_the_edited_words(slack: Harness):
    view = open_home(slack, DANA)
    actions = card_actions(view)["priya@northwind.example"]
    edit = next(e for e in actions["elements"] if e["action_id"] == b.EDIT_ASK)
    payload = click(DANA, {"action_id": edit["action_id"], "block_id": actions["block_id"], "value": edit["value"],
                           "type": "button"}, view={"id": "V0VIEW", "type": "home", "blocks": []})
    slack.action(payload)
    slack.mock.wait_for("views.open")
    [update] = slack.mock.wait_for("views.update")
    modal = update.json_field("view")
    assert modal["callback_id"] == b.EDIT_ASK_MODAL
    text_input = next(blk for blk in modal["blocks"] if blk.get("block_id") == b.ASK_TEXT_BLOCK)
    assert "Priya" in text_input["element"]["initial_value"]  # the drafted ask, ready to edit

    words = "Priya, thank you for the kind NPS note! Could you introduce us to one of these?"
    resp = slack.action(_view_submission(DANA, modal, {b.ASK_TEXT_BLOCK: {b.ASK_TEXT_INPUT: words}}))
    # the ack keeps the modal open saying the ask is on its way; the answer then replaces it
    sending = resp.json()
    assert sending["response_action"] == "update"
    assert "Sending the ask…" in json.dumps(sending["view"], ensure_ascii=False)
    [dm] = slack.mock.wait_for("chat.postMessage")
    dm_text = json.dumps(dm.json_field("blocks"))
    assert "thank you for the kind NPS note" in dm_text and "Use this note" in dm_text
    [_drafted, answered] = slack.mock.wait_for("views.update", 2)
    assert answered.body["view_id"] == "V0MODAL"
    assert "Ask sent to Priya Natarajan" in json.dumps(answered.json_field("view"))
    slack.drain()
    assert [c.method for c in slack.mock.calls if c.method in ("chat.postMessage", "views.update")] == [
        "views.update", "chat.postMessage", "views.update"]
    [ask] = asks(slack)
    assert ask.contact_email == "priya@northwind.example" and ask.asked_by == "dana@vendor.example"


def _rep_asks_who_knows(slack: Harness) -> list[dict[str, Any]]:
    slack.post(event_body(mention(ALEX, "<@U0BOT> who knows someone at acme-freight.example?")))
    [answer] = slack.mock.wait_for("chat.update")  # in the placeholder's place
    blocks = answer.json_field("blocks")
    assert "Jo Park" in json.dumps(blocks)
    assert "<@U0DANA>" in json.dumps(blocks)  # the CSM who routes it, by @mention
    return [e for blk in blocks if blk["type"] == "actions" and blk.get("block_id") == "request_intro"
            for e in blk["elements"]]


def _press(slack: Harness, user: str, element: dict[str, Any]) -> None:
    payload = click(user, {"action_id": element["action_id"], "block_id": "request_intro", "value": element["value"],
                           "type": "button"},
                    container={"type": "message", "message_ts": "1764061200.000100", "channel_id": "C0SALES"},
                    response_url=slack.mock.response_url("alex"))
    assert slack.action(payload).status_code == 200


@pytest.fixture
def real_agent(slack: Harness) -> Harness:
    """The harness with the real agent service (offline router) instead of the fake."""
    from agent.service import AgentService

    slack.deps.agent = AgentService(slack.deps.settings, slack.deps.store, clock=lambda: NOW)
    return slack


def test_rep_requests_an_intro_and_the_owning_csm_is_asked_once(real_agent: Harness):
    slack = real_agent
    [button] = [e for e in _rep_asks_who_knows(slack) if "Jo Park" in e["text"]["text"]][:1]
    _press(slack, ALEX, button)
    dm = slack.mock.wait_for("chat.postMessage", 2)[-1]
    assert dm.body["channel"] == "D0DANA" and "Jo Park" in dm.body["text"] and "Priya Natarajan" in dm.body["text"]
    confirmation = slack.mock.wait_for("response_url")[-1]
    assert "Asked Dana Whitfield" in confirmation.body["text"]
    _press(slack, ALEX, button)  # again: not routed twice
    again = slack.mock.wait_for("response_url", 2)[-1]
    assert "Already requested" in again.body["text"]
    slack.drain()
    assert len(slack.mock.calls_to("chat.postMessage")) == 2  # the placeholder, the CSM's DM
    with slack.deps.store.session() as s:
        rows = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "intro_requested")).all()
        assert [(r.actor, r.subject, r.detail["routed_to"]) for r in rows] == [
            ("alex@vendor.example", "priya@northwind.example", "dana@vendor.example")]


def test_a_request_intro_through_a_recently_asked_champion_is_refused_with_the_reason(real_agent: Harness):
    slack = real_agent
    with slack.deps.store.session() as s:
        s.add(m.Ask(contact_email="priya@northwind.example", asked_at=NOW - timedelta(days=20), outcome="pending",
                    source="history"))
    [button] = [e for e in _rep_asks_who_knows(slack) if "Jo Park" in e["text"]["text"]][:1]
    _press(slack, ALEX, button)
    reply = slack.mock.wait_for("response_url")[-1]
    assert "Asked Dana" not in reply.body["text"] and "Priya" in reply.body["text"]
    slack.drain()
    assert len(slack.mock.calls_to("chat.postMessage")) == 1  # only the who-knows placeholder (then its answer)
