"""`/referrals payouts` and its Mark paid buttons: the amounts due, for the people who pay them (team.csv
admins). A click records the payout as paid in the store, once (`warmintro.engines.rewards.mark_paid`, the
same code as `warmintro payouts mark-paid`)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.listeners.common import guarded, identity_of, refusal_for, tell
from warmintro.engines.timeutil import human_day, utc

log = logging.getLogger(__name__)

PAYOUT_ROLES = ("admin",)  # as `warmintro payouts mark-paid`: only a team.csv admin
MAX_ROWS = 20  # a message holds 50 blocks: a header, then two per payout


def may_pay(who: Identity) -> bool:
    return who.role in PAYOUT_ROLES and who.is_vendor and bool(who.email)


def show_due(deps: Deps, who: Identity, respond: Respond) -> None:
    from warmintro.engines.rewards import payouts

    if not may_pay(who):
        respond(text=refusal_for(who), response_type="ephemeral")
        return
    with deps.store.session() as s:
        due = [p.to_json() for p in payouts(s, deps.now()) if p.status == "due"]
    respond(text=f"{len(due)} payout{'s' if len(due) != 1 else ''} due", response_type="ephemeral",
            blocks=b.payouts_due_blocks(due[:MAX_ROWS], total=len(due)))


def mark_paid_clicked(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, value: str | None) -> None:
    from warmintro.engines.rewards import mark_paid
    from warmintro.errors import WarmintroError

    if not may_pay(who):
        tell(deps, client, body, who, refusal_for(who))
        return
    payout_id = b.decode_value(value).get("id")
    if not payout_id:
        tell(deps, client, body, who, "That button is out of date; run `/referrals payouts` again.")
        return
    try:
        with deps.store.session(write=True) as s:
            paid = mark_paid(s, str(payout_id), as_of=deps.now(), by=str(who.email), reference="slack")
    except WarmintroError as exc:
        tell(deps, client, body, who, f"Not marked paid: {b.escape(str(exc))}")
        return
    when = human_day(utc(paid.paid_at)) if paid.paid_at else "today"
    tell(deps, client, body, who, f":white_check_mark: Marked paid ({when}): {paid.amount:,.2f} to "
                                  f"{b.escape(paid.recipient_email or paid.referrer_email)} ({b.escape(paid.kind)}).")


def register(app: App, deps: Deps) -> None:
    def ack_action(ack: Ack) -> None:
        ack()

    def _failed(body: dict[str, Any], client: WebClient, context: BoltContext, **_: Any) -> None:
        tell(deps, client, body, identity_of(context), b.ERROR_TEXT)

    @guarded("payout_mark_paid", _failed)
    def on_mark_paid(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        mark_paid_clicked(deps, client, body, identity_of(context), action.get("value"))

    app.action(b.PAYOUT_MARK_PAID)(ack=ack_action, lazy=[on_mark_paid])
