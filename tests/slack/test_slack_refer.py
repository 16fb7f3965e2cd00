"""The employee program in Slack (issue 13): `/refer name, email, company, context`, the referrals channel,
and a DM to the submitting employee at every stage (routed, first touch, meeting, opportunity, won / lost),
each sent once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from slackapp.listeners.refer import parse_submission
from slackapp.notices import send_due_notices
from warmintro.engines.ledger import update_referral
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import TEAM_ID, MockSlackAPI
from warmintro.testing.slack_harness import ALEX, DANA, NOW, PRIYA, Harness, form_body

pytestmark = pytest.mark.store
H = timedelta(hours=1)
CHANNEL = "C0REFER"


def refer(h: Harness, user: str, text: str, name: str = "refer"):
    return h.post(form_body({
        "token": "legacy", "team_id": TEAM_ID, "team_domain": "vendor", "channel_id": "C0SALES",
        "channel_name": "sales", "user_id": user, "user_name": user.lower(), "command": "/refer", "text": text,
        "api_app_id": "A0APP", "response_url": h.mock.response_url(name), "trigger_id": "1.2.3",
    }), content_type="application/x-www-form-urlencoded")


def dms_to(mock: MockSlackAPI, channel: str) -> list[str]:
    return [c.body["text"] for c in mock.calls_to("chat.postMessage") if c.body.get("channel") == channel]


def the_referral(store: Store, referee: str) -> m.Referral:
    with store.session() as s:
        r = s.scalars(select(m.Referral).where(m.Referral.referee_email == referee)).one()
        s.expunge(r)
        return r


def test_parse_submission():
    sub = parse_submission("Jo Park, <mailto:Jo@Acme.example|Jo@Acme.example>, Acme Freight, met at a fair, "
                           "runs 40 trucks")
    assert sub is not None and (sub.name, sub.email, sub.company, sub.context) == (
        "Jo Park", "jo@acme.example", "Acme Freight", "met at a fair, runs 40 trucks")
    assert parse_submission("Jo Park, jo@acme.example") is not None
    assert parse_submission("hello everyone") is None
    assert parse_submission("Jo Park, not-an-email, Acme") is None
    assert parse_submission(", jo@acme.example") is None


def test_an_employee_hears_about_every_stage_once(slack: Harness):
    store, deps = slack.deps.store, slack.deps
    resp = refer(slack, DANA, "Jo Park, jo@acme-freight.example, Acme Freight, we worked together at Harbor")
    assert resp.status_code == 200 and "Logging your referral" in resp.text
    [reply] = slack.mock.wait_for("response_url")  # the lazy listener's last step: the DMs went before it
    r = the_referral(store, "jo@acme-freight.example")
    assert (r.program, r.referrer_email, r.owner_email) == ("employee", "dana@vendor.example", "alex@vendor.example")
    assert r.extra == {"context": "we worked together at Harbor"}
    assert "routed to alex@vendor.example" in reply.body["text"] and reply.body["response_type"] == "ephemeral"
    assert any("New referral for you" in t for t in dms_to(slack.mock, "D0ALEX"))  # the owner's handoff
    [routed] = dms_to(slack.mock, "D0DANA")
    assert "Your referral of Jo Park (Acme Freight) is with Alex Romero" in routed

    client = deps.client
    assert client is not None
    for i, (status, words) in enumerate((("intro_sent", "has reached out to Jo Park"),
                                         ("meeting", "had a first meeting"),
                                         ("opportunity", "is now a real opportunity"),
                                         ("won", "signed!")), start=1):
        at = NOW + i * H
        update_referral(store, r.referral_id, status=status, at=at, actor="alex@vendor.example")
        sent = send_due_notices(deps, at, client)
        assert [k.rsplit(":", 1)[1] for k in sent.sent] == [
            {"intro_sent": "first_touch"}.get(status, status)], (status, sent)
        assert words in dms_to(slack.mock, "D0DANA")[-1]
        assert send_due_notices(deps, at, client).sent == []  # once
    assert len(dms_to(slack.mock, "D0DANA")) == 5
    assert not any("Thank you again" in t for t in dms_to(slack.mock, "D0DANA"))  # no customer close-the-loop too
    # the same person again: no second referral
    refer(slack, DANA, "Jo Park, jo@acme-freight.example, Acme Freight", name="again")
    [again] = slack.mock.wait_for("response_url", where=lambda c: "again" in c.path)
    assert "already referred Jo Park" in again.body["text"]


def test_a_lost_deal_is_reported_too(slack: Harness):
    store, deps = slack.deps.store, slack.deps
    refer(slack, DANA, "Lee Fox, lee@roadrunner.example, Roadrunner")
    slack.mock.wait_for("response_url")
    slack.drain()
    r = the_referral(store, "lee@roadrunner.example")
    update_referral(store, r.referral_id, status="lost", at=NOW + 2 * H)
    assert deps.client is not None
    sent = send_due_notices(deps, NOW + 2 * H, deps.client)
    assert [k.rsplit(":", 1)[1] for k in sent.sent] == ["lost"]
    assert "decided not to go ahead" in dms_to(slack.mock, "D0DANA")[-1]


def test_refer_is_for_the_vendors_team(slack: Harness):
    resp = refer(slack, PRIYA, "Jo Park, jo@acme-freight.example, Acme Freight")
    assert "for our own team's referrals" in resp.text
    assert "name, email, company, context" in refer(slack, ALEX, "").text
    assert "at least a name and an email" in refer(slack, ALEX, "Jo Park").text
    slack.drain()
    with slack.deps.store.session() as s:
        assert s.scalars(select(m.Referral)).all() == []


def test_a_blocked_referral_is_explained(slack: Harness):
    refer(slack, DANA, "Priya, priya@northwind.example, Northwind")
    [reply] = slack.mock.wait_for("response_url")
    assert "can't log that one (customer)" in reply.body["text"]


def test_refer_suggest_answers_from_employment_history(slack: Harness):
    refer(slack, DANA, "suggest")
    [reply] = slack.mock.wait_for("response_url")
    assert "no former colleagues" in reply.body["text"]  # the small workspace has no employment.csv


@pytest.fixture
def referrals_channel(workspace_store: Store) -> Iterator[str]:
    with workspace_store.session() as s:
        s.add(m.ProgramSetting(section="employees", value={"referrals_channel": CHANNEL}))
    try:
        yield CHANNEL
    finally:
        with workspace_store.session() as s:
            s.execute(delete(m.ProgramSetting).where(m.ProgramSetting.section == "employees"))


def test_a_message_in_the_referrals_channel_is_picked_up(referrals_channel: str, slack: Harness):
    base = {"type": "message", "channel": referrals_channel, "channel_type": "channel", "team": TEAM_ID}
    slack.event({**base, "user": DANA, "ts": "1764061200.000200",
                 "text": "Lee Fox, <mailto:lee@roadrunner.example|lee@roadrunner.example>, Roadrunner, ex-colleague"})
    slack.event({**base, "user": DANA, "ts": "1764061200.000300", "text": "morning all"})
    slack.event({"type": "message", "channel": "D0ALEX", "channel_type": "im", "user": ALEX,
                 "ts": "1764061200.000400", "text": "who knows someone at Stripe?"})
    slack.drain()
    r = the_referral(slack.deps.store, "lee@roadrunner.example")
    assert (r.program, r.referee_name, r.referee_company) == ("employee", "Lee Fox", "Roadrunner")
    [thread] = [c for c in slack.mock.calls_to("chat.postMessage") if c.body.get("channel") == referrals_channel]
    assert thread.body["thread_ts"] == "1764061200.000200" and "is logged as" in thread.body["text"]
    assert any("Your referral of Lee Fox" in t for t in dms_to(slack.mock, "D0DANA"))
    assert [text for _, _, text in slack.agent.calls] == ["who knows someone at Stripe?"]  # DMs still reach the agent
