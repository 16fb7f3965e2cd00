"""Feedback on the agent's answers: who rated which answer, up or down (Slack's feedback buttons).

One vote per person per answer; a second click changes it. Counted in the program report (`agent_feedback`)
and on /metrics (`warmintro_agent_feedback_total` by vote and how the answer was written).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warmintro import metrics
from warmintro.errors import WarmintroError
from warmintro.store import models as m
from warmintro.store.db import Store

VOTES = ("up", "down")
Outcome = Literal["recorded", "changed", "same"]


def record_feedback(store: Store, *, answer_id: str, user_id: str, role: str, vote: str, at: datetime,
                    email: str | None = None, thread_id: str | None = None, mode: str | None = None,
                    intent: str | None = None) -> Outcome:
    """Record `user_id`'s vote on `answer_id`: "recorded" (first vote), "changed" or "same" (a repeat click)."""
    if vote not in VOTES:
        raise WarmintroError(f"a vote is up or down, not {vote!r}")
    for _ in range(2):  # a double click racing itself: the loser finds the winner's row and compares
        try:
            with store.session(write=True) as s:
                row = s.scalars(select(m.AgentFeedback).where(m.AgentFeedback.answer_id == answer_id,
                                                              m.AgentFeedback.user_id == user_id)).first()
                if row is not None and row.vote == vote:
                    return "same"
                if row is not None:
                    row.vote, row.at = vote, at
                    mode = mode or row.mode
                    outcome: Outcome = "changed"
                else:
                    s.add(m.AgentFeedback(answer_id=answer_id[:256], thread_id=(thread_id or "")[:256] or None,
                                          user_id=user_id[:64], email=email, role=role[:32], vote=vote,
                                          mode=(mode or None), intent=(intent or "")[:64] or None, at=at))
                    outcome = "recorded"
        except IntegrityError:
            continue
        metrics.count("agent_feedback", vote=vote, mode=mode or "unknown")
        return outcome
    return "same"


def feedback_summary(session: Session, as_of: datetime | None = None) -> dict[str, Any]:
    """Votes up to `as_of`: answers rated, up and down, the share up, and the same split by how the answer was
    written (model or offline)."""
    q = select(m.AgentFeedback.mode, m.AgentFeedback.vote, func.count()).group_by(m.AgentFeedback.mode,
                                                                                 m.AgentFeedback.vote)
    if as_of is not None:
        q = q.where(m.AgentFeedback.at <= as_of)
    by_mode: dict[str, dict[str, int]] = {}
    for mode, vote, n in session.execute(q):
        by_mode.setdefault(mode or "unknown", {"up": 0, "down": 0})[vote] = int(n)
    up = sum(v["up"] for v in by_mode.values())
    down = sum(v["down"] for v in by_mode.values())
    answers_q = select(func.count(func.distinct(m.AgentFeedback.answer_id)))
    if as_of is not None:
        answers_q = answers_q.where(m.AgentFeedback.at <= as_of)
    return {"answers_rated": int(session.scalar(answers_q) or 0), "up": up, "down": down,
            "share_up": round(up / (up + down), 3) if up + down else None, "by_mode": by_mode}
