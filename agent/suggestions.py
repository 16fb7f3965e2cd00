"""What to suggest asking the agent, per role, with names from the person's own book (Slack's suggested prompts).

Each prompt is a question the offline router answers as written, so a click works with or without a model. It
is cheap to compute (a few indexed queries, no scan): it runs when someone opens the agent's Messages tab.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.identity import REP_ROLES, Identity
from tools import tool_names_for
from warmintro.store import models as m

MAX_PROMPTS = 4  # Slack shows up to four


@dataclass(frozen=True)
class Prompt:
    title: str  # what the button says
    message: str  # what is sent when it is clicked

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "message": self.message}


def _their_account(session: Session, who: Identity) -> str | None:
    """The name of the account (theirs, for a CSM) with the latest signal: the one most worth a "why not"."""
    q = (select(m.Account.name).join(m.Signal, m.Signal.account_id == m.Account.account_id)
         .group_by(m.Account.account_id, m.Account.name).order_by(func.max(m.Signal.occurred_at).desc()))
    if who.role == "csm" and who.email:
        q = q.where(func.lower(m.Account.csm_email) == who.email)
    return session.scalars(q.limit(1)).first()


def _prospect(session: Session) -> str | None:
    """A company the team is chasing: the latest open opportunity's, else a known person's non-customer company."""
    open_deal = session.scalars(select(m.Opportunity.account_name)
                                .where(m.Opportunity.stage.notin_(("won", "lost")))
                                .order_by(m.Opportunity.created_at.desc()).limit(1)).first()
    if open_deal:
        return open_deal
    customers = select(m.Account.domain)
    return session.scalars(select(m.Person.company).where(m.Person.company.is_not(None),
                                                          m.Person.domain.notin_(customers))
                           .order_by(m.Person.company).limit(1)).first()


def suggested_prompts(session: Session, who: Identity) -> tuple[str, list[Prompt]]:
    """(a title, the prompts) for `who`; no prompts for someone the agent does not serve."""
    tools = set(tool_names_for(who.role, external=who.external))
    if who.role == "unknown" or not tools:
        return "", []
    if who.is_champion:
        return "Your introduction request", [Prompt("What did you ask me?", "What is my introduction request?")]
    prompts: list[Prompt] = []
    if "todays_queue" in tools:
        prompts.append(Prompt("Who should I ask today?", "Who should I ask today?"))
    if "explain_account" in tools:
        account = _their_account(session, who)
        if account:
            prompts.append(Prompt(f"Why not {account}?", f"Why not {account}?"))
    if "who_knows" in tools:
        company = _prospect(session)
        if company:
            prompts.append(Prompt(f"Who knows someone at {company}?", f"Who knows someone at {company}?"))
    if "account_personas" in tools and who.role in ("ae", "revops"):
        account = _their_account(session, who)
        if account:
            prompts.append(Prompt(f"Personas at {account}", f"Personas at {account}"))
    if who.role in REP_ROLES:  # a rep comes for warm paths first
        prompts.sort(key=lambda p: not p.title.startswith("Who knows"))
    title = "Referrals today" if "todays_queue" in tools else "Warm paths to your accounts"
    return title, prompts[:MAX_PROMPTS]
