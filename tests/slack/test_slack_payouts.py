"""`/referrals payouts`: admins see what is due and mark it paid with a click (once); nobody else can."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from slackapp import blocks as b
from warmintro.engines.ledger import create_referral
from warmintro.store import models as m
from warmintro.testing.slack_harness import ALEX, DANA, NOW, Harness, click

pytestmark = pytest.mark.store
ROOT = "U0ROOT"


@pytest.fixture
def due_payout(slack: Harness) -> Harness:
    """An employee's referral (Alex, an AE) won 10 days ago: a one-time fee is due; Root is an admin."""
    store = slack.deps.store
    with store.session() as s:
        s.add(m.TeamMember(email="root@vendor.example", name="Root Admin", role="admin", slack_user_id=ROOT))
    create_referral(store, referrer_email="alex@vendor.example", referee_email="buyer@newco.example",
                    at=NOW - timedelta(days=40))
    with store.session() as s:
        s.add(m.Opportunity(opportunity_id="O-NEW", account_name="Newco", domain="newco.example", stage="won",
                            amount=20_000, created_at=NOW - timedelta(days=35), closed_at=NOW - timedelta(days=10)))
    yield slack
    with store.session() as s:
        s.query(m.PayoutRecord).delete()
        s.query(m.Opportunity).filter(m.Opportunity.opportunity_id == "O-NEW").delete()
        s.query(m.TeamMember).filter(m.TeamMember.email == "root@vendor.example").delete()


def _button(reply_blocks: list[dict]) -> dict:
    return next(blk["accessory"] for blk in reply_blocks if blk.get("accessory", {}).get("action_id") == b.PAYOUT_MARK_PAID)


def test_an_admin_marks_a_due_payout_paid_once(due_payout: Harness):
    slack = due_payout
    slack.command(ROOT, "payouts", name="list")
    [reply] = slack.mock.wait_for("response_url")
    blocks = reply.json_field("blocks")
    text = json.dumps(blocks)
    assert "1,000.00" in text and "alex@vendor.example" in text and "O-NEW" in text
    button = _button(blocks)
    payload = click(ROOT, {"action_id": b.PAYOUT_MARK_PAID, "block_id": "x", "value": button["value"], "type": "button"},
                    container={"type": "message", "message_ts": "1", "channel_id": "C0FIN"},
                    response_url=slack.mock.response_url("paid"))
    slack.action(payload)
    done = slack.mock.wait_for("response_url", where=lambda c: c.path.endswith("/paid"))[-1]
    assert "Marked paid" in done.body["text"] and "1,000.00" in done.body["text"]
    paid_on = re.search(r"Marked paid \((\d{1,2}) ([A-Z][a-z]{2}) (\d{4})\)", done.body["text"])
    assert paid_on and not paid_on.group(1).startswith("0")  # '7 Dec 2026', as every date people read
    slack.action(payload)  # a second click: still one record
    slack.mock.wait_for("response_url", 2, where=lambda c: c.path.endswith("/paid"))
    slack.drain()
    with slack.deps.store.session() as s:
        rows = s.scalars(select(m.PayoutRecord)).all()
        assert len(rows) == 1 and rows[0].paid_by == "root@vendor.example"


@pytest.mark.parametrize("user", [DANA, ALEX, "U0PRIYA", "U0NOBODY"])
def test_only_admins_and_revops_see_or_pay_payouts(due_payout: Harness, user: str):
    slack = due_payout
    resp = slack.command(user, "payouts", name="list")
    slack.drain()
    texts = [resp.text] + [json.dumps(c.body) for c in slack.mock.calls_to("response_url")]
    assert not any("1,000.00" in t for t in texts)
    with slack.deps.store.session() as s:
        assert s.scalars(select(m.PayoutRecord)).all() == []
