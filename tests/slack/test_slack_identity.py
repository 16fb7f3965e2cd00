"""Who is acting: team.csv by Slack id, else users.info; Slack Connect users are external -> champions only."""

from __future__ import annotations

import json

import pytest

from warmintro.testing.slack_harness import DANA, Harness, mention

pytestmark = pytest.mark.store


def test_external_user_with_a_contact_email_is_treated_as_champion(slack: Harness):
    slack.mock.add_user("U0SAMEXT", "Sam@Bluebird.example", team_id="T0BLUEBIRD")
    slack.event(mention("U0SAMEXT", user_team="T0BLUEBIRD"))
    slack.mock.wait_for("chat.update")  # the answer, in the placeholder's place
    [(who, _, _)] = slack.agent.calls
    assert who.role == "champion" and who.external and who.email == "sam@bluebird.example"
    assert who.account_id == "B" and not who.is_vendor


def test_external_user_with_a_team_email_is_never_a_vendor(slack: Harness):
    # someone in another organisation whose Slack profile claims a CSM's address
    slack.mock.add_user("U0SPOOF", "dana@vendor.example", team_id="T0EVIL")
    slack.event(mention("U0SPOOF"))
    [call] = slack.mock.wait_for("chat.postEphemeral")
    assert "don't know you" in call.body["text"]
    slack.drain()
    assert slack.agent.calls == []


def test_stranger_flag_makes_a_user_external(slack: Harness):
    slack.mock.add_user("U0STRANGE", "omar@vendor.example", team_id="T0VENDOR", is_stranger=True)
    slack.event({"type": "app_home_opened", "user": "U0STRANGE", "channel": "D1", "tab": "home", "event_ts": "1"})
    view = slack.mock.wait_for("views.publish")[-1].json_field("view")
    assert "Referral asks due" not in json.dumps(view)


def test_team_member_by_slack_id_needs_no_lookup(slack: Harness):
    slack.event(mention(DANA))
    slack.mock.wait_for("chat.update")  # the answer, in the placeholder's place
    assert slack.agent.calls[0][0].role == "csm"
    assert slack.mock.calls_to("users.info") == []


def test_a_foreign_team_hint_is_checked_with_users_info(slack: Harness):
    # the payload says another team; users.info says this workspace (e.g. an Enterprise Grid sibling)
    slack.event(mention(DANA, user_team="T0SIBLING"))
    slack.mock.wait_for("chat.update")  # the answer, in the placeholder's place
    assert slack.agent.calls[0][0].role == "csm" and not slack.agent.calls[0][0].external
    assert slack.mock.calls_to("users.info")


def test_member_matched_by_email_when_team_csv_has_no_slack_id(slack: Harness):
    slack.mock.add_user("U0NEWCSM", "OMAR@vendor.example")
    slack.event(mention("U0NEWCSM"))
    slack.mock.wait_for("chat.update")  # the answer, in the placeholder's place
    who = slack.agent.calls[0][0]
    assert who.role == "csm" and who.email == "omar@vendor.example"
    # users.info answers are cached: a second request does not look the user up again
    slack.event(mention("U0NEWCSM", ts="1764061299.000100"))
    slack.mock.wait_for("chat.update", 2)
    assert len(slack.mock.calls_to("users.info")) == 1
