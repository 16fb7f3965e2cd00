"""Referral pipeline messages in Slack: the new-referral handoff to its owner (with an outreach opener that
names the referrer), the first-touch reminder (20 h), the escalation to the referrer's CSM (24 h), and
closing the loop with the referrer (meeting, opportunity, won; at the latest after 30 days), and for an
employee's referral a DM to the submitter at every stage (routed, first touch, meeting, opportunity, won,
lost: the `employee_stage` notifications; the seeds name opacity as what kills employee programs).

What is due, and to whom, comes from `warmintro.flows.notices` (the ledger engine's due notifications); each
message is claimed by its stable key in slack_events before it is sent (the insert that wins sends), so several
processes running the scheduler send each one once. A failed send gives the claim back for the next run.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from slackapp import blocks as b
from slackapp.deps import Deps
from warmintro.claims import claim, release
from warmintro.flows.notices import (
    NOTICE_PREFIX,
    NoticeResult,
    display_name,
    due_notices,
    handoff_key,
    slack_user_of,
)
from warmintro.store import models as m

log = logging.getLogger(__name__)

STAGE_WORDS = {"meeting": "had a first meeting", "opportunity": "is now a real opportunity", "won": "signed",
               "lost": "decided not to go ahead this time"}


def outreach_opener(referee_name: str, referrer_name: str, referrer_company: str | None) -> str:
    """The owner's first line to the referee: it names who introduced them (the warm part of a warm intro)."""
    first = (referee_name or "there").split(" ")[0]
    at = f" at {referrer_company}" if referrer_company else ""
    return (f"Hi {first}, {referrer_name}{at} suggested we talk and thought what we did for their team could help "
            f"yours. Would 20 minutes next week work?")


def handoff_text(s: Session, referral: m.Referral) -> str:
    referrer = display_name(s, referral.referrer_email)
    contact = s.scalars(select(m.Contact).where(m.Contact.email == referral.referrer_email)).first()
    account = s.get(m.Account, contact.account_id) if contact is not None else None
    referee = referral.referee_name or display_name(s, referral.referee_email)
    company = referral.referee_company or referral.referee_domain
    due = referral.sla_due_at.strftime("%a %d %b %H:%M UTC") if referral.sla_due_at else "within 24 h"
    return (f":sparkles: *New referral for you*: {b.escape(referee)} ({b.escape(company)}, {b.escape(referral.referee_email)}), "
            f"introduced by {b.escape(referrer)}{' at ' + b.escape(account.name) if account else ''}. "
            f"First touch due by {due}.\n>{b.escape(outreach_opener(referee, referrer, account.name if account else None))}")


def employee_stage_text(referee: str, company: str | None, owner: str, stage: str) -> str:
    """The submitter's update at one stage of their referral (already-escaped names)."""
    at = f" ({company})" if company else ""
    if stage == "routed":
        return (f":inbox_tray: Your referral of {referee}{at} is with {owner}, who will reach out within 24 h. "
                "I'll tell you at every step.")
    if stage == "first_touch":
        return f":envelope: {owner} has reached out to {referee}{at}."
    if stage == "meeting":
        return f":handshake: {referee}{at} had a first meeting with {owner}."
    if stage == "opportunity":
        return f":chart_with_upwards_trend: {referee}{at} is now a real opportunity."
    if stage == "won":
        return f":tada: {referee}{at} signed! Thank you: your referral bonus is due now that the deal closed."
    if stage == "lost":
        return (f":pray: {referee}{at} decided not to go ahead this time. Thank you for the intro; it still "
                "counts, and the next one might be it.")
    return f"An update on your referral of {referee}{at}: {b.escape(stage)}."


def notice_text(s: Session, kind: str, referral: m.Referral, status: str) -> str:
    referee = b.escape(referral.referee_name or display_name(s, referral.referee_email))
    referrer = b.escape(display_name(s, referral.referrer_email))
    owner = b.escape(display_name(s, referral.owner_email))
    if kind == "employee_stage":
        company = referral.referee_company or referral.referee_domain
        return employee_stage_text(referee, b.escape(company) if company else None, owner, status)
    if kind == "first_touch_reminder":
        return (f":alarm_clock: Reminder: {referee} (referred by {referrer}) has not heard from us yet; first touch "
                "is due within 4 h. Reply to them and log it with `warmintro referrals update`.")
    if kind == "first_touch_escalation":
        return (f":rotating_light: {referee}, referred by your champion {referrer}, has had no first touch within "
                f"24 h (owner: {owner}). Please nudge the owner or reach out yourself.")
    first = referrer.split(" ")[0]
    news = STAGE_WORDS.get(status)
    if news:
        return f":pray: Thank you again, {first}! An update on your intro to {referee}: they {news}."
    return (f":pray: Thank you again for introducing {referee}, {first}. Our team has been in touch; we'll tell you "
            "as soon as there is news.")


def send_handoff(deps: Deps, client: WebClient, referral_id: str) -> bool:
    """DM the owner of a new referral once (claimed by key): who, from whom, the SLA, and an opener."""
    with deps.store.session() as s:
        referral = s.get(m.Referral, referral_id)
        if referral is None or not referral.owner_email:
            return False
        slack_id = slack_user_of(s, referral.owner_email)
        text = handoff_text(s, referral)
    key = handoff_key(referral_id)
    if not slack_id or not claim(deps.store, key, deps.now()):
        return False
    try:
        channel = client.conversations_open(users=slack_id)["channel"]["id"]
        client.chat_postMessage(channel=channel, text=text)
        return True
    except Exception:
        release(deps.store, key)
        raise


def send_due_notices(deps: Deps, now: datetime, client: WebClient, *, only: str | None = None) -> NoticeResult:
    """Send every due reminder, escalation, close-the-loop and employee-stage message, each once across
    processes; `only`: just those of one referral (e.g. right after it was submitted)."""
    out = NoticeResult()
    with deps.store.session() as s:
        plans = [(n.key, n.slack_user, notice_text(s, n.kind, n.referral, n.status))
                 for n in due_notices(s, now, only=only)]
    for key, slack_id, text in plans:
        claimed = NOTICE_PREFIX + key
        if not claim(deps.store, claimed, now):
            continue  # another process sent it
        if not slack_id:
            out.skipped.append(key)  # nobody on Slack to tell: recorded as handled, never retried
            continue
        try:
            channel = client.conversations_open(users=slack_id)["channel"]["id"]
            client.chat_postMessage(channel=channel, text=text)
            out.sent.append(key)
        except SlackApiError as exc:
            release(deps.store, claimed)
            log.warning("referral notice failed", extra={"fields": {"error": exc.response.get("error")}})
            out.failed.append(key)
        except Exception:
            release(deps.store, claimed)
            log.exception("referral notice failed")
            out.failed.append(key)
    return out


def notify_csm(deps: Deps, client: WebClient, asked_by: str | None, text: str) -> None:
    """One line by DM to the CSM who sent an ask (a champion answered it); a failed DM is logged, not raised."""
    if not asked_by:
        return
    with deps.store.session() as s:
        member = s.get(m.TeamMember, asked_by)
        slack_id = member.slack_user_id if member is not None else None
    if slack_id:
        try:
            channel = client.conversations_open(users=slack_id)["channel"]["id"]
            client.chat_postMessage(channel=channel, text=text, blocks=None)
        except SlackApiError as exc:
            log.warning("could not notify the CSM", extra={"fields": {"error": exc.response.get("error")}})
