"""`/referrals`: help and today rendered here; the rest routed to the agent, answered via response_url."""

from __future__ import annotations

import json
import re

import pytest

from slackapp import blocks as b
from slackapp.listeners.commands import parse
from warmintro.testing.slack_harness import ALEX, DANA, PRIYA, Harness

pytestmark = pytest.mark.store


def test_parse():
    assert parse("") == ("help", "")
    assert parse("Who-Knows  Stripe Inc") == ("who-knows", "Stripe Inc")
    assert parse("today") == ("today", "")
    assert parse("dance") == ("unknown", "dance")


def test_help_is_in_the_ack(slack: Harness):
    resp = slack.command(DANA, "help")
    assert resp.status_code == 200
    assert "/referrals today" in resp.text
    slack.drain()
    assert slack.agent.calls == []


def test_today_lists_the_csm_queue(slack: Harness):
    assert slack.command(DANA, "today").status_code == 200
    [reply] = slack.mock.wait_for("response_url")
    assert reply.body["response_type"] == "ephemeral"
    assert "Priya Natarajan" in reply.body["text"] and "Mei" not in reply.body["text"]
    assert "home_send_ask" in json.dumps(reply.body["blocks"])


def test_today_for_a_rep_is_a_polite_pointer(slack: Harness):
    slack.command(ALEX, "today")
    [reply] = slack.mock.wait_for("response_url")
    assert "CSM's queue" in reply.body["text"]


@pytest.mark.parametrize("text, routed", [
    ("who-knows Stripe", "who knows Stripe"),
    ("why Northwind", "why Northwind"),
])
def test_other_subcommands_go_to_the_agent(slack: Harness, text: str, routed: str):
    resp = slack.command(ALEX, text)
    assert resp.status_code == 200 and resp.text == "Working on it…"  # acked at once with something useful
    [reply] = slack.mock.wait_for("response_url")
    assert "what I found" in reply.body["text"]
    assert reply.body["replace_original"] is True  # ... which the answer replaces
    [(who, thread_id, sent)] = slack.agent.calls
    assert sent == routed and who.role == "ae" and thread_id == f"C0SALES:cmd:{ALEX}"


def test_missing_argument_is_answered_in_the_ack(slack: Harness):
    resp = slack.command(ALEX, "who-knows")
    assert "needs a company" in resp.text
    slack.drain()
    assert slack.agent.calls == []


def test_unknown_user_is_refused_in_the_ack(slack: Harness):
    resp = slack.command("U0NOBODY", "today")
    assert "don't know you" in resp.text
    slack.drain()
    assert slack.mock.calls_to("response_url") == [] and slack.agent.calls == []


def test_champion_cannot_read_the_queue(slack: Harness):
    slack.command(PRIYA, "today")
    [reply] = slack.mock.wait_for("response_url")
    assert "Priya Natarajan" not in reply.body["text"] and "home_send_ask" not in json.dumps(reply.body)


def test_report_summary_privately_and_the_chart_in_a_dm(slack: Harness):
    slack.command(DANA, "report")
    [reply] = slack.mock.wait_for("response_url")
    assert reply.body["response_type"] == "ephemeral"
    assert "Referral program" in reply.body["text"] and "Funnel" in reply.body["text"]
    [upload] = slack.mock.wait_for("file_upload")
    assert upload.body["png"] is True and upload.body["bytes"] > 10_000  # a real chart, not an empty file
    [done] = slack.mock.wait_for("files.completeUploadExternal")
    assert done.body["channel_id"] == "D0DANA"
    assert slack.agent.calls == []


@pytest.mark.parametrize("user", [PRIYA, "U0NOBODY"])
def test_champions_and_strangers_get_no_report(slack: Harness, user: str):
    resp = slack.command(user, "report")
    slack.drain()
    texts = [resp.text] + [c.body.get("text", "") for c in slack.mock.calls_to("response_url")]
    assert not any("Referral program" in t for t in texts)
    assert slack.mock.calls_to("file_upload") == [] and slack.mock.calls_to("files.getUploadURLExternal") == []


def test_draft_answers_a_csm_with_the_ask_and_the_notes(slack: Harness):
    resp = slack.command(DANA, "draft priya@northwind.example")
    assert resp.status_code == 200 and resp.text == b.WORKING_TEXT  # acknowledged at once; the drafts follow
    [reply] = slack.mock.wait_for("response_url")
    assert reply.body["response_type"] == "ephemeral", reply.body
    assert reply.body.get("replace_original") is True  # in the place of "Working on it…"
    assert "blocks" in reply.body, reply.body
    blocks = json.dumps(reply.body["blocks"], ensure_ascii=False)
    assert "The ask to Priya Natarajan" in blocks and "Hi Priya," in blocks and "who in your network" in blocks
    assert "Their note to " in blocks and "Open this note in an email" in blocks and "mailto:" in blocks
    assert "Dana Whitfield" in blocks  # the CSM is named in full in the notes
    assert not re.search(r"\d+ (?:emails?|meetings?)\b", blocks)  # what the champion will read has no counts
    assert slack.agent.calls == []  # the drafting code itself, not a model's paraphrase


def test_draft_is_the_csms_command(slack: Harness):
    slack.command(ALEX, "draft priya@northwind.example")
    [reply] = slack.mock.wait_for("response_url")
    assert "Hi Priya" not in json.dumps(reply.body) and "sorry" in reply.body["text"].lower()


def test_draft_for_someone_unknown_says_so(slack: Harness):
    slack.command(DANA, "draft nobody@nowhere.example")
    [reply] = slack.mock.wait_for("response_url")
    assert "can't find a customer contact nobody@nowhere.example" in reply.body["text"]
