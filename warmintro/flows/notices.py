"""Which referral-pipeline messages are due and to whom: the new-referral handoff to its owner, the
first-touch reminder (20 h), the escalation to the referrer's CSM (24 h), closing the loop with the
referrer, and an employee referral's stage updates. No Slack here: the Slack app words and sends them
(slackapp/notices.py).

What is due comes from the ledger engine (`warmintro.engines.ledger.due_notifications`); each message is
claimed by its stable key (`notice:...`, warmintro.claims) before it is sent, so several processes running
the scheduler send each one once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.claims import ClaimKind
from warmintro.store import models as m

NOTICE_PREFIX = ClaimKind.NOTICE.prefix  # never pruned (a reminder must not be re-sent next week)


@dataclass
class NoticeResult:
    sent: list[str] = field(default_factory=list)  # notification keys sent by this call
    skipped: list[str] = field(default_factory=list)  # no Slack user to send to (recorded, not retried)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DueNotice:
    key: str  # the notification's key (claimed as NOTICE_PREFIX + key)
    kind: str
    status: str
    referral: m.Referral
    slack_user: str | None  # the recipient's Slack user id, None when they are not on Slack


def handoff_key(referral_id: str) -> str:
    return ClaimKind.NOTICE.key(referral_id, "handoff")


def display_name(s: Session, email: str | None) -> str:
    if not email:
        return "someone"
    for column, key in ((m.Contact.name, m.Contact.email), (m.TeamMember.name, m.TeamMember.email),
                        (m.Person.name, m.Person.email)):
        name = s.scalars(select(column).where(key == email)).first()
        if name:
            return str(name)
    return email


def slack_user_of(s: Session, email: str | None) -> str | None:
    if not email:
        return None
    member = s.get(m.TeamMember, email)
    if member is not None and member.slack_user_id:
        return member.slack_user_id
    contact = s.scalars(select(m.Contact).where(m.Contact.email == email)).first()
    return contact.slack_user_id if contact is not None else None


def due_notices(s: Session, now: datetime, *, only: str | None = None) -> list[DueNotice]:
    """Every due notice not claimed yet; `only`: just those of one referral."""
    from warmintro.engines.ledger import due_notifications

    sent = set(s.scalars(select(m.SlackEvent.event_id).where(m.SlackEvent.event_id.like(NOTICE_PREFIX + "%"))))
    out: list[DueNotice] = []
    for n in due_notifications(s, now, sent={k[len(NOTICE_PREFIX):] for k in sent}):
        if only is not None and n.referral_id != only:
            continue
        referral = s.get(m.Referral, n.referral_id)
        if referral is None:
            continue
        out.append(DueNotice(n.key, n.kind, n.status, referral, slack_user_of(s, n.to_email)))
    return out


def summary(result: NoticeResult) -> dict[str, Any]:
    return {"sent": len(result.sent), "skipped": len(result.skipped), "failed": len(result.failed)}
