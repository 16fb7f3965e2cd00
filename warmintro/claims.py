"""Claims: "only the first one wins" decisions across processes, as rows of `slack_events`.

`claim(store, key, at)` inserts `key` (a primary key) and says whether this caller was first; `release`
gives a claim back when the work it guarded failed and may be tried again. Every surface uses it: Slack
event dedupe, the daily digest per CSM per day, a champion's one answer to an ask, referral notices, hook
cards and identical hook deliveries. Every key starts with its kind (`ClaimKind`), the one registry of them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from warmintro.store import models as m
from warmintro.store.db import Store

log = logging.getLogger(__name__)

KEY_MAX = 128  # slack_events.event_id is String(128)


class ClaimKind(StrEnum):
    """Every kind of claim key, `{kind}:{part}:{part}...`, and who takes it."""

    EVENT = "event"  # a Slack event id, taken by the dedupe middleware (pruned after 3 days)
    DIGEST = "digest"  # a CSM's daily digest on one UTC day (pruned after 3 days)
    ANSWER = "answer"  # a champion's one answer to an ask, on any surface (kept)
    NOTIFY = "notify"  # the CSM's line about a champion's answer, per job (kept)
    NOTICE = "notice"  # a referral notice or handoff (kept: a reminder must not be re-sent next week)
    HOOK_CARD = "hookask"  # the queue card for an ask a signal hook opened (kept)
    HOOK_EVAL = "hookeval"  # the durable evaluation job of a hook batch, by a digest of its trigger ids (kept)
    HOOK_BODY = "hookbody"  # an identical signed usage delivery (forgotten after the hooks' tolerance window)
    INTRO = "intro"  # a rep's "Request intro" for one connector and target (kept)
    DECIDE = "decide"  # an agent write action approved or cancelled (kept)

    @property
    def prefix(self) -> str:
        return f"{self.value}:"

    def key(self, *parts: object) -> str:
        return ":".join([self.value, *(str(p) for p in parts)])


PRUNED = (ClaimKind.EVENT, ClaimKind.DIGEST)  # only matter for a while; prune_events forgets them


def claim(store: Store, key: str, at: datetime) -> bool:
    """Insert `key` into slack_events; True if this caller is the first (it now owns the key)."""
    key = key[:KEY_MAX]
    with store.session() as s:
        dialect = s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # RETURNING gives a row only when this insert won (rowcount is unreliable for ORM-enabled inserts)
        won = s.execute(insert(m.SlackEvent).values(event_id=key, received_at=at).on_conflict_do_nothing()
                        .returning(m.SlackEvent.event_id)).first()
        return won is not None


def release(store: Store, key: str) -> None:
    """Give a claim back (the work it guarded failed and may be tried again)."""
    try:
        with store.session() as s:
            s.execute(delete(m.SlackEvent).where(m.SlackEvent.event_id == key[:KEY_MAX]))
    except SQLAlchemyError:
        log.exception("could not release claim")


def prune_events(store: Store, older_than: datetime) -> int:
    """Forget event ids and digest claims received before `older_than` (Slack retries for at most ~1 hour;
    a digest claim only matters on its own day). Other claims (a champion's answer) are kept."""
    with store.session() as s:
        result = s.execute(delete(m.SlackEvent).where(
            m.SlackEvent.received_at < older_than,
            or_(*(m.SlackEvent.event_id.like(kind.prefix + "%") for kind in PRUNED))))
        return int(getattr(result, "rowcount", 0) or 0)
